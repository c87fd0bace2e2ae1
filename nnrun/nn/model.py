"""The two model shapes a config builds: a chain of layers and a DAG of named nodes.

Both run each layer through `call_node`, which turns a failure inside a layer into a
`NodeError` naming the config entry (`model.layers[2]`, `model.nodes.h1`) and the input
shapes, so shape mistakes point at the YAML line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrun.autograd.tensor import Tensor
from nnrun.errors import NnrunError, ShapeError
from nnrun.limits import LimitExceeded
from nnrun.nn.container import Sequential
from nnrun.nn.module import Module
from nnrun.nn.tensor_nodes import tensor_of

KeyPath = tuple[Any, ...]


class NodeError(ShapeError):
    """A layer failed on its inputs; `path` is the config entry that made the layer."""

    def __init__(self, message: str, path: KeyPath):
        self.path = path
        super().__init__(message)


@dataclass
class TraceRecord:
    """One layer's call during a traced forward pass (for summaries and graph views)."""

    label: str
    type: str
    output_shape: tuple[int, ...] | None
    parameters: int
    batched: bool = True  # False for a parameter/constant node: no batch axis


def shape_of(value: Any) -> Any:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [shape_of(v) for v in value]
    if isinstance(value, Mapping):
        return {k: shape_of(v) for k, v in value.items()}
    return None


def call_node(
    module: Module, args: Sequence[Any], kwargs: Mapping[str, Any], label: str, path: KeyPath
) -> Any:
    """Call a layer; explain a failure in terms of the config entry and input shapes."""
    try:
        return module(*args, **kwargs)
    except NodeError:
        raise
    except (ShapeError, ValueError, IndexError, TypeError) as error:
        shapes = ", ".join(str(shape_of(a)) for a in [*args, *kwargs.values()])
        kind = getattr(module, "type_name", type(module).__name__)
        raise NodeError(
            f"{label} ({kind}) cannot take input of shape {shapes}: {error}", path
        ) from error
    except LimitExceeded as error:  # e.g. units: 10**12, refused before allocating
        raise NodeError(f"{label}: {error}", path) from error
    except NnrunError:
        raise


def split_outputs(module: Module, result: Any) -> tuple[Any, dict[str, Any]]:
    """A layer's main output and its named extra outputs: a layer that returns several
    (attention weights, final RNN states) names them in `result_names`, main one first."""
    names = getattr(module, "result_names", ())
    if not names:
        return result, {}
    return result[0], dict(zip(names, result, strict=True))


def _params(module: Module) -> int:
    return sum(p.data.size for p in module.parameters())


class TracedModel(Module):
    """Shared by both model shapes: an optional trace of each layer call."""

    def __init__(self) -> None:
        super().__init__()
        self.trace: list[TraceRecord] | None = None

    def _record(self, label: str, module: Module | None, output: Any) -> None:
        if self.trace is not None:
            kind = getattr(module, "type_name", type(module).__name__) if module else "input"
            shape = shape_of(output)
            params = _params(module) if module else 0
            batched = module is None or tensor_of(module) is None
            self.trace.append(TraceRecord(label, kind, shape, params, batched))


class SequentialModel(TracedModel):
    """Layers applied in order; held as `self.layers` so names are `layers.<i>.<param>`."""

    def __init__(self, layers: Sequence[Module], paths: Sequence[KeyPath]):
        super().__init__()
        self.layers = Sequential(*layers)
        self.paths = list(paths)

    def forward(self, x: Any) -> Any:
        self._record("input", None, x)
        for i, layer in enumerate(self.layers):
            x, _ = split_outputs(layer, call_node(layer, (x,), {}, f"layers[{i}]", self.paths[i]))
            self._record(f"layers.{i}", layer, x)
        return x


@dataclass
class Node:
    """A graph node: its layer (None for a model input), its inputs, and its config path.

    `inputs` is a list of node names (positional arguments) or a mapping keyword → node.
    `owner` is the node whose layer this node reuses (`share:`), else the node itself.
    """

    name: str
    inputs: list[str] | dict[str, str]
    path: KeyPath
    owner: str


class GraphModel(TracedModel):
    """A DAG of named nodes; layers are attributes named after their nodes (`h1.weight`),
    and the tensor of a `parameter`/`constant` node is the parameter named after it (`A`).
    A node's extra outputs are values named `node.output` (`att.weights`)."""

    def __init__(
        self,
        input_names: Sequence[str],
        nodes: Sequence[Node],
        layers: Mapping[str, Module],
        outputs: Sequence[str],
    ):
        super().__init__()
        self.input_names = list(input_names)
        self.nodes = list(nodes)  # in topological order
        self.output_names = list(outputs)
        self.tensor_nodes: dict[str, Module] = {}
        for name, layer in layers.items():
            tensor = tensor_of(layer)
            if tensor is None:
                self.add_module(name, layer)
            else:
                self.register_parameter(name, tensor)
                self.tensor_nodes[name] = layer

    def forward(self, *inputs: Any, **named: Any) -> Any:
        values = self._bind_inputs(inputs, named)
        for name in self.input_names:
            self._record(name, None, values[name])
        for node in self.nodes:
            layer = self.tensor_nodes.get(node.owner) or self._modules[node.owner]
            if isinstance(node.inputs, dict):
                args, kwargs = (), {k: values[v] for k, v in node.inputs.items()}
            else:
                args, kwargs = tuple(values[v] for v in node.inputs), {}
            result = call_node(layer, args, kwargs, node.name, node.path)
            values[node.name], extra = split_outputs(layer, result)
            values.update({f"{node.name}.{key}": value for key, value in extra.items()})
            self._record(node.name, layer, values[node.name])
        if len(self.output_names) == 1:
            return values[self.output_names[0]]
        return tuple(values[name] for name in self.output_names)

    def _bind_inputs(self, inputs: tuple[Any, ...], named: dict[str, Any]) -> dict[str, Any]:
        if len(inputs) == 1 and isinstance(inputs[0], Mapping) and not named:
            named = dict(inputs[0])
            inputs = ()
        # fewer positional inputs than names: the rest may come by name, or are reported below
        values = dict(zip(self.input_names, inputs, strict=False))
        values.update(named)
        missing = [n for n in self.input_names if n not in values]
        if missing or len(inputs) > len(self.input_names):
            raise ShapeError(
                f"the model takes inputs {self.input_names}; got {len(inputs)} positional and "
                f"named {sorted(named)}" + (f" (missing {missing})" if missing else "")
            )
        return values
