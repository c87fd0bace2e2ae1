"""Graph neural network layers with PyTorch Geometric's inputs and parameter names.

Inputs as PyG: node features x (num_nodes, F), `edge_index` (2, E) int source → target,
and for pooling a `batch` vector (num_nodes,) assigning nodes to graphs. Messages flow along
edges into their targets. Scatters are sorted-segment reductions (np.add.reduceat), never
Python loops over nodes or edges.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nnrun import functional as F
from nnrun.autograd.function import Function, Grads
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive, Probability
from nnrun.errors import ShapeError
from nnrun.init import initialize
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.ops.activations import LeakyRelu
from nnrun.registry import LAYERS


class Segments:
    """A grouping of rows by integer ids (e.g. edges by target node), sorted once and reused
    for every reduction in forward and backward."""

    def __init__(self, ids: np.ndarray, count: int):
        self.ids, self.count = ids, count
        self.order = np.argsort(ids, kind="stable")
        ordered = ids[self.order]
        change = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        self.starts = np.concatenate(([0], change)) if len(ids) else change
        self.present = ordered[self.starts]

    def reduce(self, values: np.ndarray, ufunc: np.ufunc = np.add) -> np.ndarray:
        """(count, ...) per-id reductions of values (len(ids), ...); 0 for absent ids."""
        out = np.zeros((self.count, *values.shape[1:]), dtype=values.dtype)
        if len(self.starts):
            out[self.present] = ufunc.reduceat(values[self.order], self.starts, axis=0)
        return out


class Propagate(Function):
    """out[t] = Σ over edges (s → t) of w_e · x[s]: x (n, ...), optional weights w (E,) or
    (E, H) broadcast over x's trailing axes. Attributes: `source` (E,) edge sources,
    `targets` / `sources` Segments of the edge targets / sources (the latter for backward)."""

    def forward(
        self,
        x: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        source: np.ndarray,
        targets: Segments,
        sources: Segments,
    ) -> np.ndarray:
        self.x, self.source, self.targets, self.sources = x, source, targets, sources
        self.weight = None
        messages = x[source]
        if weight is not None:
            self.weight_axes = weight.ndim
            self.weight = weight.reshape(weight.shape + (1,) * (x.ndim - weight.ndim))
            messages *= self.weight
        return targets.reduce(messages)

    def backward(self, grad: np.ndarray) -> Grads:
        incoming = grad[self.targets.ids]
        grad_x = None
        if self.needs_input_grad[0]:
            grad_x = self.sources.reduce(
                incoming if self.weight is None else incoming * self.weight
            )
        if self.weight is None:
            return (grad_x,)
        grad_w = None
        if self.needs_input_grad[1]:
            summed = tuple(range(self.weight_axes, self.x.ndim))
            grad_w = (incoming * self.x[self.source]).sum(axis=summed)
        return grad_x, grad_w


class SegmentSoftmax(Function):
    """Softmax of edge scores (E, ...) over the edges sharing a target (attribute `targets`)."""

    def forward(self, scores: np.ndarray, *, targets: Segments) -> np.ndarray:
        top = targets.reduce(scores, np.maximum)
        weights: np.ndarray = np.exp(scores - top[targets.ids])
        weights /= targets.reduce(weights)[targets.ids]
        self.weights, self.targets = weights, targets
        return weights

    def backward(self, grad: np.ndarray) -> Grads:
        weights = self.weights
        dot = self.targets.reduce(grad * weights)[self.targets.ids]
        return (weights * (grad - dot),)


class SegmentMax(Function):
    """Per-graph maximum of node features x (n, F) → (graphs, F); 0 for an empty graph.
    The gradient goes to the first node attaining each maximum."""

    def forward(self, x: np.ndarray, *, groups: Segments) -> np.ndarray:
        top = groups.reduce(x, np.maximum)
        rows = np.arange(len(x))[:, None]
        # first row (in the sorted order) of each group equal to that group's maximum
        hits = np.where(x == top[groups.ids], rows, len(x))
        self.argmax = groups.reduce(hits, np.minimum)[groups.present]
        self.present, self.shape = groups.present, x.shape
        return top

    def backward(self, grad: np.ndarray) -> Grads:
        grad_x = np.zeros(self.shape, dtype=grad.dtype)
        columns = np.arange(self.shape[1])[None, :]
        grad_x[self.argmax, columns] = grad[self.present]
        return (grad_x,)


def edge_array(edge_index: Any, num_nodes: int, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) int64 arrays from a (2, E) edge_index, checked against num_nodes."""
    edges = np.asarray(edge_index.data if isinstance(edge_index, Tensor) else edge_index)
    if edges.ndim != 2 or edges.shape[0] != 2 or (edges.size and edges.dtype.kind not in "iu"):
        raise ShapeError(
            f"{owner} expects edge_index as integers of shape (2, E), got {edges.dtype} "
            f"{edges.shape}"
        )
    edges = edges.astype(np.int64, copy=False)
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ShapeError(
            f"{owner}: edge_index refers to nodes {edges.min()}..{edges.max()}, but x has "
            f"{num_nodes} nodes (valid ids 0..{num_nodes - 1})"
        )
    return edges[0], edges[1]


