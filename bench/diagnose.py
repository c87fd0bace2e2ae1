"""What `--diagnose` costs per epoch, and how big the HTML report gets.

    python bench/diagnose.py [--rounds 3] [--epochs 10]

For each config, fresh `nnrun train` processes alternate without and with --diagnose (early
stopping off, so both train the same epochs); the table gives the median training time per
epoch (the `seconds` column of metrics.jsonl: the epoch's steps plus, with --diagnose, its
recording pass) and the difference; in one process, the median time of a training step and
of a recording pass on the same batch. Then `nnrun report` of a diagnosed run: time, size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("digits_mlp", "cnn_digits")


def child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def nnrun(*args: str) -> None:
    command = [sys.executable, "-m", "nnrun.cli", *args]
    subprocess.run(command, cwd=ROOT, env=child_env(), check=True, capture_output=True)


def epoch_seconds(run_dir: Path) -> list[float]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").open()]
    return [row["seconds"] for row in rows if row["split"] == "train"]


PASS_TIMING = r"""
import statistics, sys, tempfile, time
from nnrun.runtime import keep_freed_memory
keep_freed_memory()
from nnrun.diagnose.recorder import Diagnostics
from nnrun.experiment import as_input, build_experiment, loss_arguments, resolve
exp = build_experiment(resolve(sys.argv[1]))
diagnostics = Diagnostics(exp, tempfile.mkdtemp(), None, 0)
def step():
    outputs = exp.model(as_input(diagnostics.inputs))
    exp.loss(*loss_arguments(outputs, diagnostics.targets, exp.loss)).backward()
    exp.optimizer.step()
    exp.optimizer.zero_grad()
def median_ms(fn):
    for _ in range(3):
        fn()
    times = []
    for _ in range(30):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3
print(median_ms(step), median_ms(lambda: diagnostics.record(1, 1)))
"""


def recording_pass(config: str) -> tuple[float, float]:
    """(ms of a training step, ms of a recording pass) on the same batch, in one process."""
    result = subprocess.run(
        [sys.executable, "-c", PASS_TIMING, config],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    step, record = map(float, result.stdout.split())
    return step, record


def kernel() -> str:
    code = (
        "import numpy, threadpoolctl; "
        "print([(i.get('internal_api'), i.get('architecture')) "
        "for i in threadpoolctl.threadpool_info()])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    print(f"BLAS kernel: {kernel()}")
    print(
        f"{'config':<12} {'ms/epoch':>9} {'diagnose':>9} {'overhead':>9} {'%':>6}"
        f" {'report':>8} {'size':>8}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for name in CONFIGS:
            config = f"configs/{name}.yaml"
            sets = ["--set", f"train.epochs={args.epochs}", "--set", "train.early_stopping=null"]
            times: dict[bool, list[float]] = {False: [], True: []}
            for index in range(args.rounds):
                for diagnose in (False, True):
                    out = Path(scratch) / f"{name}-{index}-{int(diagnose)}"
                    flags = ["--diagnose"] if diagnose else []
                    nnrun("train", config, "--out", str(out), "-q", *sets, *flags)
                    times[diagnose] += epoch_seconds(out)
            plain, diagnosed = (statistics.median(times[d]) * 1e3 for d in (False, True))
            started = time.perf_counter()
            nnrun("report", str(out))
            report_seconds = time.perf_counter() - started
            size = (out / "report.html").stat().st_size / 1024
            step, record = recording_pass(config)
            print(
                f"{name:<12} {plain:>9.1f} {diagnosed:>9.1f} {diagnosed - plain:>9.1f} "
                f"{(diagnosed - plain) / plain * 100:>5.1f}% {step:>8.2f} {record:>8.2f} "
                f"{report_seconds:>7.1f}s {size:>6.0f}KiB"
            )


if __name__ == "__main__":
    main()
