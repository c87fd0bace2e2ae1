"""Token data: language-model windows over a text, and ready token-sequence pairs."""

from __future__ import annotations

from collections import Counter

import numpy as np

from nnrun.data.info import DataInfo, Split
from nnrun.data.options import DataSpec
from nnrun.data.preprocess import UNKNOWN_TOKEN, Preprocessor, tokenize
from nnrun.data.sources import TextSource, TokenSource
from nnrun.data.split import split_indices
from nnrun.errors import DataError
from nnrun.tasks import get_task


def build_vocab(tokens: list[str], max_vocab: int | None) -> list[str]:
    """Training tokens sorted (by text), plus <unk> last for tokens unseen in training.

    With `max_vocab`, only the max_vocab - 1 most frequent tokens are kept (ties by text).
    """
    counts = Counter(tokens)
    kept = sorted(counts)
    if max_vocab is not None and len(kept) > max_vocab - 1:
        kept = sorted(sorted(counts, key=lambda t: (-counts[t], t))[: max_vocab - 1])
    return [*kept, UNKNOWN_TOKEN]


def _windows(ids: np.ndarray, seq_len: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, seq_len) inputs and next-token targets; strided views, no copy of the text."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, seq_len + 1)[::stride]
    return windows[:, :-1], windows[:, 1:]


def build_text(
    source: TextSource, cfg: DataSpec, seed: int, name: str
) -> tuple[dict[str, Split], DataInfo, Preprocessor]:
    """Contiguous train | val | test blocks (no window straddles two), vocab from train."""
    tokens = tokenize(source.text, cfg.tokenizer)
    n = len(tokens)
    n_test = round(n * cfg.split.test)
    n_val = round(n * cfg.split.val)
    bounds = {
        "train": (0, n - n_val - n_test),
        "val": (n - n_val - n_test, n - n_test),
        "test": (n - n_test, n),
    }
    vocab = build_vocab(tokens[: bounds["train"][1]], cfg.max_vocab)
    pre = Preprocessor(
        kind="tokens",
        task="sequence",
        vocab=vocab,
        tokenizer=cfg.tokenizer,
        input_shape=(cfg.seq_len,),
    )
    ids = pre.encode_tokens(tokens)
    seq_len = cfg.seq_len
    stride = cfg.stride or seq_len
    splits: dict[str, Split] = {}
    for split_name, (start, stop) in bounds.items():
        if stop - start == 0 and split_name != "train":
            continue
        if stop - start < seq_len + 1:
            raise DataError(
                f"{source.source}: the {split_name} part has {stop - start} tokens, fewer than "
                f"seq_len + 1 = {seq_len + 1}; lower data.seq_len or change data.split"
            )
        inputs, targets = _windows(ids[start:stop], seq_len, stride)
        splits[split_name] = Split(inputs, targets)
    return splits, _token_info(pre, splits, name), pre


def build_tokens(
    source: TokenSource, cfg: DataSpec, seed: int, name: str
) -> tuple[dict[str, Split], DataInfo, Preprocessor]:
    """Ready (N, T) sequence pairs, split at random by the configured fractions."""
    pre = Preprocessor(
        kind="tokens", task="sequence", vocab=source.vocab, input_shape=source.inputs.shape[1:]
    )
    fractions = {"val": cfg.split.val, "test": cfg.split.test}
    index = split_indices(len(source.inputs), fractions, seed)
    splits = {
        key: Split(source.inputs[rows], source.targets[rows])
        for key, rows in index.items()
        if key == "train" or len(rows)
    }
    return splits, _token_info(pre, splits, name), pre


def _token_info(pre: Preprocessor, splits: dict[str, Split], name: str) -> DataInfo:
    targets, inputs = splits["train"].targets, splits["train"].inputs
    assert isinstance(inputs, np.ndarray), "token ids, not a graph"
    return DataInfo(
        task=get_task("sequence"),
        input_shape=tuple(inputs.shape[1:]),
        input_dtype="int64",
        target_shape=tuple(targets.shape[1:]),
        target_dtype="int64",
        num_classes=len(pre.vocab or []),
        vocab=pre.vocab,
        name=name,
        sizes={key: len(split) for key, split in splits.items()},
    )
