"""Reports read with the standard library's HTML parser: every section is there under its
stable id, nothing refers to the network, and the numbers shown are the run's."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from nnrun.cli import app
from nnrun.report.svg import Axis, log_ticks, nice_ticks

RUN_SECTIONS = ["summary", "curves", "config", "graph", "confusion", "diagnostics"]
SWEEP_SECTIONS = ["summary", "trials", "parameters", "curves", "config"]
# Attributes through which a page loads or links something.
URL_ATTRIBUTES = {"src", "href", "action", "data", "poster", "srcset", "formaction"}


class Page(HTMLParser):
    """Section ids, every URL-valued attribute, tags, and the text of style/script."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.inline: list[str] = []
        self._raw = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "section":
            self.sections.append(values.get("id"))
        self.urls += [v for k, v in attrs if k in URL_ATTRIBUTES and v]
        self._raw = tag in ("style", "script")

    def handle_endtag(self, tag):
        self._raw = False

    def handle_data(self, data):
        if self._raw:
            self.inline.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text())
    return page


def assert_self_contained(page: Page) -> None:
    """Only in-page anchors, data: URIs and relative links; no network scheme anywhere."""
    for url in page.urls:
        assert url.startswith(("#", "data:")) or not re.match(r"^[a-z][a-z0-9+.-]*:|^//", url), url
    for text in page.inline:
        assert not re.search(r"https?://|//cdn|@import|url\(", text), text[:80]


def test_run_report_has_every_section_and_no_external_url(quickstart_report):
    page = parse(quickstart_report)
    assert page.sections == RUN_SECTIONS
    assert_self_contained(page)
    assert "http://" not in quickstart_report.read_text()
    assert "https://" not in quickstart_report.read_text()


def test_run_report_shows_the_runs_results(quickstart_report):
    html = quickstart_report.read_text()
    summary = json.loads((quickstart_report.parent / "summary.json").read_text())
    assert f"{summary['test']['test_accuracy']:.4f}" in html
    assert "no findings" in html  # quickstart is healthy
    assert html.count("<svg") >= 1 + 3 + 1  # curves, graph, confusion, sparklines
    assert "layers.0" in html and "8,320 params" in html
    assert "test split, checkpoint best" in html


def test_sweep_report_has_every_section_and_links_each_trials_report(sweep_report):
    page = parse(sweep_report)
    assert page.sections == SWEEP_SECTIONS
    assert_self_contained(page)
    links = [u for u in page.urls if u.endswith("report.html")]
    assert len(set(links)) == 4
    for link in links:
        trial = sweep_report.parent / link
        assert trial.is_file() and parse(trial).sections == RUN_SECTIONS
    assert 'class="sortable"' in sweep_report.read_text()


def test_sweep_report_is_titled_with_the_original_sweep_files_name(sweep_report):
    # the sweep directory keeps a copy called sweep.yaml; the sweep was started from lr.yaml
    assert "<title>nnrun sweep lr</title>" in sweep_report.read_text()


def test_log_sampled_parameters_get_a_log_axis(sweep_report):
    html = sweep_report.read_text()
    assert "val_accuracy vs optimizer.lr (log x)" in html
    assert "val_accuracy vs model.layers.0.units</text>" in html


def test_report_command_writes_the_file_and_explains_bad_targets(quickstart_report, tmp_path):
    out = tmp_path / "copy.html"
    result = CliRunner().invoke(app, ["report", str(quickstart_report.parent), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert parse(out).sections == RUN_SECTIONS
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_axes_pick_round_ticks_and_decades():
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert log_ticks(1e-6, 1e2)[0] == 1e-6 and all(t <= 1e2 for t in log_ticks(1e-6, 1e2))
    axis = Axis.fit([0.001, 0.01], 0, 100, log=True)
    assert axis(0.001) == 0 and axis(0.01) == 100


def test_a_run_without_summary_or_rebuildable_model_still_gets_every_section(
    quickstart_report, tmp_path
):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(quickstart_report.parent, run)
    (run / "summary.json").unlink()
    (run / "config.yaml").write_text((run / "config.yaml").read_text().replace("digits", "nope"))
    result = CliRunner().invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    html = (run / "report.html").read_text()
    assert parse(run / "report.html").sections == RUN_SECTIONS
    assert "running or crashed" in html and "could not be rebuilt" in html
