"""Training-step benchmark: LSTM classifier, nnrun vs PyTorch (CPU, float32).

Model: LSTM(input 32 → hidden 128) over 32 steps, batch 32, last state → linear(10),
cross-entropy, SGD step. Each framework runs in its own process, alternating A B A B;
the thread count is set explicitly (--threads, default 1). Prints the median ms per step.

    python bench/lstm.py [--threads 1] [--rounds 3] [--steps 30]

This file also holds the A/B harness that bench/transformer.py reuses.
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

import numpy as np

BATCH, STEPS, FEATURES, HIDDEN, CLASSES = 32, 32, 32, 128, 10
FRAMEWORKS = ("nnrun", "torch")


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


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, STEPS, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return x, y


def nnrun_step() -> Callable[[], None]:
    from nnrun import functional as F
    from nnrun.nn.linear import Linear
    from nnrun.nn.rnn import LSTM
    from nnrun.optim.sgd import SGD

    x, y = data()
    lstm, head = LSTM(hidden_size=HIDDEN, output="last"), Linear(CLASSES, in_features=HIDDEN)
    lstm(x)
    optimizer = SGD([*lstm.parameters(), *head.parameters()], lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        loss = F.cross_entropy(head(lstm(x)), y)
        loss.backward()
        optimizer.step()

    return step


def torch_step() -> Callable[[], None]:
    import torch

    x, y = (torch.from_numpy(a) for a in data())
    lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, CLASSES)
    optimizer = torch.optim.SGD([*lstm.parameters(), *head.parameters()], lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        out, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(head(out[:, -1]), y)
        loss.backward()
        optimizer.step()

    return step


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
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(args.threads)
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
    for name in FRAMEWORKS:
        print(f"  {name:6s} {medians[name]:8.2f} ms/step")
    print(f"  ratio nnrun/torch: {medians['nnrun'] / medians['torch']:.2f}")


if __name__ == "__main__":
    compare(
        "LSTM training step (seq 32, in 32, hidden 128, batch 32)",
        os.path.abspath(__file__),
        {"nnrun": nnrun_step, "torch": torch_step},
    )
