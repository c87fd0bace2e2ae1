"""Transformer layers with torch.nn.TransformerEncoderLayer / DecoderLayer / Encoder names.

Batch-first (N, L, E); `d_model` is taken from the first input. Sub-modules as torch:
`self_attn`, `multihead_attn` (decoder), `linear1`, `linear2`, `norm1`..`norm3`, so a
state_dict loads into the torch module unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.attention import MultiheadAttention
from nnrun.nn.container import ModuleList
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.normalization import LayerNorm
from nnrun.registry import LAYERS


def _model_width(x: Any, owner: str, nhead: int) -> int:
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    if len(shape) != 3:
        raise ShapeError(f"{owner} expects input (N, L, d_model), got shape {shape}")
    if shape[-1] % nhead:
        raise ShapeError(
            f"{owner}: d_model {shape[-1]} (the input's last dimension) must be divisible by "
            f"nhead={nhead}"
        )
    width: int = shape[-1]
    return width


class _Block(Module):
    """Options and the feed-forward part shared by encoder and decoder layers."""

    kind = ""
    # Sub-modules `_build_common` creates by name (torch's attribute names).
    self_attn: MultiheadAttention
    multihead_attn: MultiheadAttention
    norm1: LayerNorm
    norm2: LayerNorm
    norm3: LayerNorm
    dropout1: Dropout
    dropout2: Dropout
    dropout3: Dropout

    def __init__(
        self,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Literal["relu", "gelu"] = "relu",
        layer_norm_eps: float = 1e-5,
        norm_first: bool = False,
        causal: bool = False,
        bias: bool = True,
    ):
        super().__init__()
        for key, value in (("nhead", nhead), ("dim_feedforward", dim_feedforward)):
            if value < 1:
                raise ArgumentError(f"{self.kind}: {key} must be >= 1, got {value}", key=key)
        if not 0.0 <= dropout < 1.0:
            raise ArgumentError(
                f"{self.kind}: dropout must be in [0, 1), got {dropout}", key="dropout"
            )
        if layer_norm_eps <= 0:
            raise ArgumentError(
                f"{self.kind}: layer_norm_eps must be > 0, got {layer_norm_eps}",
                key="layer_norm_eps",
            )
        self.nhead, self.dim_feedforward, self.dropout_p = nhead, dim_feedforward, dropout
        self.activation, self.layer_norm_eps, self.norm_first = (
            activation,
            layer_norm_eps,
            norm_first,
        )
        self.causal, self.use_bias = causal, bias
        self.d_model = 0

    def _build_common(self, x: Any, attentions: tuple[str, ...], norms: int) -> None:
        width = _model_width(x, self.kind, self.nhead)
        self.d_model = width
        for name in attentions:
            setattr(self, name, MultiheadAttention(self.nhead, self.dropout_p, self.use_bias))
        self.linear1 = Linear(
            self.dim_feedforward, bias=self.use_bias, in_features=width, activation=self.activation
        )
        self.dropout = Dropout(self.dropout_p)
        self.linear2 = Linear(width, bias=self.use_bias, in_features=self.dim_feedforward)
        for index in range(1, norms + 1):
            setattr(self, f"norm{index}", LayerNorm(width, self.layer_norm_eps, bias=self.use_bias))
            setattr(self, f"dropout{index}", Dropout(self.dropout_p))

    def _feed_forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(self.linear1(x)))

    def _check(self, x: ArrayLike, name: str) -> Tensor:
        x = input_tensor(x)
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ShapeError(f"{self.kind} expects {name} (N, L, {self.d_model}), got {x.shape}")
        return x

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model or '?'}, nhead={self.nhead}, "
            f"dim_feedforward={self.dim_feedforward}, dropout={self.dropout_p}, "
            f"activation={self.activation}, norm_first={self.norm_first}, causal={self.causal}"
        )


@LAYERS.register("transformer_encoder_layer")
class TransformerEncoderLayer(_Block):
    """Self-attention + feed-forward block, as torch.nn.TransformerEncoderLayer(batch_first).

    Input src (N, L, d_model) [, src_key_padding_mask (N, L), True = padding]; output the same
    shape. Post-norm by default (`norm_first: false`), dropout 0.1, feed-forward 2048.
    `causal` hides later positions from each query.
    """

    kind = "transformer_encoder_layer"

    def build(self, src: Any, src_key_padding_mask: Any = None) -> None:
        self._build_common(src, ("self_attn",), norms=2)

    def forward(self, src: Any, src_key_padding_mask: Any = None) -> Tensor:
        x = self._check(src, "src")

        def attend(y: Tensor) -> Tensor:
            out = self.self_attn(y, key_padding_mask=src_key_padding_mask, causal=self.causal)
            return self.dropout1(out)

        if self.norm_first:
            x = x + attend(self.norm1(x))
            return x + self.dropout2(self._feed_forward(self.norm2(x)))
        x = self.norm1(x + attend(x))
        return self.norm2(x + self.dropout2(self._feed_forward(x)))


@LAYERS.register("transformer_decoder_layer")
class TransformerDecoderLayer(_Block):
    """Self-attention, cross-attention over `memory`, feed-forward, as
    torch.nn.TransformerDecoderLayer(batch_first).

    Inputs tgt (N, T, d_model) and memory (N, S, d_model) [, tgt_key_padding_mask (N, T),
    memory_key_padding_mask (N, S) by keyword]; output (N, T, d_model). `causal` applies to
    the self-attention (torch's tgt_is_causal); like torch it is off by default.
    """

    kind = "transformer_decoder_layer"

    def build(self, tgt: Any, memory: Any = None, **masks: Any) -> None:
        if memory is None:
            raise ShapeError(f"{self.kind} needs two inputs: tgt (N, T, E) and memory (N, S, E)")
        self._build_common(tgt, ("self_attn", "multihead_attn"), norms=3)

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
    ) -> Tensor:
        x = self._check(tgt, "tgt")
        memory = self._check(memory, "memory")

        def attend(y: Tensor) -> Tensor:
            out = self.self_attn(y, key_padding_mask=tgt_key_padding_mask, causal=self.causal)
            return self.dropout1(out)

        def cross(y: Tensor) -> Tensor:
            out = self.multihead_attn(
                y, memory, key_padding_mask=memory_key_padding_mask, causal=False
            )
            return self.dropout2(out)

        if self.norm_first:
            x = x + attend(self.norm1(x))
            x = x + cross(self.norm2(x))
            return x + self.dropout3(self._feed_forward(self.norm3(x)))
        x = self.norm1(x + attend(x))
        x = self.norm2(x + cross(x))
        return self.norm3(x + self.dropout3(self._feed_forward(x)))


@LAYERS.register("transformer_encoder")
class TransformerEncoder(Module):
    """`num_layers` encoder layers (keys `layers.0.self_attn.in_proj_weight`, ... as
    torch.nn.TransformerEncoder) and an optional final LayerNorm `norm`.

    Input src (N, L, d_model) [, src_key_padding_mask (N, L)]; output the same shape. Unlike
    torch (which deep-copies one layer, so all start equal), each layer is initialized
    independently.
    """

    def __init__(
        self,
        num_layers: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Literal["relu", "gelu"] = "relu",
        layer_norm_eps: float = 1e-5,
        norm_first: bool = False,
        causal: bool = False,
        bias: bool = True,
        norm: bool = False,
    ):
        super().__init__()
        if num_layers < 1:
            raise ArgumentError(
                f"transformer_encoder: num_layers must be >= 1, got {num_layers}", key="num_layers"
            )
        options: dict[str, Any] = {
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "norm_first": norm_first,
            "causal": causal,
            "bias": bias,
        }
        self.layers = ModuleList(
            TransformerEncoderLayer(nhead, **options) for _ in range(num_layers)
        )
        self.use_norm, self.layer_norm_eps, self.use_bias = norm, layer_norm_eps, bias

    def build(self, src: Any, src_key_padding_mask: Any = None) -> None:
        if self.use_norm:
            width = _model_width(src, "transformer_encoder", 1)
            self.norm = LayerNorm(width, self.layer_norm_eps, bias=self.use_bias)

    def forward(self, src: Any, src_key_padding_mask: Any = None) -> Tensor:
        x = input_tensor(src)
        for layer in self.layers:
            x = layer(x, src_key_padding_mask)
        return self.norm(x) if self.use_norm else x

    def extra_repr(self) -> str:
        return f"num_layers={len(self.layers)}, norm={self.use_norm}"
