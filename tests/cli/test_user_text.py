"""User text (names, paths, values) is printed as written: never read as Rich markup or
emoji codes (issue 12, root cause 6)."""

from __future__ import annotations

import io

import pytest

from nnrun.markup import make_console, safe
from tests.cli.conftest import invoke

HOSTILE = ["[/x]", "a[b]c", "[bold red]not bold[/]", ":x: :thumbs_up:", "tail\\", "[", "]["]


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_text_prints_exactly_as_written(text):
    buffer = io.StringIO()
    make_console(file=buffer, width=200).print(f"[bold]>[/] {safe(text)}", highlight=False)
    printed = buffer.getvalue().rstrip("\n")
    assert printed.removeprefix("> ") in (text, text + "\\")  # Rich doubles a final backslash


def test_consoles_do_not_turn_colon_codes_into_emoji():
    buffer = io.StringIO()
    make_console(file=buffer).print(safe(":x:"))
    assert buffer.getvalue().strip() == ":x:"


def test_a_run_name_and_path_with_markup_train_and_print_literally(tiny, tmp_path):
    out = tmp_path / "out [/x] :x:"
    result = invoke("train", tiny, "--set", "name='[/x] :x: [red]n'", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert "[/x] :x:" in result.output and "❌" not in result.output
    result = invoke("runs", tmp_path)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output


def test_an_error_with_brackets_in_a_set_value_keeps_them(tiny):
    result = invoke("train", tiny, "--set", "metrics=[nope]")
    assert result.exit_code == 2
    assert "--set metrics=[nope]" in result.output


def test_validate_and_graph_print_markup_names_literally(tiny, tmp_path):
    config = tmp_path / "odd [/x].yaml"
    config.parent.mkdir()
    config.write_text(tiny.read_text().replace("name: tiny", "name: '[b]:x:[/b]'"))
    result = invoke("validate", config, "--explain")
    assert result.exit_code == 0, result.output
    assert "[b]:x:[/b]" in result.output and "odd [/x].yaml" in result.output
    result = invoke("graph", config)
    assert result.exit_code == 0, result.output
    assert "[b]:x:[/b]" in result.output


def test_sweep_tables_print_markup_values_literally(tiny, tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"base: {tiny.name}\nmethod: grid\nmetric: {{name: val_loss}}\n"
        "parameters:\n  name: {values: ['[/x]', ':x:']}\n  train.epochs: {value: 1}\n"
    )
    result = invoke("sweep", sweep, "--out", tmp_path / "sw [/y]")
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output and ":x:" in result.output and "sw [/y]" in result.output
