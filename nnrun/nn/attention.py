"""Attention layers: scaled dot-product attention, multi-head attention, positional encodings.

All batch-first: sequences are (N, L, E). Masks follow torch: a key padding mask (N, S) is
True where a key is padding (ignored); `causal` hides keys after each query.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from nnrun import functional as F
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive, Probability
from nnrun.errors import ShapeError
from nnrun.init import initialize
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.ops.attention import Attention
from nnrun.ops.dropout import Dropout as DropoutOp
from nnrun.ops.fused import Linear as LinearOp
from nnrun.registry import LAYERS


def padding_mask(mask: Any, batch: int, source: int, owner: str) -> np.ndarray:
    """A key padding mask (N, S) as bool, True = ignore that key."""
    array = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if array.shape != (batch, source):
        raise ShapeError(
            f"{owner}: key_padding_mask must be (N, S) = ({batch}, {source}), got {array.shape}"
        )
    if array.dtype != bool:
        if array.dtype.kind not in "iu" or not np.isin(array, (0, 1)).all():
            raise ShapeError(f"{owner}: key_padding_mask must be boolean (True = padding)")
        array = array.astype(bool)
    return array


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(query·keyᵀ·scale + mask)·value, as torch.nn.functional's.

    query (..., L, d), key (..., S, d), value (..., S, dv) → (..., L, dv). `attn_mask` is a
    bool array (True = may attend, torch's convention here) or a float array added to the
    scores, broadcastable to (..., L, S). Dropout applies whenever dropout_p > 0.
    """
    mask = bias = None
    if attn_mask is not None:
        array = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
        if array.dtype == bool:
            mask = ~array
        else:
            bias = array.astype(query.dtype)
    return _attend(query, key, value, 1, mask, bias, is_causal, scale, dropout_p)


def _attend(
    query: Tensor,
    key: Tensor | None,
    value: Tensor | None,
    heads: int,
    mask: np.ndarray | None,
    bias: np.ndarray | None,
    causal: bool,
    scale: float | None,
    dropout_p: float,
) -> Tensor:
    """Run the fused op; `key` None means `query` is a packed (N, L, 3E) projection."""
    inputs = (query,) if key is None else (query, key, value)
    return Attention.apply(
        *inputs,
        heads=heads,
        mask=mask,
        bias=bias,
        causal=causal,
        scale=scale,
        dropout=dropout_p,
    )


def attend_with_weights(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: np.ndarray | None,
    causal: bool,
    scale: float | None,
    dropout_p: float,
) -> tuple[Tensor, Tensor]:
    """(output, weights) of attention written with engine ops, for when the weights are an
    output too. q (..., L, d), k (..., S, d), v (..., S, dv); `mask` True = hidden. The
    weights are after dropout (as torch returns them); a query that sees no key gets zero
    weights and output, as the fused op."""
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = F.matmul(query, key.swapaxes(-1, -2)) * scale
    hidden = mask
    if causal:
        upper = np.triu(np.ones(scores.shape[-2:], dtype=bool), k=1)
        hidden = upper if hidden is None else hidden | upper
    if hidden is not None:
        hidden = np.broadcast_to(hidden, scores.shape)
        scores = F.where(hidden, np.finfo(scores.dtype).min, scores)
    weights = F.softmax(scores, axis=-1)
    if hidden is not None:
        weights = weights * ~hidden.all(axis=-1, keepdims=True)
    if dropout_p > 0:
        weights = DropoutOp.apply(weights, p=dropout_p, mask_shape=weights.shape)
    return F.matmul(weights, value), weights


