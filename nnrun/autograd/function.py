"""`Function`: the base of every differentiable op.

An op subclasses `Function` and keeps its forward and backward side by side::

    class Mul(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad):
            return (grad * self.b if self.needs_input_grad[0] else None,
                    grad * self.a if self.needs_input_grad[1] else None)

`forward` receives ndarrays (and keyword attributes) and stores on `self` only what backward
needs; `backward` receives the gradient of the output and returns one gradient per input
(None where `needs_input_grad` is False). Gradients may have the broadcast shape: the engine
reduces them to each input's shape, once, centrally, and raises BackwardContractError for a
result that is not a tuple, has the wrong length, or holds a gradient that cannot reduce to
its input's shape. A backward may return the same array for two inputs; the engine then
never accumulates into it in place (see `engine.accumulate`).

A compiled step (`nnrun.compile`) keeps one instance per recorded op and calls `forward`
and `backward` on it every step, so `forward` must set everything `backward` reads. An op
may also take preallocated arrays, reused from step to step: with `forward_out` set,
`forward(..., out=array)` may write its value into `out` (a C-contiguous array of the
value's shape and dtype) and return `out`, or return a new array where writing into `out`
would change the value (a result NumPy lays out like non-contiguous operands, whose later
sums then add in another order: see `nnrun.ops.buffers`); with `backward_out` set,
`backward(grad, out=arrays)` gets one array or None per input and may write that input's
gradient into it (C-contiguous, the input's shape and dtype) and return it. Ops that do
not opt in are replayed the same way, allocating as they do eagerly.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

from nnrun.autograd.grad_mode import GradMode

Grads: TypeAlias = tuple[np.ndarray | None, ...]
"""What `Function.backward` returns: one gradient per input, None where none is needed."""


class Function:
    """One node of the computation graph: an op applied to some input tensors."""

    parents: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]
    freed: bool = False
    forward_out: bool = False
    backward_out: bool = False

    # `*arrays: Any, **attrs: Any` lets each op declare its own inputs and attributes.
    def forward(self, *arrays: Any, **attrs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Grads:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **attrs: Any) -> Tensor:
        """Run the op on tensors; record it in the graph when any input needs a gradient."""
        ctx = cls()
        needs = tuple([t.requires_grad for t in inputs])
        if GradMode.enabled and True in needs:
            ctx.needs_input_grad = needs
            out = Tensor._wrap(ctx.forward(*[t.data for t in inputs], **attrs), True)
            ctx.parents = inputs
            out._ctx = ctx
            return out
        ctx.needs_input_grad = (False,) * len(inputs)
        return Tensor._wrap(ctx.forward(*[t.data for t in inputs], **attrs), False)

    def release(self) -> None:
        """Drop saved arrays and the links to the inputs after backward."""
        self.__dict__.clear()
        self.freed = True


# Tensor's methods call ops, which subclass Function: bound last so either module may be
# imported first.
from nnrun.autograd.tensor import Tensor  # noqa: E402
