"""Attention: scaled dot-product attention, multi-head attention, transformer layers.

Written out as MatMul/Softmax (opset 17 has no attention operator). The causal mask is a
constant (L, S) block of −inf above the diagonal, top-left aligned as in nnrun and torch.
"""

from __future__ import annotations

import math

import numpy as np

from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.linear import write_linear
from nnrun.export.normalization import layer_norm_node
from nnrun.export.registry import converter
from nnrun.nn.attention import MultiheadAttention, ScaledDotProductAttention
from nnrun.nn.transformer import (
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)


def attend(
    g: OnnxGraph, q: str, k: str, v: str, rank: int, depth: int,
    causal: tuple[int, int] | None, scale: float | None = None,
) -> str:  # fmt: skip
    """softmax(q·kᵀ·scale [+ causal mask])·v over the last two axes of rank-`rank` arrays;
    `causal` gives the (L, S) sizes of the mask, `depth` the feature size of q (default
    scale 1/√depth)."""
    k_t = g.transpose(k, (*range(rank - 2), rank - 1, rank - 2))
    scores = g.op("Mul", g.op("MatMul", q, k_t), g.scalar(scale or 1.0 / math.sqrt(depth)))
    if causal is not None:
        mask = np.triu(np.full(causal, -np.inf, np.float32), k=1)
        scores = g.op("Add", scores, g.const(mask, "causal_mask"))
    return g.op("MatMul", g.op("Softmax", scores, axis=-1), v)


def split_heads(g: OnnxGraph, x: str, heads: int) -> str:
    """(N, L, E) → (N, heads, L, E/heads)."""
    return g.transpose(g.op("Reshape", x, g.ints([0, 0, heads, -1])), (0, 2, 1, 3))


def merge_heads(g: OnnxGraph, x: str) -> str:
    """(N, heads, L, d) → (N, L, heads·d)."""
    return g.op("Reshape", g.transpose(x, (0, 2, 1, 3)), g.ints([0, 0, -1]))


def write_mha(
    g: OnnxGraph, layer: MultiheadAttention, query: str, source: str | None,
    lengths: tuple[int, int], causal: bool,
) -> str:  # fmt: skip
    """Multi-head attention of `query` over `source` (None: self-attention); `lengths` are
    the static (L, S)."""
    embed, heads = layer.embed_dim, layer.num_heads
    weight = g.param(layer.in_proj_weight)
    bias = None if layer.in_proj_bias is None else g.param(layer.in_proj_bias)

    def project(x: str, part: int) -> str:
        rows = g.op("Slice", weight, g.ints([part * embed]), g.ints([(part + 1) * embed]))
        y = g.op("MatMul", x, g.transpose(rows, (1, 0)))
        if bias is not None:
            piece = g.op("Slice", bias, g.ints([part * embed]), g.ints([(part + 1) * embed]))
            y = g.op("Add", y, piece)
        return y

    key_input = query if source is None else source
    inputs = (query, key_input, key_input)
    q, k, v = (split_heads(g, project(x, i), heads) for i, x in enumerate(inputs))
    out = attend(g, q, k, v, 4, embed // heads, lengths if causal else None)
    return write_linear(g, layer.out_proj, merge_heads(g, out), 3)


@converter(MultiheadAttention)
def multihead_attention(g: OnnxGraph, call: Call[MultiheadAttention]) -> str:
    arguments = call.only("query", "key_value")
    query, source = arguments["query"], arguments.get("key_value")
    lengths = (query.size(1), (source or query).size(1))
    source_name = None if source is None else source.name
    return write_mha(g, call.layer, query.name, source_name, lengths, call.layer.causal)


@converter(ScaledDotProductAttention)
def scaled_dot_product_attention(g: OnnxGraph, call: Call[ScaledDotProductAttention]) -> str:
    arguments = call.only("query", "key", "value")
    query = arguments["query"]
    key = arguments.get("key") or query
    value = arguments.get("value") or key
    causal = (query.size(-2), key.size(-2)) if call.layer.causal else None
    depth, scale = query.size(-1), call.layer.scale
    return attend(g, query.name, key.name, value.name, query.rank, depth, causal, scale)


def _feed_forward(
    g: OnnxGraph, block: TransformerEncoderLayer | TransformerDecoderLayer, x: str
) -> str:
    return write_linear(g, block.linear2, write_linear(g, block.linear1, x, 3), 3)


@converter(TransformerEncoderLayer)
def transformer_encoder_layer(g: OnnxGraph, call: Call[TransformerEncoderLayer]) -> str:
    src = call.only("src")["src"]
    return write_encoder_layer(g, call.layer, src.name, src.size(1))


def write_encoder_layer(g: OnnxGraph, block: TransformerEncoderLayer, x: str, length: int) -> str:
    def attention(y: str) -> str:
        return write_mha(g, block.self_attn, y, None, (length, length), block.causal)

    def norm(index: int, y: str) -> str:
        return layer_norm_node(g, getattr(block, f"norm{index}"), y)

    if block.norm_first:
        x = g.op("Add", x, attention(norm(1, x)))
        return g.op("Add", x, _feed_forward(g, block, norm(2, x)))
    x = norm(1, g.op("Add", x, attention(x)))
    return norm(2, g.op("Add", x, _feed_forward(g, block, x)))


@converter(TransformerDecoderLayer)
def transformer_decoder_layer(g: OnnxGraph, call: Call[TransformerDecoderLayer]) -> str:
    arguments = call.only("tgt", "memory")
    block, tgt, memory = call.layer, arguments["tgt"], arguments["memory"]
    length, source = tgt.size(1), memory.size(1)

    def self_attention(y: str) -> str:
        return write_mha(g, block.self_attn, y, None, (length, length), block.causal)

    def cross(y: str) -> str:
        return write_mha(g, block.multihead_attn, y, memory.name, (length, source), False)

    def norm(index: int, y: str) -> str:
        return layer_norm_node(g, getattr(block, f"norm{index}"), y)

    x = tgt.name
    if block.norm_first:
        x = g.op("Add", x, self_attention(norm(1, x)))
        x = g.op("Add", x, cross(norm(2, x)))
        return g.op("Add", x, _feed_forward(g, block, norm(3, x)))
    x = norm(1, g.op("Add", x, self_attention(x)))
    x = norm(2, g.op("Add", x, cross(x)))
    return norm(3, g.op("Add", x, _feed_forward(g, block, x)))


@converter(TransformerEncoder)
def transformer_encoder(g: OnnxGraph, call: Call[TransformerEncoder]) -> str:
    src = call.only("src")["src"]
    encoder, x = call.layer, src.name
    for block in encoder.layers:
        assert isinstance(block, TransformerEncoderLayer), "TransformerEncoder builds them"
        x = write_encoder_layer(g, block, x, src.size(1))
    return layer_norm_node(g, encoder.norm, x) if encoder.use_norm else x