@LAYERS.register("scaled_dot_product_attention", "sdpa", "attention")
class ScaledDotProductAttention(Module):
    """Parameter-free attention of (query, key, value) inputs.

    Inputs in the order query, key, value (N, L, E) or (N, heads, L, d); key/value have S
    steps (omitted: self attention on the query; value omitted: the key); optional
    key_padding_mask (N, S), True = ignore. Output (N, L, Ev). `dropout` on the attention
    weights in training mode; `scale` default 1/√d. `return_weights: true` adds the output
    `weights` (N, [heads,] L, S), the softmax after dropout.
    """

    def __init__(
        self,
        causal: bool = False,
        dropout: Probability = 0.0,
        scale: float | None = None,
        return_weights: bool = False,
    ):
        super().__init__()
        self.causal, self.dropout, self.scale = causal, dropout, scale
        self.return_weights = return_weights
        self.result_names = ("output", "weights") if return_weights else ()

    def forward(
        self, query: Any, key: Any = None, value: Any = None, key_padding_mask: Any = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        query = input_tensor(query)
        key = query if key is None else input_tensor(key, like=query)
        value = key if value is None else input_tensor(value, like=query)
        if query.ndim not in (3, 4) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(
                "scaled_dot_product_attention expects query/key/value (N, L, E) or "
                f"(N, heads, L, d), got {query.shape}, {key.shape}, {value.shape}"
            )
        if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
            raise ShapeError(
                "scaled_dot_product_attention: query and key need the same feature size and "
                f"key and value the same length; got {query.shape}, {key.shape}, {value.shape}"
            )
        mask = None
        if key_padding_mask is not None:
            mask = padding_mask(key_padding_mask, key.shape[0], key.shape[-2], "attention")
            mask = mask.reshape(mask.shape[0], *(1,) * (query.ndim - 2), mask.shape[1])
        p = self.dropout if self.training else 0.0
        if self.return_weights:
            return attend_with_weights(query, key, value, mask, self.causal, self.scale, p)
        return _attend(query, key, value, 1, mask, None, self.causal, self.scale, p)

    def extra_repr(self) -> str:
        return f"causal={self.causal}, dropout={self.dropout}"


@LAYERS.register("multihead_attention", "mha", "multi_head_attention")
class MultiheadAttention(Module):
    """Multi-head attention with torch.nn.MultiheadAttention's parameters (batch_first):
    in_proj_weight (3E, E), in_proj_bias (3E,), out_proj.weight (E, E), out_proj.bias (E,).

    Inputs in the order query, key_value, value: query (N, L, E) alone (self-attention), or
    query and key_value (N, S, E) (cross-attention; a third input gives a separate value);
    `key_padding_mask` (N, S) by keyword, True = ignore. Output (N, L, E). `embed_dim` is
    taken from the query. `return_weights: true` adds the output `weights`, torch's
    need_weights: (N, L, S) averaged over heads, or (N, heads, L, S) with
    `average_weights: false`.
    """

    def __init__(
        self,
        num_heads: Positive,
        dropout: Probability = 0.0,
        bias: bool = True,
        causal: bool = False,
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        return_weights: bool = False,
        average_weights: bool = True,
    ):
        super().__init__()
        self.num_heads, self.dropout, self.bias, self.causal = num_heads, dropout, bias, causal
        self.init, self.bias_init = init, bias_init
        self.return_weights, self.average_weights = return_weights, average_weights
        self.result_names = ("output", "weights") if return_weights else ()
        self.embed_dim = 0

    def build(self, query: Any, *rest: Any, **kwargs: Any) -> None:
        shape = np.shape(query.data if isinstance(query, Tensor) else query)
        if len(shape) != 3:
            raise ShapeError(f"multihead_attention expects query (N, L, E), got shape {shape}")
        embed = shape[-1]
        if embed % self.num_heads:
            raise ShapeError(
                f"multihead_attention: embed_dim {embed} (the query's last dimension) must be "
                f"divisible by num_heads={self.num_heads}"
            )
        self.embed_dim = embed
        xavier = {"type": "xavier_uniform"}
        self.in_proj_weight = Parameter(initialize(self.init or xavier, (3 * embed, embed)))
        if self.bias:
            self.in_proj_bias: Parameter | None = Parameter(
                initialize(self.bias_init or "zeros", (3 * embed,))
            )
        else:
            self.in_proj_bias = None
        self.out_proj = Linear(embed, bias=self.bias, in_features=embed)
        if self.bias:
            self.out_proj.bias.data[...] = 0

    def forward(
        self,
        query: Any,
        key_value: Any = None,
        value: Any = None,
        key_padding_mask: Any = None,
        causal: bool | None = None,
    ) -> Tensor | tuple[Tensor, Tensor]:
        query = input_tensor(query)
        embed = self.embed_dim
        if query.ndim != 3 or query.shape[-1] != embed:
            raise ShapeError(
                f"multihead_attention expects query (N, L, {embed}), got {query.shape}"
            )
        key = None if key_value is None else input_tensor(key_value, like=query)
        value = key if value is None else input_tensor(value, like=query)
        for name, t in (("key_value", key), ("value", value)):
            if t is not None and (
                t.ndim != 3 or t.shape[0] != query.shape[0] or t.shape[-1] != embed
            ):
                raise ShapeError(
                    f"multihead_attention: {name} must be (N, S, {embed}) with N="
                    f"{query.shape[0]} like the query, got {t.shape}"
                )
        if key is not None and value.shape[1] != key.shape[1]:
            raise ShapeError(
                f"multihead_attention: key and value lengths differ: {key.shape}, {value.shape}"
            )
        source = query.shape[1] if key is None else key.shape[1]
        mask = None
        if key_padding_mask is not None:
            mask = padding_mask(key_padding_mask, query.shape[0], source, "multihead_attention")
            mask = mask[:, None, None, :]
        causal = self.causal if causal is None else causal
        p = self.dropout if self.training else 0.0
        weight, bias = self.in_proj_weight, self.in_proj_bias
        if self.return_weights:
            return self._with_weights(query, key, value, mask, causal, p)
        if key is None:
            packed = self._project(query, weight, bias)
            attended = _attend(packed, None, None, self.num_heads, mask, None, causal, None, p)
        else:
            parts = [
                self._project(
                    t,
                    weight[i * embed : (i + 1) * embed],
                    None if bias is None else bias[i * embed : (i + 1) * embed],
                )
                for i, t in enumerate((query, key, value))
            ]
            # parts: the query, key and value projections
            attended = _attend(*parts, self.num_heads, mask, None, causal, None, p)  # type: ignore[arg-type, call-arg]
        return self.out_proj(attended)

    def _with_weights(
        self,
        query: Tensor,
        key: Tensor | None,
        value: Tensor | None,
        mask: np.ndarray | None,
        causal: bool,
        p: float,
    ) -> tuple[Tensor, Tensor]:
        embed, heads, bias = self.embed_dim, self.num_heads, self.in_proj_bias
        parts = []
        for i, t in enumerate(
            (query, query if key is None else key, query if key is None else value)
        ):
            rows = slice(i * embed, (i + 1) * embed)
            projected = self._project(
                t,  # type: ignore[arg-type]  # value is given whenever key is
                self.in_proj_weight[rows],
                None if bias is None else bias[rows],
            )
            n, length = projected.shape[:2]
            parts.append(projected.reshape(n, length, heads, embed // heads).transpose(0, 2, 1, 3))
        # parts: the query, key and value projections
        attended, weights = attend_with_weights(*parts, mask, causal, None, p)  # type: ignore[arg-type, call-arg]
        n, _, length, _ = attended.shape
        out = self.out_proj(attended.transpose(0, 2, 1, 3).reshape(n, length, embed))
        return out, weights.mean(axis=1) if self.average_weights else weights

    @staticmethod
    def _project(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        return LinearOp.apply(x, weight) if bias is None else LinearOp.apply(x, weight, bias)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim or '?'}, num_heads={self.num_heads}, "
            f"dropout={self.dropout}, bias={self.bias}, causal={self.causal}"
        )


def sinusoidal_table(length: int, width: int, dtype: Any = np.float32) -> np.ndarray:
    """(length, width): sin at even features, cos at odd, wavelengths 2π·10000^(2i/width)."""
    position = np.arange(length)[:, None]
    frequency = np.exp(np.arange(0, width, 2) * (-math.log(10000.0) / width))
    table = np.zeros((length, width))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)[:, : width // 2]
    return table.astype(dtype)


@LAYERS.register("positional_encoding", "positional_embedding")
class PositionalEncoding(Module):
    """Adds a position signal to x (N, T, E), then dropout.

    `sinusoidal` ("Attention is all you need"; no parameters, a non-persistent buffer `pe`
    (max_len, E)) or `learned` (parameter `weight` (max_len, E), N(0, 0.02) by default as in
    BERT/GPT). E comes from the input; T must not exceed `max_len`.
    """

    def __init__(
        self,
        kind: Literal["sinusoidal", "learned"] = "sinusoidal",
        max_len: Positive = 5000,
        dropout: Probability = 0.0,
        init: str | dict[str, Any] | None = None,
    ):
        super().__init__()
        self.kind, self.max_len, self.dropout, self.init = kind, max_len, dropout, init
        self.drop = Dropout(dropout)

    def build(self, x: Any) -> None:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) != 3:
            raise ShapeError(f"positional_encoding expects input (N, T, E), got shape {shape}")
        width = shape[-1]
        if self.kind == "sinusoidal":
            self.register_buffer("pe", sinusoidal_table(self.max_len, width), persistent=False)
        else:
            spec = self.init or {"type": "normal", "std": 0.02}
            self.weight = Parameter(initialize(spec, (self.max_len, width)))

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x)
        table = Tensor._wrap(self.pe, False) if self.kind == "sinusoidal" else self.weight
        if x.ndim != 3 or x.shape[1] > self.max_len or x.shape[2] != table.shape[1]:
            raise ShapeError(
                f"positional_encoding expects input (N, T <= {self.max_len}, "
                f"{table.shape[1]}), got {x.shape}"
            )
        steps = x.shape[1]
        signal = table[:steps]
        return self.drop(x + (signal if signal.dtype == x.dtype else signal.astype(x.dtype)))

    def extra_repr(self) -> str:
        return f"kind={self.kind}, max_len={self.max_len}, dropout={self.dropout}"
