"""End-to-end benchmark: `nnrun train` on the digits MLP config vs an equivalent hand-written
PyTorch CPU training script (same data, split, model, optimizer, schedule, batch size and
epochs; per-epoch validation and a checkpoint per epoch; test evaluation at the end).

    python bench/train_e2e.py [--rounds 5] [--threads 1] [--epochs 30]

Each run is a fresh process (imports and data loading included), alternating nnrun and
PyTorch; the table gives the medians over rounds of the processes' wall time, of their CPU
time (user+system, all threads: what other processes on a shared machine disturb least),
and of the wall time of their training loops (from summary.json for nnrun, timed inside the
script for PyTorch), and the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness import blas_kernel, machine_env, run_timed

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "digits_mlp.yaml"

TORCH_SCRIPT = r"""
import gzip, json, math, sys, time
import numpy as np
import torch

start_loop = None
epochs, threads, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)
table = np.loadtxt(gzip.open(sys.argv[4]), delimiter=",", skiprows=1, dtype=np.float32)
x, y = table[:, :64], table[:, 64].astype(np.int64)
order = rng.permutation(len(x))
n_test, n_val = int(0.2 * len(x)), int(0.1 * len(x))
test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
mean, std = x[train].mean(0), x[train].std(0) + 1e-8
x = (x - mean) / std
xt, yt = torch.from_numpy(x), torch.from_numpy(y)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                            torch.nn.Linear(128, 10))
torch.nn.init.kaiming_normal_(model[0].weight)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
steps_per_epoch = math.ceil(len(train) / 64)
total, warmup = epochs * steps_per_epoch, steps_per_epoch
schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (s + 1) / warmup if s < warmup
    else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, total - warmup))))

def evaluate(index):
    model.eval()
    with torch.no_grad():
        logits = model(xt[index])
        loss = torch.nn.functional.cross_entropy(logits, yt[index]).item()
        acc = (logits.argmax(1) == yt[index]).float().mean().item()
    model.train()
    return loss, acc

start_loop = time.perf_counter()
best = math.inf
for epoch in range(epochs):
    perm = train[torch.randperm(len(train)).numpy()]
    total_loss, correct = 0.0, 0
    for i in range(0, len(perm), 64):
        batch = perm[i:i + 64]
        logits = model(xt[batch])
        loss = torch.nn.functional.cross_entropy(logits, yt[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        total_loss += loss.item() * len(batch)
        correct += (logits.argmax(1) == yt[batch]).sum().item()
    val_loss, val_acc = evaluate(val)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, out + "/last.pt")
    if val_loss < best:
        best = val_loss
        torch.save(model.state_dict(), out + "/best.pt")
    print(f"epoch {epoch + 1} train_loss {total_loss / len(train):.4f} "
          f"train_acc {correct / len(train):.4f} val_loss {val_loss:.4f} val_acc {val_acc:.4f}")
test_loss, test_acc = evaluate(test)
print(json.dumps({"loop_seconds": time.perf_counter() - start_loop, "test_accuracy": test_acc}))
"""


def run_nnrun(epochs: int, env: dict, work: Path) -> tuple[float, float, float, float]:
    """(process wall s, process CPU s, training loop wall s, test accuracy)."""
    out = Path(tempfile.mkdtemp(dir=work))
    _, wall, cpu = run_timed(
        [
            sys.executable,
            "-m",
            "nnrun.cli",
            "train",
            str(CONFIG),
            "--out",
            str(out / "run"),
            "--quiet",
            "--set",
            f"train.epochs={epochs}",
            "--set",
            "train.early_stopping=null",
        ],
        env,
    )
    summary = json.loads((out / "run" / "summary.json").read_text())
    return wall, cpu, summary["wall_time"], summary["test"]["test_accuracy"]


def run_torch(
    epochs: int, threads: int, env: dict, work: Path
) -> tuple[float, float, float, float]:
    """(process wall s, process CPU s, training loop wall s, test accuracy)."""
    out = Path(tempfile.mkdtemp(dir=work))
    script = work / "torch_train.py"
    script.write_text(TORCH_SCRIPT)
    stdout, wall, cpu = run_timed(
        [
            sys.executable,
            str(script),
            str(epochs),
            str(threads),
            str(out),
            str(ROOT / "datasets" / "digits.csv.gz"),
        ],
        env,
    )
    result = json.loads(stdout.strip().splitlines()[-1])
    return wall, cpu, result["loop_seconds"], result["test_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    env = machine_env(args.threads)
    results: dict[str, list[tuple[float, float, float, float]]] = {"nnrun": [], "torch": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _ in range(args.rounds):
            results["nnrun"].append(run_nnrun(args.epochs, env, work))
            results["torch"].append(run_torch(args.epochs, args.threads, env, work))
    print(
        f"digits MLP, {args.epochs} epochs, batch 64; threads {args.threads}; "
        f"{args.rounds} rounds (median)"
    )
    print(f"BLAS: {blas_kernel(env)}")
    print("process: wall s and CPU s (user+system, all threads); train loop: wall s")
    print(f"{'':10}{'process wall':>14}{'process CPU':>13}{'loop wall':>11}{'test acc':>10}")
    med = {k: [statistics.median(r[i] for r in v) for i in range(4)] for k, v in results.items()}
    for name, (wall, cpu, loop, acc) in med.items():
        print(f"{name:10}{wall:>14.2f}{cpu:>13.2f}{loop:>11.2f}{acc:>10.4f}")
    print(
        f"{'ratio':10}{med['nnrun'][0] / med['torch'][0]:>14.2f}"
        f"{med['nnrun'][1] / med['torch'][1]:>13.2f}{med['nnrun'][2] / med['torch'][2]:>11.2f}"
    )


if __name__ == "__main__":
    main()
