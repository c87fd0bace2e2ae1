"""Training steps on six workloads: nnrun compiled and eager vs PyTorch and plain NumPy.

    python bench/steps.py [--threads 1] [--rounds 5] [--steps 40] [--only W1,W4]
                          [--baseline DIR]

`--baseline DIR` adds a column "before": the step of the nnrun checkout in DIR (e.g.
`git worktree add /tmp/before main`) — compiled if that checkout has `compile_step`, else
eager — measured in the same alternating rounds.

W1 MLP 784-256-128-10 b128 · W2 MLP 64-32-10 b32 · W3 CNN conv3x3(16)-pool-conv3x3(32)-pool-
linear b64 on 1×28×28 · W4 LSTM 32→128 over 32 steps b32 · W5 transformer encoder layer d64,
4 heads, ff 256, seq 32, b32 · B1 MLP 784-1024-1024-10 at batch 1. A step is forward, softmax
cross-entropy, backward and an SGD update in float32 (nnrun through its layers, losses and
optimizers; the NumPy floor is hand-written, bench/floors.py).

Every measurement is its own process, rounds alternate frameworks and workloads, and the
table gives the median and min–max over rounds of each process's median ms per step, wall
clock, and the ratios of those medians. With `--threads 1` a second table gives the same for
the CPU time of the measuring thread (bench/harness.py), which other processes on a shared
machine disturb far less than the wall clock. The processes get the machine's own BLAS
kernel: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from their environment (only
theirs), and the kernel in use is printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable

import numpy as np
from harness import blas_kernel, cpu_shown, machine_env, share_note, time_steps

FRAMEWORKS = ("compiled", "eager", "torch", "numpy", "before")
WORKLOADS = {
    "W1": "MLP 784-256-128-10, b128",
    "W2": "MLP 64-32-10, b32",
    "W3": "CNN 2×conv3x3+pool, b64",
    "W4": "LSTM h128, seq 32, b32",
    "W5": "transformer layer d64, b32",
    "B1": "MLP 784-1024-1024-10, b1",
}
MLPS = {
    "W1": ([784, 256, 128, 10], 128),
    "W2": ([64, 32, 10], 32),
    "B1": ([784, 1024, 1024, 10], 1),
}
LR = 0.01


def data(workload: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    shapes = {"W3": (64, 1, 28, 28), "W4": (32, 32, 32), "W5": (32, 32, 64)}
    if workload in MLPS:
        sizes, batch = MLPS[workload]
        shape = (batch, sizes[0])
    else:
        shape = shapes[workload]
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, shape[0])


# ----------------------------------------------------------------- nnrun
def nnrun_model(workload: str) -> tuple[Callable, list]:
    """(model as a callable on the input, its parameters)."""
    from nnrun.nn.container import Sequential
    from nnrun.nn.linear import Linear

    x, _ = data(workload)
    if workload in MLPS:
        sizes = MLPS[workload][0]
        layers = [Linear(n, activation="relu") for n in sizes[1:-1]] + [Linear(sizes[-1])]
        model = Sequential(*layers)
    elif workload == "W3":
        from nnrun.nn.conv import Conv2d
        from nnrun.nn.pooling import MaxPool2d
        from nnrun.nn.shape import Flatten

        model = Sequential(
            Conv2d(16, 3, padding=1, activation="relu"),
            MaxPool2d(2),
            Conv2d(32, 3, padding=1, activation="relu"),
            MaxPool2d(2),
            Flatten(),
            Linear(10),
        )
    elif workload == "W4":
        from nnrun.nn.rnn import LSTM

        model = Sequential(LSTM(hidden_size=128, output="last"), Linear(10))
    else:
        from nnrun.nn.module import Module
        from nnrun.nn.transformer import TransformerEncoderLayer

        class Classifier(Module):
            def __init__(self) -> None:
                super().__init__()
                self.layer = TransformerEncoderLayer(nhead=4, dim_feedforward=256)
                self.head = Linear(10)

            def forward(self, inputs):
                return self.head(self.layer(inputs).mean(axis=1))

        model = Classifier()
    model(x)
    return model, list(model.parameters())


def nnrun_step(workload: str, compiled: bool) -> Callable[[], None]:
    from nnrun import functional as F
    from nnrun.optim.sgd import SGD

    x, y = data(workload)
    model, params = nnrun_model(workload)
    optimizer = SGD(params, lr=LR)
    if compiled:
        from nnrun import compile_step

        step = compile_step(model, F.cross_entropy, optimizer)
        return lambda: step(x, y)

    def eager() -> None:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return eager


# ----------------------------------------------------------------- PyTorch
def torch_step(workload: str, threads: int) -> Callable[[], None]:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    x, y = (torch.from_numpy(a) for a in data(workload))
    if workload in MLPS:
        sizes = MLPS[workload][0]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
        model = nn.Sequential(*layers)
    elif workload == "W3":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 10),
        )
    elif workload == "W4":
        lstm, head = nn.LSTM(32, 128, batch_first=True), nn.Linear(128, 10)
        model = nn.ModuleList([lstm, head])
    else:
        layer = nn.TransformerEncoderLayer(64, 4, 256, batch_first=True)
        model = nn.ModuleList([layer, nn.Linear(64, 10)])

    def forward() -> torch.Tensor:
        if workload == "W4":
            out, _ = model[0](x)
            return model[1](out[:, -1])
        if workload == "W5":
            return model[1](model[0](x).mean(dim=1))
        return model(x)

    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> None:
        loss = nn.functional.cross_entropy(forward(), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


# ----------------------------------------------------------------- NumPy
def numpy_step(workload: str) -> Callable[[], None]:
    import floors

    x, y = data(workload)
    if workload in MLPS:
        return floors.mlp_step(MLPS[workload][0], x, y)
    if workload == "W3":
        return floors.cnn_step(x, y)
    if workload == "W4":
        return floors.lstm_step(x, y, hidden=128)
    return floors.transformer_step(x, y, heads=4, feedforward=256, p=0.1)


# ----------------------------------------------------------------- processes
def worker(framework: str, workload: str, threads: int, warmup: int, steps: int) -> None:
    if framework in ("compiled", "eager", "numpy", "before"):
        import nnrun
    if framework == "compiled":
        import nnrun

        if not hasattr(nnrun, "compile_step"):
            print(json.dumps(None))  # an nnrun from before compiled steps
            return
    if framework == "torch":
        step = torch_step(workload, threads)
    elif framework == "numpy":
        step = numpy_step(workload)
    else:
        baseline_compiles = framework == "before" and hasattr(nnrun, "compile_step")
        step = nnrun_step(workload, framework == "compiled" or baseline_compiles)
    times = time_steps(step, warmup, steps)
    medians = {"wall": statistics.median(times.wall), "cpu": statistics.median(times.cpu)}
    print(json.dumps({**medians, "share": times.thread_share}))


def run(args: list[str], env: dict[str, str]) -> object:
    command = [sys.executable, os.path.abspath(__file__), *args]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cell(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def ratio(row: dict[str, list[float]], a: str, b: str) -> str:
    if not row[a] or not row[b]:
        return "—"
    return f"{statistics.median(row[a]) / statistics.median(row[b]):.2f}"


def table(results: dict, frameworks: tuple[str, ...], ratios: list[tuple[str, str]]) -> None:
    """One markdown table: a row per workload, median (min–max) per framework, ratios."""
    header = f"| workload | {' | '.join(frameworks)} | "
    header += " | ".join(f"{a}/{b}" for a, b in ratios) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for workload, row in results.items():
        cells = [f"{workload} {WORKLOADS[workload]}"]
        cells += [cell(row[f]) for f in frameworks]
        cells += [ratio(row, a, b) for a, b in ratios]
        print(f"| {' | '.join(cells)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--baseline", help="an older nnrun checkout, for the 'before' column")
    parser.add_argument("--worker", choices=FRAMEWORKS)
    parser.add_argument("--workload", choices=sorted(WORKLOADS))
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.workload, args.threads, args.warmup, args.steps)
        return
    env = machine_env(args.threads)
    frameworks = FRAMEWORKS if args.baseline else FRAMEWORKS[:-1]
    envs = {framework: env for framework in frameworks}
    if args.baseline:
        envs["before"] = {**env, "PYTHONPATH": os.path.abspath(args.baseline)}
    workloads = args.only.split(",")
    kinds = ("wall", "cpu")
    results = {kind: {w: {f: [] for f in frameworks} for w in workloads} for kind in kinds}
    shares = []
    timing = ["--threads", str(args.threads), "--steps", str(args.steps)]
    timing += ["--warmup", str(args.warmup)]
    for _ in range(args.rounds):
        for workload in workloads:
            for framework in frameworks:
                options = ["--worker", framework, "--workload", workload, *timing]
                value = run(options, envs[framework])
                if value is not None:
                    for kind in kinds:
                        results[kind][workload][framework].append(value[kind])
                    shares.append(value["share"])
    print(f"BLAS: {blas_kernel(env)}")
    ratios = [("compiled", "torch"), ("compiled", "numpy"), ("eager", "torch")]
    ratios += [("before", "numpy")] if args.baseline else []
    print(
        f"threads {args.threads}; {args.rounds} rounds x {args.steps} steps; "
        "wall-clock ms per step, median (min–max over rounds)"
    )
    table(results["wall"], frameworks, ratios)
    if cpu_shown(args.threads):
        print(f"\n{share_note(shares)}")
        print("CPU ms per step, median (min–max over rounds)")
        table(results["cpu"], frameworks, ratios)


if __name__ == "__main__":
    main()
