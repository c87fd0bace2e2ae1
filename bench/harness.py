"""The A/B timing harness the benchmarks share: each framework in its own process,
alternating A B A B ..., medians of per-step times, and their ratio.

Inside one process PyTorch's and OpenBLAS's thread pools contend and flatter the ratio, so
every measurement is a child process with its thread count set explicitly (--threads).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

FRAMEWORKS = ("nnrun", "torch")


def machine_env(threads: int) -> dict[str, str]:
    """The environment for the processes a benchmark starts: `threads` BLAS threads and the
    machine's own OpenBLAS kernel (OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE removed, for those
    processes only)."""
    env = dict(os.environ)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


KERNEL = (
    "import numpy, threadpoolctl; print('; '.join(f\"{p['internal_api']} {p.get('version')} "
    "{p.get('architecture')}\" for p in threadpoolctl.threadpool_info()))"
)


def blas_kernel(env: dict[str, str]) -> str:
    """The BLAS library and kernel a process started with `env` uses (threadpoolctl)."""
    command = [sys.executable, "-c", KERNEL]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def time_steps(step: Callable[[], None], warmup: int, steps: int) -> list[float]:
    """Milliseconds of each of `steps` calls after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def child(framework: str, threads: int, warmup: int, steps: int, builders: dict) -> None:
    """Run one framework's timing in this process and print the times as JSON."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    print(json.dumps(time_steps(builders[framework](), warmup, steps)))


def compare(title: str, script: str, builders: dict[str, Callable]) -> None:
    """Parse the command line; as parent alternate child processes A B A B and print a
    table of median ms per step and the nnrun/torch ratio."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--framework", choices=FRAMEWORKS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    if args.framework:
        child(args.framework, args.threads, args.warmup, args.steps, builders)
        return
    env = machine_env(args.threads)
    times: dict[str, list[float]] = {name: [] for name in FRAMEWORKS}
    for _ in range(args.rounds):
        for name in FRAMEWORKS:
            command = [
                sys.executable,
                script,
                "--framework",
                name,
                "--threads",
                str(args.threads),
                "--warmup",
                str(args.warmup),
                "--steps",
                str(args.steps),
            ]
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            times[name] += json.loads(result.stdout.strip().splitlines()[-1])
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{title}  (threads={args.threads}, {args.rounds} rounds x {args.steps} steps)")
    print(f"  BLAS: {blas_kernel(env)}")
    for name in FRAMEWORKS:
        print(f"  {name:6s} {medians[name]:8.2f} ms/step")
    print(f"  ratio nnrun/torch: {medians['nnrun'] / medians['torch']:.2f}")
