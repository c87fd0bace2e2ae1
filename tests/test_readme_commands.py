"""The command examples of the README's Quick start, docs/cli.md and docs/sweeps.md run as
written, in a fresh working directory that holds
only the shipped `configs/` and `datasets/` (the files they name are in
`datasets/examples/`). Shell pipes, `&&` and `>` are interpreted here; commands that need
other programs (pip, Graphviz's dot, a Dask scheduler) are left out. The examples use the
tensorboard, mlflow, export and plot extras: without one, the test skips and names it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from tests.extras import need

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CLI = (ROOT / "docs" / "cli.md").read_text()
SWEEPS = (ROOT / "docs" / "sweeps.md").read_text()
runner = CliRunner()
SKIP = ("pip", "python", "ruff", "dot")


def section(text: str, title: str) -> str:
    """The `## title` section of a Markdown text, up to the next `## ` heading."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def commands(text: str) -> list[list[list[str]]]:
    """Each example line of the ```bash blocks as its `&&`-joined steps, each step a list
    of piped commands (words)."""
    lines = [
        line
        for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]
    parsed = []
    for line in lines:
        words = shlex.split(line, comments=True)
        steps, step, piped = [], [], []
        for word in [*words, "&&"]:
            if word in ("&&", "|"):
                piped.append(step)
                step = []
                if word == "&&":
                    steps.append(piped)
                    piped = []
            else:
                step.append(word)
        parsed.append(steps)
    return parsed


def run_line(steps: list[list[list[str]]], cwd: Path) -> None:
    for piped in steps:
        text: str | None = None
        for words in piped:
            if words[0] in SKIP or "dask" in words:
                break
            if words[0] == "head":
                count = int(words[1].lstrip("-"))
                text = "".join((cwd / words[2]).read_text().splitlines(True)[:count])
                continue
            assert words[0] == "nnrun", words
            args, target = words[1:], None
            if ">" in args:
                args, target = args[: args.index(">")], args[args.index(">") + 1]
            result = runner.invoke(app, args, input=text)
            assert result.exit_code == 0, f"{' '.join(words)}\n{result.output}"
            text = result.stdout
            if target is not None:
                (cwd / target).write_text(text)


@pytest.fixture
def fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for folder in ("configs", "datasets"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_command_and_sweep_examples_run_as_written(fresh_clone, monkeypatch):
    from tests.sweep.conftest import InlineExecutor

    for module in ("tensorboardX", "mlflow", "sqlalchemy", "onnx", "matplotlib"):
        need(module)

    # Trials in this process: the documented sweeps, without the process pool's start-up.
    monkeypatch.setattr("nnrun.sweep.executors.make_executor", lambda *a, **k: InlineExecutor())
    # Quick start first (its run is what `nnrun export` examples name), then the sweeps
    # (`nnrun runs outputs/sweeps` in cli.md lists them).
    for steps in commands(section(README, "Quick start")) + commands(SWEEPS):
        run_line(steps, fresh_clone)
    assert (fresh_clone / "outputs" / "sweeps" / "digits_lr" / "latest" / "best.yaml").is_file()
    # Every command example, up to shell completion (which would install into the shell).
    for steps in commands(CLI[: CLI.index("\n## Shell completion\n")]):
        run_line(steps, fresh_clone)
    assert (fresh_clone / "labels.jsonl").read_text().count("\n") == 3
    assert (fresh_clone / "probs.csv").read_text().startswith("prob_0")
