"""Reports in a real browser (headless Chromium; skipped when none is installed): every
section renders after the scripts ran, the console stays free of errors, the page asks the
network for nothing, and a screenshot is kept as a test artifact."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnrun.testing.browser import find_chromium, load_page, screenshot
from tests import extras
from tests.report.test_html import RUN_SECTIONS, SWEEP_SECTIONS

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=extras.CHROMIUM)
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("NNRUN_TEST_ARTIFACTS", ROOT / "outputs" / "test-artifacts"))


def assert_renders(report: Path, sections: list[str]) -> str:
    page = load_page(report, CHROMIUM)
    assert page.console == [], page.console
    assert page.requests == [], page.requests
    assert 'data-ready="true"' in page.dom  # the page's script ran to its end
    for section in sections:
        assert f'<section id="{section}">' in page.dom, section
    return page.dom


def test_the_loader_notices_console_errors_and_network_requests(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        '<img src="http://example.com/x.png"><script>console.error("boom"); '
        "missing();</script></body></html>"
    )
    loaded = load_page(page, CHROMIUM)
    assert any("boom" in line for line in loaded.console)
    assert any("missing is not defined" in line for line in loaded.console)
    assert loaded.requests == ["http://example.com/x.png"]


def test_run_report_renders_offline_without_errors(quickstart_report):
    dom = assert_renders(quickstart_report, RUN_SECTIONS)
    assert "<svg" in dom and "no findings" in dom
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = screenshot(quickstart_report, ARTIFACTS / "quickstart_report.png", CHROMIUM)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_report_renders_with_sortable_trials(sweep_report):
    dom = assert_renders(sweep_report, SWEEP_SECTIONS)
    assert 'class="sortable"' in dom


@pytest.mark.slow
def test_digits_lr_sweep_report_renders(tmp_path):
    """configs/sweeps/digits_lr.yaml as shipped (9 trials), then its report and a trial's."""
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "nnrun.cli", "sweep", "configs/sweeps/digits_lr.yaml"]
    result = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    report = subprocess.run(
        [sys.executable, "-m", "nnrun.cli", "report", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    dom = assert_renders(out / "report.html", SWEEP_SECTIONS)
    assert len(set(re.findall(r'href="(trials/[^"]+/report.html)"', dom))) == 9
    assert_renders(out / "trials" / "0000-r0" / "report.html", RUN_SECTIONS)
