"""Training-step benchmark: small CNN on 1×28×28 images, nnrun vs PyTorch (CPU, float32).

Model: conv3x3(16, padding 1)+relu+maxpool2, conv3x3(32, padding 1)+relu+maxpool2, flatten,
linear(10); batch 64, cross-entropy, SGD step. A/B harness in bench/harness.py: each
framework in its own process, alternating A B A B, thread count set explicitly (--threads,
default 1); prints the median ms per step and the nnrun/torch ratio.

    OPENBLAS_NUM_THREADS=1 python bench/cnn.py [--threads 1] [--rounds 3] [--steps 30]

Both frameworks spend a visible share of a step on page faults of freshly allocated
multi-megabyte arrays; glibc keeps freed memory mapped when run with
MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 (passed to both children).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from harness import compare

BATCH, CLASSES, LR = 64, 10, 0.01


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return x, y


def nnrun_step() -> Callable[[], None]:
    from nnrun import functional as F
    from nnrun.nn.container import Sequential
    from nnrun.nn.conv import Conv2d
    from nnrun.nn.linear import Linear
    from nnrun.nn.pooling import MaxPool2d
    from nnrun.nn.shape import Flatten
    from nnrun.optim.sgd import SGD

    x, y = data()
    model = Sequential(
        Conv2d(16, 3, padding=1, activation="relu"),
        MaxPool2d(2),
        Conv2d(32, 3, padding=1, activation="relu"),
        MaxPool2d(2),
        Flatten(),
        Linear(CLASSES),
    )
    model(x)
    optimizer = SGD(model.parameters(), lr=LR)

    def step() -> None:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def torch_step() -> Callable[[], None]:
    import torch
    from torch import nn

    x, y = (torch.from_numpy(a) for a in data())
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, CLASSES),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> None:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    return step


if __name__ == "__main__":
    compare(
        "CNN training step (1x28x28, conv16-pool-conv32-pool-linear10, batch 64)",
        os.path.abspath(__file__),
        {"nnrun": nnrun_step, "torch": torch_step},
    )
