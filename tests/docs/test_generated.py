"""The generated references in docs/ are exactly what `python docs/generate.py` writes from
the code, so the committed files cannot drift from the registries, the CLI or the configs."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from nnrun.cli import COMMANDS
from nnrun.registry import REGISTRIES

from .conftest import ROOT


@pytest.mark.parametrize("path", ["docs/components.md", "docs/cli-reference.md", "docs/gallery.md"])
def test_committed_generated_file_is_what_the_generator_writes(generate, path):
    assert path in generate.GENERATED
    committed = (ROOT / path).read_text()
    assert committed == generate.GENERATED[path](), (
        f"{path} is out of date: run `python docs/generate.py` and commit the result"
    )


def test_components_reference_has_a_section_for_every_registered_name(generate):
    text = generate.components()
    for registry in REGISTRIES:
        for name in registry.names():
            assert f"\n### {registry.kind} `{name}`\n" in text, (registry.kind, name)
            assert f"(#{generate.anchor(registry.kind, name)})" in text


def test_cli_reference_holds_the_help_of_every_command_without_colours(generate):
    text = generate.cli_reference()
    for name in COMMANDS:
        assert f"\n## nnrun {name}\n" in text
        assert f"Usage: nnrun {name} [OPTIONS]" in text
    assert "\x1b[" not in text
    widths = {len(line) for line in text.splitlines() if line.startswith(("╭", "╰"))}
    assert widths == {generate.HELP_WIDTH}


def test_cli_reference_does_not_depend_on_the_callers_terminal(generate, monkeypatch):
    expected = generate.help_text(["train"])
    monkeypatch.setenv("COLUMNS", "43")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert generate.help_text(["train"]) == expected


def test_every_gallery_config_is_measured_with_its_current_settings(gallery_table):
    results = json.loads(gallery_table.RESULTS.read_text())
    stale = gallery_table.stale(results)
    commands = [gallery_table.MEASURE.format(name=name) for name in stale]
    assert not stale, "measure again, then run `python docs/generate.py`: " + "; ".join(commands)


def test_gallery_row_of_a_changed_config_says_stale_and_how_to_measure(gallery_table, tmp_path):
    config = ROOT / "configs" / "quickstart.yaml"
    changed = tmp_path / "quickstart.yaml"
    changed.write_text(config.read_text().replace("epochs: 15", "epochs: 16"))
    results = json.loads(gallery_table.RESULTS.read_text())
    assert gallery_table.fingerprint(changed) != results["quickstart"]["fingerprint"]
    row = gallery_table.row(changed, results)
    assert "stale: `python bench/gallery.py --write --only quickstart`" in row
    # comments and layout are not settings
    relaid = tmp_path / "relaid" / "quickstart.yaml"
    relaid.parent.mkdir()
    relaid.write_text("# another comment\n" + config.read_text())
    assert gallery_table.fingerprint(relaid) == results["quickstart"]["fingerprint"]


def test_check_lists_stale_files_and_exits_1(generate, tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("*.png"))
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "DOCS", docs)
    components = docs / "components.md"
    components.write_text(components.read_text().replace("### layer `linear`", "### linear"))

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["generate.py", *args])
        try:
            generate.main()
        except SystemExit as exit:
            return exit.code
        return 0

    assert run("--check") == 1
    assert capsys.readouterr().out == (
        "docs/components.md is out of date: run `python docs/generate.py`\n"
    )
    assert run() == 0
    assert "\n### layer `linear`\n" in components.read_text()
    assert run("--check") == 0
    assert (ROOT / "docs" / "components.md").read_text() == components.read_text()


def test_every_registered_component_has_a_one_line_description():
    from nnrun.components_reference import reference

    missing = [f"{e.kind} {e.name}" for e in reference() if not e.summary]
    assert not missing, "add a docstring (its first paragraph is the description): " + ", ".join(
        missing
    )
