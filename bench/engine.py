"""Engine benchmark: per-op overhead, and MLP training steps vs plain NumPy and PyTorch CPU.

    python bench/engine.py [--threads 1] [--rounds 5] [--steps 60]

Each framework runs in its own process (inside one process PyTorch's and OpenBLAS's thread
pools contend and flatter the ratio), alternating A B C A B C ...; the table gives the median
ms per training step over all rounds and the ratios of the medians, wall clock and (with
--threads 1) CPU time of the measuring thread (bench/harness.py). A step is forward +
softmax cross-entropy + backward + SGD update, float32.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time

from harness import blas_kernel, cpu_shown, machine_env, share_note, time_steps

MODELS = {"large": ([784, 256, 128, 10], 128), "small": ([64, 32, 10], 32)}


def _data(sizes, batch, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    weights = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1 / np.sqrt(fan_in)
        weights.append(
            (
                rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                rng.uniform(-bound, bound, fan_out).astype(np.float32),
            )
        )
    return x, y, weights


def nnrun_step(sizes, batch):
    import nnrun.functional as F
    from nnrun.nn import Parameter

    x, y, weights = _data(sizes, batch)
    params = [(Parameter(w), Parameter(b)) for w, b in weights]
    flat = [p for pair in params for p in pair]
    lr = 0.01

    def step():
        h = x
        for i, (w, b) in enumerate(params):
            # As a `linear` layer with `activation: relu` runs: one fused op.
            h = F.linear(h, w, b, relu=i < len(params) - 1)
        loss = F.cross_entropy(h, y)
        loss.backward()
        for p in flat:
            p.data -= lr * p.grad
            p.grad = None

    return step


def numpy_step(sizes, batch):
    import numpy as np

    x, y, weights = _data(sizes, batch)
    weights = [[w, b] for w, b in weights]
    lr = np.float32(0.01)
    rows = np.arange(batch)

    def step():
        activations = [x]
        h = x
        for i, (w, b) in enumerate(weights):
            h = h @ w.T + b
            if i < len(weights) - 1:
                h = np.maximum(h, 0)
            activations.append(h)
        shifted = h - h.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        grad = probs
        grad[rows, y] -= 1
        grad /= batch
        for i in range(len(weights) - 1, -1, -1):
            w, b = weights[i]
            grad_w = grad.T @ activations[i]
            grad_b = grad.sum(axis=0)
            if i > 0:
                grad = (grad @ w) * (activations[i] > 0)
            w -= lr * grad_w
            b -= lr * grad_b

    return step


def torch_step(sizes, batch):
    import torch

    x, y, weights = _data(sizes, batch)
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        optimizer.step()

    return step


def op_overhead(repeats: int = 20000) -> float:
    """µs for forward + backward of one elementwise op on a 1-element tensor."""
    import numpy as np

    from nnrun import Tensor

    x = Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    seed = np.ones(1, dtype=np.float32)
    chain = 100
    samples = []
    for _ in range(repeats // chain):
        start = time.perf_counter()
        y = x
        for _ in range(chain):
            y = y * 1.0
        y.backward(seed)
        samples.append((time.perf_counter() - start) / chain * 1e6)
    return statistics.median(samples)


def worker(framework: str, model: str, steps: int, threads: int) -> None:
    if framework in ("nnrun", "numpy"):
        from nnrun.runtime import keep_freed_memory

        # `import nnrun` applies it; the plain-NumPy baseline gets it too, so that the
        # comparison stays like for like (PyTorch has its own caching allocator).
        keep_freed_memory()
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    sizes, batch = MODELS[model]
    make = {"nnrun": nnrun_step, "numpy": numpy_step, "torch": torch_step}[framework]
    times = time_steps(make(sizes, batch), 10, steps)
    result = {"wall": times.wall, "cpu": times.cpu, "share": times.thread_share}
    if framework == "nnrun" and model == "small":
        result["overhead_us"] = op_overhead()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--worker", choices=["nnrun", "numpy", "torch"])
    parser.add_argument("--model", choices=sorted(MODELS), default="large")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.model, args.steps, args.threads)
        return

    env = machine_env(args.threads)
    try:
        import importlib.util

        have_torch = importlib.util.find_spec("torch") is not None
    except ImportError:
        have_torch = False
    frameworks = ["nnrun", "numpy"] + (["torch"] if have_torch else [])
    kinds = ("wall", "cpu") if cpu_shown(args.threads) else ("wall",)
    times: dict[tuple[str, str, str], list[float]] = {}
    overhead: list[float] = []
    shares: list[float] = []
    for _ in range(args.rounds):
        for model in MODELS:
            for framework in frameworks:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        framework,
                        "--model",
                        model,
                        "--steps",
                        str(args.steps),
                        "--threads",
                        str(args.threads),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout)
                for kind in kinds:
                    times.setdefault((kind, model, framework), []).extend(result[kind])
                shares.append(result["share"])
                overhead.extend([result["overhead_us"]] if "overhead_us" in result else [])

    print(f"BLAS/torch threads: {args.threads}; rounds: {args.rounds} x {args.steps} steps")
    print(f"BLAS: {blas_kernel(env)}")
    print(
        f"per-op overhead (forward+backward, 1-element tensor): "
        f"{statistics.median(overhead):.2f} µs"
    )
    for kind in kinds:
        print(f"{'wall clock' if kind == 'wall' else share_note(shares)}:")
        header = f"{'model':<26}" + "".join(f"{f + ' ms':>12}" for f in frameworks)
        header += f"{'vs numpy':>10}" + (f"{'vs torch':>10}" if have_torch else "")
        print(header)
        for model, (sizes, batch) in MODELS.items():
            medians = {f: statistics.median(times[(kind, model, f)]) for f in frameworks}
            label = f"{'-'.join(map(str, sizes))} b{batch}"
            row = f"{label:<26}" + "".join(f"{medians[f]:>12.3f}" for f in frameworks)
            row += f"{medians['nnrun'] / medians['numpy']:>10.2f}"
            if have_torch:
                row += f"{medians['nnrun'] / medians['torch']:>10.2f}"
            print(row)


if __name__ == "__main__":
    main()
