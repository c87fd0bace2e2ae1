"""Time `fit()` of `nnrun train configs/digits_mlp.yaml` and the checkpoint saves inside it:
this checkout against another git ref (default: main).

    python bench/checkpoints.py [--against main] [--rounds 5] [--epochs 30]

The other ref is exported with `git archive` into a temporary folder. Each measurement is a
fresh process (one BLAS thread, the machine's own kernel), alternating the two trees; the
child wraps `Trainer.fit` and `CheckpointManager.save` with timers. Printed per tree: the
number of saves and the median (min–max) milliseconds of fit() and of the saves in it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import blas_kernel, machine_env

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, tempfile, time
from nnrun import checkpoint
from nnrun.train import loop
spent = {"fit": 0.0, "saves": 0.0, "count": 0}

def timed(function, key):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - start
            spent["count"] += key == "saves"
    return wrapper

checkpoint.CheckpointManager.save = timed(checkpoint.CheckpointManager.save, "saves")
loop.Trainer.fit = timed(loop.Trainer.fit, "fit")
from nnrun.cli import app
out = tempfile.mkdtemp()
arguments = ["train", "configs/digits_mlp.yaml", "--out", out + "/run", "-q",
             "--set", f"train.epochs={sys.argv[1]}", "--set", "train.early_stopping=null"]
try:
    app(arguments, prog_name="nnrun")
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(spent))
"""


def measure(tree: Path, epochs: int, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(epochs)],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git ref to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    env = machine_env(1)
    print(f"BLAS: {blas_kernel(env)}")
    with tempfile.TemporaryDirectory() as other:
        archive = subprocess.run(
            ["git", "archive", args.against], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", other], input=archive, check=True)
        trees = {args.against: Path(other), "this checkout": ROOT}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                results[name].append(measure(tree, args.epochs, env))
    print(f"digits_mlp, {args.epochs} epochs: fit() and its checkpoint saves, {args.rounds} rounds")
    for name, rows in results.items():
        cells = []
        for key in ("fit", "saves"):
            values = [row[key] * 1000 for row in rows]
            cells.append(
                f"{key} {statistics.median(values):5.0f} ms ({min(values):.0f}–{max(values):.0f})"
            )
        print(f"  {name:14s} {int(rows[0]['count'])} saves  " + "  ".join(cells))


if __name__ == "__main__":
    main()
