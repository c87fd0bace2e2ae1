"""`Parameter`: a tensor a module owns and an optimizer updates."""

from __future__ import annotations

from typing import Any

from nnrun.autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and registers itself on a Module."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]
