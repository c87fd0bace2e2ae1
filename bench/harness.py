"""The A/B timing harness the benchmarks share: each framework in its own process,
alternating A B A B ..., medians of per-step times, and their ratio.

Inside one process PyTorch's and OpenBLAS's thread pools contend and flatter the ratio, so
every measurement is a child process with its thread count set explicitly (--threads).

Each step is timed twice: wall clock, and the CPU time of the measuring thread. On a shared
machine the wall time of the same step swings 2-5x between runs (the process waits for a
core); the CPU time leaves the waiting out (not the slowdown from caches or a core shared
with other work). With one thread, OpenBLAS and PyTorch (`set_num_threads(1)`) compute in
the calling thread, so its CPU time is the step's whole cost: `time_steps` checks that by
the share of the process's CPU time the thread used (100.0% on every workload of
bench/steps.py). With more threads the helpers' work is missing from it, so the scripts show
CPU columns only with --threads 1.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

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


def run_timed(command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run `command` to completion: (its stdout, wall seconds, CPU seconds of the process and
    all its threads, user+system). The CPU time is the rise in this process's waited-for
    children's usage, so no other child may finish meanwhile."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return done.stdout, wall, cpu


@dataclass(frozen=True)
class StepTimes:
    """Milliseconds of each timed step, wall clock and CPU time of the measuring thread;
    `thread_share` is that thread's share of the process's CPU time over all timed steps
    (1.0 when nothing else in the process computed)."""

    wall: list[float]
    cpu: list[float]
    thread_share: float


def time_steps(step: Callable[[], None], warmup: int, steps: int) -> StepTimes:
    """Time each of `steps` calls after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    thread_start, process_start = time.thread_time(), time.process_time()
    for _ in range(steps):
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        step()
        wall.append((time.perf_counter() - wall_start) * 1e3)
        cpu.append((time.thread_time() - cpu_start) * 1e3)
    process = time.process_time() - process_start
    share = (time.thread_time() - thread_start) / process if process > 0 else 1.0
    return StepTimes(wall, cpu, share)


def cpu_shown(threads: int) -> bool:
    """Whether CPU time of the measuring thread is a step's cost: only with one thread."""
    return threads == 1


def share_note(shares: list[float]) -> str:
    """The line that says what the CPU columns measure and how much of each process's CPU
    time the measuring thread used (clock granularity can put the share a hair above 1)."""
    return (
        "CPU = user+system CPU time of the measuring thread (its lowest share of its "
        f"process's CPU time while timing: {min(min(shares), 1.0):.1%})"
    )


def child(framework: str, threads: int, warmup: int, steps: int, builders: dict) -> None:
    """Run one framework's timing in this process and print the times as JSON."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    times = time_steps(builders[framework](), warmup, steps)
    print(json.dumps({"wall": times.wall, "cpu": times.cpu, "share": times.thread_share}))


def compare(title: str, script: str, builders: dict[str, Callable]) -> None:
    """Parse the command line; as parent alternate child processes A B A B and print the
    median ms per step (over all steps of all rounds) and the nnrun/torch ratio, wall clock
    and (with one thread) CPU time."""
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
    times = {kind: {name: [] for name in FRAMEWORKS} for kind in ("wall", "cpu")}
    shares = []
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
            measured = json.loads(result.stdout.strip().splitlines()[-1])
            for kind in times:
                times[kind][name] += measured[kind]
            shares.append(measured["share"])
    kinds = ("wall", "cpu") if cpu_shown(args.threads) else ("wall",)
    medians = {
        kind: {name: statistics.median(values) for name, values in times[kind].items()}
        for kind in kinds
    }
    print(f"{title}  (threads={args.threads}, {args.rounds} rounds x {args.steps} steps)")
    print(f"  BLAS: {blas_kernel(env)}")
    print(f"  {'ms/step':12s}" + "".join(f"{kind:>9s}" for kind in kinds))
    for name in FRAMEWORKS:
        print(f"  {name:12s}" + "".join(f"{medians[kind][name]:9.2f}" for kind in kinds))
    ratios = [medians[kind]["nnrun"] / medians[kind]["torch"] for kind in kinds]
    print(f"  {'nnrun/torch':12s}" + "".join(f"{value:9.2f}" for value in ratios))
    if cpu_shown(args.threads):
        print(f"  {share_note(shares)}")
