"""Help text: flags show no type, choices are listed, every command ends with examples."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nnrun.cli import COMMANDS, app

runner = CliRunner()


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], prog_name="nnrun", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [(), *[(name,) for name in COMMANDS]])
def test_no_option_shows_a_bool_type(command):
    text = help_text(*command)
    assert "<bool>" not in text
    assert re.search(r"--help\s+Show this message", text)


def test_choices_are_shown_for_format_split_and_executor():
    assert "<text|dot|mermaid>" in help_text("graph")
    assert "<test|val|train>" in help_text("eval")
    assert "<process|dask>" in help_text("sweep")
    result = runner.invoke(app, ["graph", "x.yaml", "--format", "svg"])
    assert result.exit_code == 2 and "'svg' is not one of" in result.output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_help_ends_with_examples_of_itself(name):
    doc = inspect.getdoc(COMMANDS[name])
    last = doc.split("\n\n")[-1].splitlines()
    assert last[0] == "Examples:"
    assert 1 <= len(last) - 1 <= 2
    assert all(line.strip().startswith(f"nnrun {name}") for line in last[1:])
    shown = help_text(name)
    assert all(line.strip() in shown for line in last[1:])


def test_top_level_help_offers_completion_install_and_examples():
    text = help_text()
    assert "--install-completion" in text and "--show-completion" in text
    assert "nnrun train configs/quickstart.yaml" in text


HELP_IN_A_FRESH_PROCESS = """
import contextlib, io, sys
from nnrun.cli import app, common
{setup}
shown = io.StringIO()
with contextlib.redirect_stdout(shown):
    try:
        app(["train", "--help"], prog_name="nnrun")
    except SystemExit:
        pass
print("Usage: nnrun train" in shown.getvalue())
heavy = ("numpy", "nnrun.autograd", "rich.markdown", "rich.traceback", "pygments")
print(sorted(m for m in sys.modules if m in heavy))
"""


def help_in_a_fresh_process(setup: str = "") -> list[str]:
    code = HELP_IN_A_FRESH_PROCESS.format(setup=setup)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\n")[:2]


def test_help_loads_neither_numpy_nor_the_engine_nor_rich_markdown():
    # Start-up time of `nnrun --help`: NumPy and the engine load only when a command runs,
    # Markdown and tracebacks (pygments) only if typer's help renderer uses them.
    assert help_in_a_fresh_process() == ["True", "[]"]


def test_help_renders_with_typer_importing_everything_if_it_needs_more():
    setup = "common._UNUSED_BY_HELP = {'rich.markdown': 'NotWhatTyperTakes'}"
    shown, loaded = help_in_a_fresh_process(setup)
    assert shown == "True" and "rich.markdown" in loaded


def test_nnrun_still_exports_the_engine_on_first_use():
    import nnrun

    assert nnrun.Tensor.__name__ == "Tensor" and callable(nnrun.no_grad)
    assert "compile_step" in dir(nnrun)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = nnrun.nope