def with_self_loops(
    source: np.ndarray, target: np.ndarray, num_nodes: int, replace: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Add a loop i → i for every node: `replace` drops existing loops first (GATConv);
    otherwise only nodes without one get a loop (GCNConv's add_remaining_self_loops)."""
    loop = source == target
    if replace:
        source, target = source[~loop], target[~loop]
        missing = np.arange(num_nodes)
    else:
        has_loop = np.zeros(num_nodes, dtype=bool)
        has_loop[source[loop]] = True
        missing = np.flatnonzero(~has_loop)
    return np.concatenate([source, missing]), np.concatenate([target, missing])


def propagate(
    x: Tensor,
    source: np.ndarray,
    target: np.ndarray,
    weight: Any = None,
    num_targets: int | None = None,
    segments: tuple[Segments, Segments] | None = None,
) -> Tensor:
    """Σ over edges (s → t) of weight_e · x[s] for every target t (default: the n nodes of
    x (n, ...); pooling sends nodes to `num_targets` graphs). `segments` are the (targets,
    sources) Segments when the caller keeps them."""
    count = x.shape[0]
    if segments is None:
        segments = (
            Segments(target, count if num_targets is None else num_targets),
            Segments(source, count),
        )
    targets, sources = segments
    inputs = (x,) if weight is None else (x, input_tensor(weight, like=x))
    return Propagate.apply(*inputs, source=source, targets=targets, sources=sources)


def _node_features(x: ArrayLike, owner: str) -> Tensor:
    x = input_tensor(x)
    if x.ndim != 2:
        raise ShapeError(f"{owner} expects node features x (num_nodes, F), got {x.shape}")
    return x


@LAYERS.register("gcn_conv", "gcn", arg_aliases={"units": "out_channels"})
class GCNConv(Module):
    """Graph convolution (Kipf & Welling) as PyG's GCNConv:
    out = D^-1/2 (A + I) D^-1/2 · x Wᵀ + b, degrees counted at the targets.

    Inputs x (n, F), edge_index (2, E) and optionally edge_weight (E,) (PyG's gcn_norm:
    degrees sum the weights; differentiable in them); output (n, out_channels). Parameters
    `lin.weight` (out, F) (Glorot uniform, as PyG) and `bias` (out,) (zeros).
    """

    def __init__(
        self,
        out_channels: Positive,
        bias: bool = True,
        add_self_loops: bool = True,
        normalize: bool = True,
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
    ):
        super().__init__()
        self.out_channels, self.use_bias = out_channels, bias
        self.add_self_loops, self.normalize = add_self_loops, normalize
        self.lin = Linear(out_channels, bias=False, init=init or "xavier_uniform")
        self.bias = Parameter(initialize(bias_init or "zeros", (out_channels,))) if bias else None

    def forward(self, x: ArrayLike, edge_index: Any, edge_weight: Any = None) -> Tensor:
        x = _node_features(x, "gcn_conv")
        if edge_weight is not None:
            count = x.shape[0]
            source, target = edge_array(edge_index, count, "gcn_conv")
            out = self._weighted(x, source, target, input_tensor(edge_weight, like=x))
            return out if self.bias is None else out + self.bias
        edges = np.asarray(edge_index.data if isinstance(edge_index, Tensor) else edge_index)
        cached = self.__dict__.get("_cached_structure")
        key = (edges, x.shape[0], x.dtype)
        if cached is None or cached[0] is not edges or cached[1:3] != key[1:]:
            # Built once per edge_index array: a full-batch graph is the same array every
            # step, and a compiled step then sees the same structure arrays every call.
            cached = self.__dict__["_cached_structure"] = (*key, self._structure(edges, *key[1:]))
        source, target, weight, segments = cached[3]
        out = propagate(self.lin(x), source, target, weight, segments=segments)
        return out if self.bias is None else out + self.bias

    def _structure(
        self, edges: np.ndarray, count: int, dtype: np.dtype
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[Segments, Segments]]:
        source, target = edge_array(edges, count, "gcn_conv")
        if self.add_self_loops:
            source, target = with_self_loops(source, target, count, replace=False)
        weight = None
        if self.normalize:
            degree = np.bincount(target, minlength=count).astype(dtype)
            scale = np.zeros_like(degree)
            np.power(degree, -0.5, out=scale, where=degree > 0)
            weight = scale[source] * scale[target]
        return source, target, weight, (Segments(target, count), Segments(source, count))

    def _weighted(
        self, x: Tensor, source: np.ndarray, target: np.ndarray, weight: Tensor
    ) -> Tensor:
        """PyG's gcn_norm with edge weights (differentiable in them): self loops replace
        existing ones, keeping an existing loop's weight (else 1); degrees sum weights."""
        count = x.shape[0]
        if weight.shape != source.shape:
            raise ShapeError(
                f"gcn_conv expects edge_weight (E,) = ({len(source)},), got {weight.shape}"
            )
        if self.add_self_loops:
            loop = source == target
            last = np.full(count, -1)
            last[source[loop]] = np.flatnonzero(loop)  # the last loop of a node wins, as PyG
            keep = np.flatnonzero(~loop)
            loop_weight = F.where(last >= 0, weight[np.maximum(last, 0)], 1.0)
            weight = F.concatenate([weight[keep], loop_weight])
            nodes = np.arange(count)
            source = np.concatenate([source[keep], nodes])
            target = np.concatenate([target[keep], nodes])
        if self.normalize:
            ones = Tensor._wrap(np.ones((count, 1), dtype=x.dtype), False)
            degree = propagate(ones, source, target, weight).reshape(count)
            present = degree.data > 0
            scale = F.where(present, degree, 1.0) ** -0.5 * present
            weight = scale[source] * weight * scale[target]
        return propagate(self.lin(x), source, target, weight)

    def extra_repr(self) -> str:
        return f"{self.lin.in_features or '?'}, {self.out_channels}"


@LAYERS.register("sage_conv", "graph_sage", arg_aliases={"units": "out_channels"})
class SAGEConv(Module):
    """GraphSAGE with the mean aggregator, as PyG's SAGEConv:
    out = lin_l(mean of neighbours' x) + lin_r(x).

    Inputs x (n, F) and edge_index (2, E); output (n, out_channels). `lin_l` (with bias) and
    `lin_r` (without) have torch.nn.Linear's default init; `root_weight: false` drops lin_r.
    A node without incoming edges aggregates zeros.
    """

    def __init__(self, out_channels: Positive, bias: bool = True, root_weight: bool = True):
        super().__init__()
        self.out_channels, self.root_weight = out_channels, root_weight
        self.lin_l = Linear(out_channels, bias=bias)
        if root_weight:
            self.lin_r = Linear(out_channels, bias=False)

    def forward(self, x: Any, edge_index: Any) -> Tensor:
        x = _node_features(x, "sage_conv")
        source, target = edge_array(edge_index, x.shape[0], "sage_conv")
        degree = np.bincount(target, minlength=x.shape[0]).astype(x.dtype)
        mean = propagate(x, source, target, 1.0 / degree[target])
        out = self.lin_l(mean)
        return out + self.lin_r(x) if self.root_weight else out

    def extra_repr(self) -> str:
        return f"{self.lin_l.in_features or '?'}, {self.out_channels}, aggr=mean"


@LAYERS.register("gat_conv", "gat", arg_aliases={"units": "out_channels"})
class GATConv(Module):
    """Graph attention (Veličković et al.) as PyG's GATConv: per head, attention
    softmax_j(leaky_relu(a_srcᵀ W x_j + a_dstᵀ W x_i)) over incoming edges and self loops.

    Inputs x (n, F) and edge_index (2, E); output (n, heads·out_channels) when `concat`, else
    (n, out_channels) (mean over heads). Parameters `lin.weight` (heads·C, F), `att_src`,
    `att_dst` (1, heads, C) (Glorot, as PyG) and `bias` (zeros). `dropout` on the attention
    coefficients in training mode.
    """

    def __init__(
        self,
        out_channels: Positive,
        heads: Positive = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: Probability = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
    ):
        super().__init__()
        self.out_channels, self.heads, self.concat = out_channels, heads, concat
        self.negative_slope, self.add_self_loops = negative_slope, add_self_loops
        self.lin = Linear(heads * out_channels, bias=False, init="xavier_uniform")
        bound = math.sqrt(6.0 / (heads + out_channels))  # PyG's glorot on (1, H, C)
        attention_init = {"type": "uniform", "a": -bound, "b": bound}
        self.att_src = Parameter(initialize(attention_init, (1, heads, out_channels)))
        self.att_dst = Parameter(initialize(attention_init, (1, heads, out_channels)))
        width = heads * out_channels if concat else out_channels
        self.bias = Parameter(np.zeros(width, dtype=np.float32)) if bias else None
        self.attention_dropout = Dropout(dropout)

    def forward(self, x: Any, edge_index: Any) -> Tensor:
        x = _node_features(x, "gat_conv")
        count = x.shape[0]
        source, target = edge_array(edge_index, count, "gat_conv")
        if self.add_self_loops:
            source, target = with_self_loops(source, target, count, replace=True)
        h = self.lin(x).reshape(count, self.heads, self.out_channels)
        score_src = (h * self.att_src).sum(axis=-1)  # (n, heads)
        score_dst = (h * self.att_dst).sum(axis=-1)
        scores = LeakyRelu.apply(
            score_src[source] + score_dst[target], negative_slope=self.negative_slope
        )
        alpha = SegmentSoftmax.apply(scores, targets=Segments(target, count))
        out = propagate(h, source, target, self.attention_dropout(alpha))
        out = out.reshape(count, -1) if self.concat else out.mean(axis=1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.lin.in_features or '?'}, {self.out_channels}, heads={self.heads}"


class _GlobalPool(Module):
    """Per-graph pooling of node features x (n, F) by `batch` (n,) graph ids → (graphs, F);
    without `batch` all nodes form one graph (1, F). `num_graphs` fixes the output rows
    (default: max(batch) + 1)."""

    name = ""

    def forward(self, x: Any, batch: Any = None, num_graphs: int | None = None) -> Tensor:
        x = _node_features(x, self.name)
        count = x.shape[0]
        if batch is None:
            ids = np.zeros(count, dtype=np.int64)
        else:
            ids = np.asarray(batch.data if isinstance(batch, Tensor) else batch)
            if ids.shape != (count,) or (ids.size and ids.dtype.kind not in "iu"):
                raise ShapeError(
                    f"{self.name} expects batch as integers of shape (num_nodes,) = ({count},), "
                    f"got {ids.dtype} {ids.shape}"
                )
            if ids.size and ids.min() < 0:
                raise ShapeError(f"{self.name}: batch ids must be >= 0, got {ids.min()}")
        graphs = num_graphs if num_graphs is not None else int(ids.max()) + 1 if ids.size else 1
        return self.pool(x, ids.astype(np.int64, copy=False), graphs)

    def pool(self, x: Tensor, ids: np.ndarray, graphs: int) -> Tensor:
        raise NotImplementedError


@LAYERS.register("global_add_pool", "global_sum_pool")
class GlobalAddPool(_GlobalPool):
    """Sum of each graph's node features."""

    name = "global_add_pool"

    def pool(self, x: Tensor, ids: np.ndarray, graphs: int) -> Tensor:
        return propagate(x, np.arange(len(ids)), ids, num_targets=graphs)


@LAYERS.register("global_mean_pool")
class GlobalMeanPool(_GlobalPool):
    """Mean of each graph's node features (0 for a graph without nodes)."""

    name = "global_mean_pool"

    def pool(self, x: Tensor, ids: np.ndarray, graphs: int) -> Tensor:
        sizes = np.bincount(ids, minlength=graphs).astype(x.dtype)
        return propagate(x, np.arange(len(ids)), ids, 1.0 / sizes[ids], num_targets=graphs)


@LAYERS.register("global_max_pool")
class GlobalMaxPool(_GlobalPool):
    """Feature-wise maximum over each graph's nodes (0 for a graph without nodes)."""

    name = "global_max_pool"

    def pool(self, x: Tensor, ids: np.ndarray, graphs: int) -> Tensor:
        return SegmentMax.apply(x, groups=Segments(ids, graphs))
