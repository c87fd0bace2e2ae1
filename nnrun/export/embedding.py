"""Embedding lookups and positional encodings."""

from __future__ import annotations

from nnrun.export.graph import Call, OnnxGraph
from nnrun.export.registry import converter
from nnrun.nn.attention import PositionalEncoding
from nnrun.nn.embedding import Embedding


@converter(Embedding)
def embedding(g: OnnxGraph, call: Call) -> str:
    return g.op("Gather", g.param(call.layer.weight), call.x.name, axis=0)


@converter(PositionalEncoding)
def positional_encoding(g: OnnxGraph, call: Call) -> str:
    """x + table[:T], T the (static) sequence length; dropout is off in inference."""
    layer, steps = call.layer, call.x.shape[1]
    if layer.kind == "sinusoidal":
        table = g.param(layer.pe, f"first{steps}", lambda: layer.pe[:steps])
    else:
        table = g.param(layer.weight, f"first{steps}", lambda: layer.weight.data[:steps])
    return g.op("Add", call.x.name, table)
