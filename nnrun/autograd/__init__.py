"""The autograd engine: tensors, the computation graph, and backpropagation."""

from nnrun.autograd.tensor import Tensor  # first: the ops it binds import Function

from nnrun.autograd.engine import GraphFreedError  # noqa: E402
from nnrun.autograd.function import Function  # noqa: E402
from nnrun.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad  # noqa: E402

__all__ = ["Function", "GraphFreedError", "Tensor", "enable_grad", "is_grad_enabled", "no_grad"]
