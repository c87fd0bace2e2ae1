"""Seeded (optionally stratified) splitting of example indices, and the data RNG streams."""

from __future__ import annotations

import numpy as np

# Separate, fixed streams so that e.g. changing the split never changes generated data.
STREAM_GENERATE, STREAM_SPLIT, STREAM_SHUFFLE, STREAM_AUGMENT = 1, 2, 3, 4


def rng_for(seed: int, stream: int, *more: int) -> np.random.Generator:
    """A generator that is a pure function of (seed, stream, *more)."""
    return np.random.default_rng(np.random.SeedSequence([seed % 2**63, stream, *more]))


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split `total` over groups in proportion to `counts` (largest remainder, exact sum)."""
    if counts.sum() == 0:
        return np.zeros_like(counts)
    share = counts * total / counts.sum()
    taken = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - taken), kind="stable")
    taken[order[: total - taken.sum()]] += 1
    return np.minimum(taken, counts)


def split_indices(
    n: int, fractions: dict[str, float], seed: int, labels: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Sorted index arrays for "train" and each split in `fractions` (e.g. {"val": 0.1}).

    Sizes are round(n * fraction). With `labels` ((n,) class indices) every class is split in
    the same proportions; each class keeps at least one training example when it can.
    """
    rng = rng_for(seed, STREAM_SPLIT)
    sizes = {name: round(n * f) for name, f in fractions.items() if f > 0}
    groups = (
        [np.arange(n)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    counts = np.array([len(g) for g in groups])
    remaining = counts.copy()
    per_group: dict[str, np.ndarray] = {}
    for name, size in sizes.items():
        spare = np.maximum(remaining - (1 if labels is not None else 0), 0)
        per_group[name] = _allocate(spare, min(size, int(spare.sum())))
        remaining = remaining - per_group[name]
    out: dict[str, list[np.ndarray]] = {name: [] for name in ("train", *sizes)}
    for g, members in enumerate(groups):
        members = rng.permutation(members)
        start = 0
        for name in sizes:
            out[name].append(members[start : start + per_group[name][g]])
            start += per_group[name][g]
        out["train"].append(members[start:])
    return {name: np.sort(np.concatenate(parts)) for name, parts in out.items()}
