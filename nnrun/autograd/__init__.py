"""The autograd engine: tensors, the computation graph, and backpropagation."""

from nnrun.autograd.engine import GraphFreedError
from nnrun.autograd.function import Function
from nnrun.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from nnrun.autograd.tensor import Tensor

__all__ = ["Function", "GraphFreedError", "Tensor", "enable_grad", "is_grad_enabled", "no_grad"]
