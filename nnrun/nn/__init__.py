"""Layers (modules) built on the engine, with torch.nn's names, semantics and layouts.

This module re-exports the classes a Python user builds by hand. The YAML names live in
`nnrun.registry.LAYERS`, complete once `nnrun.components` has walked every module of this
package (so a new layer module needs no line here to be usable from YAML).
"""

from nnrun.nn.activation import get_activation
from nnrun.nn.attention import MultiheadAttention, PositionalEncoding, ScaledDotProductAttention
from nnrun.nn.container import ModuleDict, ModuleList, Sequential
from nnrun.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from nnrun.nn.distance import CosineSimilarity, PairwiseDistance
from nnrun.nn.dropout import Dropout
from nnrun.nn.dropout2d import Dropout1d, Dropout2d
from nnrun.nn.embedding import Embedding
from nnrun.nn.graph import GATConv, GCNConv, GlobalAddPool, GlobalMaxPool, GlobalMeanPool, SAGEConv
from nnrun.nn.linear import Linear
from nnrun.nn.merge import Add, Concat, Index, MatMul, Mean, Multiply, Permute, Transpose
from nnrun.nn.module import Module
from nnrun.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from nnrun.nn.padding import ConstantPad, ReflectionPad, ReplicationPad, Upsample, ZeroPad2d
from nnrun.nn.parameter import Parameter
from nnrun.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    GlobalAvgPool,
    MaxPool1d,
    MaxPool2d,
)
from nnrun.nn.rnn import GRU, LSTM, RNN
from nnrun.nn.shape import Flatten, Reshape
from nnrun.nn.transformer import (
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "Add",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Concat",
    "ConstantPad",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "CosineSimilarity",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "GATConv",
    "GCNConv",
    "GlobalAddPool",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "GlobalMeanPool",
    "GroupNorm",
    "Index",
    "LayerNorm",
    "Linear",
    "MatMul",
    "MaxPool1d",
    "MaxPool2d",
    "Mean",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "Multiply",
    "PairwiseDistance",
    "Parameter",
    "Permute",
    "PositionalEncoding",
    "ReflectionPad",
    "ReplicationPad",
    "Reshape",
    "SAGEConv",
    "ScaledDotProductAttention",
    "Sequential",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Transpose",
    "Upsample",
    "ZeroPad2d",
    "get_activation",
]
