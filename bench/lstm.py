"""Training-step benchmark: LSTM classifier, nnrun vs PyTorch (CPU, float32).

Model: LSTM(input 32 → hidden 128) over 32 steps, batch 32, last state → linear(10),
cross-entropy, SGD step. Each framework runs in its own process, alternating A B A B;
the thread count is set explicitly (--threads, default 1). Prints the median ms per step.

    python bench/lstm.py [--threads 1] [--rounds 3] [--steps 30]

The A/B harness lives in bench/harness.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from harness import compare

BATCH, STEPS, FEATURES, HIDDEN, CLASSES = 32, 32, 32, 128, 10


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


if __name__ == "__main__":
    compare(
        "LSTM training step (seq 32, in 32, hidden 128, batch 32)",
        os.path.abspath(__file__),
        {"nnrun": nnrun_step, "torch": torch_step},
    )
