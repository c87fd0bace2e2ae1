"""Regenerate docs/report.png, the screenshot of a report in docs/diagnose.md.

    python docs/report_screenshot.py

Trains configs/diagnose/dead_relu.yaml with --diagnose in a temporary folder, writes its
report and photographs the top of it in headless Chromium; with Pillow installed (it comes
with the plot extra's matplotlib) the PNG is reduced to a 64-colour palette to stay small.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnrun.testing.browser import find_chromium, screenshot

OUT = ROOT / "docs" / "report.png"


def main() -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("needs chromium (apt-get install chromium)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as scratch:
        run = Path(scratch) / "dead_relu"
        nnrun = [sys.executable, "-m", "nnrun.cli"]
        config = "configs/diagnose/dead_relu.yaml"
        subprocess.run(
            [*nnrun, "train", config, "--out", str(run), "-q"], cwd=ROOT, env=env, check=True
        )
        subprocess.run([*nnrun, "report", str(run)], cwd=ROOT, env=env, check=True)
        screenshot(run / "report.html", OUT, chromium, width=1000, height=900)
    try:
        from PIL import Image
    except ImportError:
        return
    image = Image.open(OUT).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(OUT, optimize=True)
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
