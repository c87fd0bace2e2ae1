"""The model shapes a config builds (a chain, a graph of named nodes, repeated layers):
each child layer is converted with its config entry, so a refusal names the YAML line.
Graph-neural-network layers are refused: they read a graph (node features and an edge
list), which a single-input exported model does not carry."""

from __future__ import annotations

from collections.abc import Iterator

from nnrun.config.paths import KeyPath
from nnrun.export.graph import Call, OnnxGraph, Unexportable, Value, layer_name
from nnrun.export.registry import converter, refusal, unexportable
from nnrun.nn.container import Sequential
from nnrun.nn.graph import GATConv, GCNConv, GlobalAddPool, GlobalMaxPool, GlobalMeanPool, SAGEConv
from nnrun.nn.model import GraphModel, SequentialModel
from nnrun.nn.module import Module

unexportable(
    "graph neural network layers read a graph (node features and an edge list); ONNX export "
    "covers models of one input array",
    GCNConv,
    GATConv,
    SAGEConv,
    GlobalAddPool,
    GlobalMaxPool,
    GlobalMeanPool,
)


@converter(SequentialModel)
def chain(g: OnnxGraph, call: Call[SequentialModel]) -> str:
    x = call.x
    for layer, path in zip(call.layer.layers, call.layer.paths, strict=True):
        x = g.call(layer, [x], path=path)
    return x.name


@converter(Sequential)
def repeated(g: OnnxGraph, call: Call[Sequential]) -> str:
    x = call.x
    for layer in call.layer:
        x = g.call(layer, [x])
    return x.name


@converter(GraphModel)
def graph(g: OnnxGraph, call: Call[GraphModel]) -> str:
    model = call.layer
    if len(model.output_names) > 1:
        raise Unexportable("models with several outputs cannot be exported")
    values: dict[str, Value] = dict(zip(model.input_names, call.inputs, strict=True))
    values.update(call.kwargs)
    for node in model.nodes:
        layer = model.tensor_nodes.get(node.owner) or model._modules[node.owner]
        if isinstance(node.inputs, dict):
            args, kwargs = [], {k: values[v] for k, v in node.inputs.items()}
        else:
            args, kwargs = [values[v] for v in node.inputs], {}
        values[node.name] = g.call(layer, args, kwargs, path=node.path)
    return values[model.output_names[0]].name


def entries(module: Module, path: KeyPath = ()) -> Iterator[tuple[Module, KeyPath]]:
    """Every layer of a built model with its config entry (a layer inside a block or a
    composite layer carries the entry that made its outermost layer)."""
    yield module, path
    if isinstance(module, SequentialModel):
        for layer, here in zip(module.layers, module.paths, strict=True):
            yield from entries(layer, here)
    elif isinstance(module, GraphModel):
        for node in module.nodes:
            if node.owner == node.name and node.name in module._modules:
                yield from entries(module._modules[node.name], node.path)
    else:
        for child in module.children():
            yield from entries(child, path)


def refuse_unexportable(model: Module) -> None:
    """Raise Unexportable for the first layer whose class cannot be exported, before any
    sample runs (a graph layer's model cannot even take the samples)."""
    for layer, path in entries(model):
        reason = refusal(layer)
        if reason is not None:
            error = Unexportable(reason)
            error.layer, error.path = layer_name(layer), path
            raise error
