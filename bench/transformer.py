"""Training-step benchmark: one transformer encoder layer, nnrun vs PyTorch (CPU, float32).

Model: TransformerEncoderLayer(d_model 64, 4 heads, feed-forward 256, dropout 0.1) on
sequences of 32, batch 32, mean-pool over time → linear(10), cross-entropy, SGD step.
A/B harness in bench/harness.py (own process per framework, alternating, --threads).

    python bench/transformer.py [--threads 1] [--rounds 3] [--steps 30]
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from harness import compare

BATCH, STEPS, WIDTH, HEADS, FEEDFORWARD, CLASSES = 32, 32, 64, 4, 256, 10


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, STEPS, WIDTH)).astype(np.float32)
    return x, rng.integers(0, CLASSES, BATCH)


def nnrun_step() -> Callable[[], None]:
    from nnrun import functional as F
    from nnrun.nn.linear import Linear
    from nnrun.nn.transformer import TransformerEncoderLayer
    from nnrun.optim.sgd import SGD

    x, y = data()
    layer = TransformerEncoderLayer(nhead=HEADS, dim_feedforward=FEEDFORWARD)
    head = Linear(CLASSES, in_features=WIDTH)
    layer(x)
    optimizer = SGD([*layer.parameters(), *head.parameters()], lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        loss = F.cross_entropy(head(layer(x).mean(axis=1)), y)
        loss.backward()
        optimizer.step()

    return step


def torch_step() -> Callable[[], None]:
    import torch

    x, y = (torch.from_numpy(a) for a in data())
    layer = torch.nn.TransformerEncoderLayer(WIDTH, HEADS, FEEDFORWARD, batch_first=True)
    head = torch.nn.Linear(WIDTH, CLASSES)
    optimizer = torch.optim.SGD([*layer.parameters(), *head.parameters()], lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(layer(x).mean(dim=1)), y)
        loss.backward()
        optimizer.step()

    return step


if __name__ == "__main__":
    compare(
        "Transformer encoder layer training step (d_model 64, 4 heads, seq 32, batch 32, ff 256)",
        os.path.abspath(__file__),
        {"nnrun": nnrun_step, "torch": torch_step},
    )
