"""Train every example config with its shipped settings and record the gallery numbers.

    python bench/gallery.py [--only quickstart cnn_digits ...] [--write]

Each config runs as `nnrun train CONFIG --out TMP/<name>` in its own process (transfer after
cnn_digits, whose checkpoint it loads); the table lists epochs, the test metrics from the
run's summary.json (the best checkpoint's), and the wall time of the whole command. With
`--write` the measurements are merged into docs/gallery.json (with a fingerprint of each
config's settings), from which `python docs/generate.py` writes the table in docs/gallery.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

from gallery_table import RESULTS, fingerprint  # noqa: E402

from nnrun.fileio import dumps, write_text_atomic  # noqa: E402

# transfer.yaml loads the weights cnn_digits.yaml produces.
ORDER = {"cnn_digits": 0, "transfer": 1}


def run(config: Path, out: Path, extra: list[str]) -> tuple[dict, float]:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nnrun.cli", "train", str(config), "--out", str(out), "-q", *extra],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return json.loads((out / "summary.json").read_text()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="config names (default: all)")
    parser.add_argument("--write", action="store_true", help="merge into docs/gallery.json")
    args = parser.parse_args()
    configs = sorted(ROOT.glob("configs/*.yaml"), key=lambda p: (ORDER.get(p.stem, -1), p.stem))
    if args.only:
        configs = [c for c in configs if c.stem in args.only]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    print("| config | epochs | test metrics | wall time |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs:
            extra = []
            if config.stem == "transfer":
                pretrained = Path(tmp) / "cnn_digits"
                if not pretrained.exists():
                    run(ROOT / "configs" / "cnn_digits.yaml", pretrained, [])
                extra = ["--set", f"model.init_from.checkpoint={pretrained}"]
            summary, seconds = run(config, Path(tmp) / config.stem, extra)
            metrics = ", ".join(
                f"{k.removeprefix('test_')} {v:.3f}" for k, v in summary["test"].items()
            )
            print(
                f"| `{config.name}` | {summary['epochs']} | {metrics} | {seconds:.1f} s |",
                flush=True,
            )
            results[config.stem] = {
                "fingerprint": fingerprint(config),
                "epochs": summary["epochs"],
                "test": summary["test"],
                "seconds": round(seconds, 1),
            }
    if args.write:
        # Strict JSON (a diverged run's NaN becomes null), replaced whole: a kill mid-write
        # leaves the old measurements.
        write_text_atomic(RESULTS, dumps(dict(sorted(results.items())), indent=1) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
