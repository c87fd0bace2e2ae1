"""The converters: layer class → function writing that layer's ONNX nodes.

A converter is registered where it is written (`@converter(Linear)`); a subclass without
its own converter uses its nearest base class's. Layers that ONNX cannot express are listed
in UNEXPORTABLE with the reason the user is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from nnrun.export.graph import Converter, Unexportable
from nnrun.nn.module import Module

CONVERTERS: dict[type, Converter] = {}
UNEXPORTABLE: dict[type, str] = {}


def converter(*classes: type) -> Callable[[Converter], Converter]:
    """Decorator: register `fn(graph, call) -> output name` for layers of `classes`."""

    def decorator(fn: Converter) -> Converter:
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return decorator


def unexportable(reason: str, *classes: type) -> None:
    """Record that layers of `classes` cannot be exported, and why."""
    for cls in classes:
        UNEXPORTABLE[cls] = reason


def _nearest(layer: Module) -> type | None:
    """The nearest class of `layer` that has a converter or is marked unexportable."""
    return next(
        (cls for cls in type(layer).__mro__ if cls in CONVERTERS or cls in UNEXPORTABLE), None
    )


def refusal(layer: Module) -> str | None:
    """Why `layer` is marked unexportable, or None."""
    cls = _nearest(layer)
    return None if cls is None else UNEXPORTABLE.get(cls)


def find_converter(layer: Module) -> Converter:
    """The converter of `layer`'s class (or nearest base); Unexportable if there is none."""
    cls = _nearest(layer)
    if cls is None:
        raise Unexportable(f"no ONNX converter for {type(layer).__name__}")
    if cls in UNEXPORTABLE:
        raise Unexportable(UNEXPORTABLE[cls])
    return CONVERTERS[cls]
