"""`OnnxGraph`: the ONNX graph under construction, with nnrun's values traced alongside.

Every value in the graph is a `Value`: its ONNX name plus the nnrun arrays computed for two
sample batches (sizes 2 and 3). The samples give every converter the static shape of its
inputs and output, with None on the batch axis (the one axis where the two samples differ),
so converters can write Reshape targets and masks without shape arithmetic in the graph.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import DTypeLike
from onnx import helper, numpy_helper

from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor
from nnrun.config.paths import KeyPath
from nnrun.nn.module import Module

Shape = tuple[int | None, ...]


class Unexportable(Exception):
    """A layer (or one of its options) with no ONNX equivalent. `OnnxGraph.call` fills in
    the layer's name and config entry on the way out."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.layer: str | None = None
        self.path: KeyPath = ()


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


@dataclass
class Value:
    """An ONNX value and the nnrun values it stands for at batch sizes 2 and 3."""

    name: str
    samples: tuple[Any, Any]

    @property
    def shape(self) -> Shape:
        small, large = (_array(s).shape for s in self.samples)
        return tuple(a if a == b else None for a, b in zip(small, large, strict=True))

    @property
    def rank(self) -> int:
        return len(self.shape)

    def size(self, axis: int) -> int:
        """The length of `axis`, which a converter needs fixed (not the batch axis)."""
        length = self.shape[axis]
        if length is None:
            raise Unexportable(f"axis {axis} of {self.name} changes with the batch size")
        return length


Layer = TypeVar("Layer", bound=Module)


@dataclass
class Call(Generic[Layer]):
    """One layer call being converted: the layer, its input values and its output's shape
    (`Call[Linear]`: a converter's annotation names the layer class it is registered for)."""

    layer: Layer
    inputs: list[Value]
    kwargs: dict[str, Value]
    output: Value

    @property
    def x(self) -> Value:
        """The first (often only) input."""
        return self.inputs[0]

    def arguments(self) -> dict[str, Value]:
        """The inputs by the names of the layer's forward() parameters."""
        bound = inspect.signature(self.layer.forward).bind(*self.inputs, **self.kwargs)
        return dict(bound.arguments)

    def only(self, *names: str) -> dict[str, Value]:
        """The arguments, refusing any input outside `names` (e.g. a padding mask)."""
        arguments = self.arguments()
        extra = [name for name in arguments if name not in names]
        if extra:
            raise Unexportable(f"the input(s) {', '.join(extra)} are not exported")
        return arguments


Converter = Callable[["OnnxGraph", Call[Any]], str]


class OnnxGraph:
    """Nodes, initializers and names of the graph being built, for ONNX opset `opset`.

    Initializers made from a parameter are cached by the parameter's identity, so a layer
    used twice (`share:`) or a parameter shared by two layers is stored once.
    """

    def __init__(self, opset: int, names: dict[int, str], find: Callable[[Module], Converter]):
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._param_names = names  # id(array) → state_dict name
        self._cache: dict[Any, str] = {}
        self._used: set[str] = set()
        self._find = find
        self.path: KeyPath = ()  # the config entry of the layer being converted

    # ---------------------------------------------------------------- names and constants
    def fresh(self, hint: str) -> str:
        """A name not used before, based on `hint`."""
        base = hint.replace("/", ".") or "v"
        name, count = base, 1
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name

    def const(self, value: Any, hint: str = "const", dtype: Any = None) -> str:
        """An initializer holding `value` (float arrays default to float32)."""
        array = np.asarray(value, dtype=dtype)
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values: Sequence[int], hint: str = "shape") -> str:
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def param(self, array: Any, tag: str = "", make: Callable[[], np.ndarray] | None = None) -> str:
        """The initializer of a parameter or buffer (by its state_dict name), or of an array
        derived from it by `make` (cached under `tag`, so shared weights stay shared)."""
        data = _array(array)
        key = (id(data), tag)
        if key not in self._cache:
            base = self._param_names.get(id(data), "weight")
            value = data if make is None else make()
            if value.dtype.kind == "f":
                value = value.astype(np.float32)
            name = self.fresh(f"{base}.{tag}" if tag else base)
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
            self._cache[key] = name
        return self._cache[key]

    # ---------------------------------------------------------------- nodes
    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (or list of names when outputs > 1)."""
        names = [self.fresh(f"{op_type.lower()}") for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def reduce(self, op_type: str, x: str, axes: Sequence[int], keepdims: bool = True) -> str:
        """ReduceMean/ReduceMax/ReduceSum over `axes` (axes moved to an input in opset 18,
        for ReduceSum already in 13)."""
        keep = int(keepdims)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, x, self.ints(axes, "axes"), keepdims=keep)
        return self.op(op_type, x, axes=list(axes), keepdims=keep)

    def reshape(self, x: str, shape: Shape) -> str:
        """Reshape to a static shape whose one None (the batch axis) becomes −1."""
        return self.op("Reshape", x, self.ints([-1 if d is None else d for d in shape]))

    def transpose(self, x: str, perm: Sequence[int]) -> str:
        return self.op("Transpose", x, perm=list(perm))

    def scalar(self, value: float, dtype: Any = np.float32) -> str:
        return self.const(np.asarray(value, dtype=dtype), "scalar")

    # ---------------------------------------------------------------- layers
    def call(
        self,
        layer: Module,
        inputs: Sequence[Value],
        kwargs: dict[str, Value] | None = None,
        path: KeyPath | None = None,
    ) -> Value:
        """Convert one layer call: run the nnrun layer on the samples (for shapes), then its
        converter. `path` is the layer's config entry, named when it cannot be exported."""
        kwargs = kwargs or {}
        outer = self.path
        if path is not None:
            self.path = path
        with no_grad():
            samples = tuple(
                layer(
                    *(v.samples[i] for v in inputs), **{k: v.samples[i] for k, v in kwargs.items()}
                )
                for i in range(2)
            )
        output = Value("", samples)
        try:
            if isinstance(samples[0], tuple):
                raise Unexportable("layers with several outputs cannot be exported")
            converter = self._find(layer)
            output.name = converter(self, Call(layer, list(inputs), kwargs, output))
        except Unexportable as error:
            if error.layer is None:  # the innermost layer that failed
                error.layer = layer_name(layer)
                error.path = self.path
            raise
        self.path = outer
        return output


def layer_name(layer: Module) -> str:
    """The YAML name of a layer (`lstm`), else its class name."""
    return getattr(layer, "type_name", None) or type(layer).__name__


def dtype_code(dtype: DTypeLike) -> int:
    """The ONNX element type of a NumPy dtype."""
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
