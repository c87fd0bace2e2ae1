"""Products: matmul (batched, NumPy semantics), tensordot, einsum."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.engine import reduce_to_shape
from nnrun.autograd.function import Function, Grads
from nnrun.ops.buffers import contiguous


class MatMul(Function):
    """a @ b with np.matmul's rules: 1-D operands are promoted, batch dims broadcast. Takes
    `out=` arrays forward, and backward for 2-D operands (see Function)."""

    forward_out = backward_out = True

    def forward(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self.a, self.b = a, b
        # A stacked product lays its batch dimensions out as its operands' (see ops/buffers)
        stacked = a.ndim > 2 or b.ndim > 2
        into = None if stacked and not contiguous(a, b) else out
        value: np.ndarray = np.matmul(a, b, out=into)
        return value

    def backward(self, grad: np.ndarray, out: Grads = (None, None)) -> Grads:
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (
                np.matmul(grad, b.T, out=_product(out[0], grad, b)) if need_a else None,
                np.matmul(a.T, grad, out=_product(out[1], a, grad)) if need_b else None,
            )
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if need_a else None, grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        grad2 = grad
        if a.ndim == 1:
            grad2 = np.expand_dims(grad2, -2)
        if b.ndim == 1:
            grad2 = np.expand_dims(grad2, -1)
        grad_a = grad_b = None
        if need_a:
            grad_a = reduce_to_shape(grad2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = reduce_to_shape(np.swapaxes(a2, -1, -2) @ grad2, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def _product(buffer: np.ndarray | None, left: np.ndarray, right: np.ndarray) -> np.ndarray | None:
    """`buffer` for a 2-D product of `left` and `right` when it has the product's dtype
    (its shape is the input's, which the product has), else None."""
    return buffer if buffer is not None and np.result_type(left, right) == buffer.dtype else None


def _tensordot_axes(axes: Any, a_ndim: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, int):
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
    return a_axes, b_axes


class TensorDot(Function):
    """np.tensordot(a, b, axes): sum over paired axes (e.g. the mode-n product)."""

    def forward(self, a: np.ndarray, b: np.ndarray, axes: Any) -> np.ndarray:
        self.a, self.b = a, b
        a_axes, b_axes = _tensordot_axes(axes, a.ndim)
        self.a_axes = [x % a.ndim for x in a_axes]
        self.b_axes = [x % b.ndim for x in b_axes]
        return np.tensordot(a, b, axes=(self.a_axes, self.b_axes))

    def backward(self, grad: np.ndarray) -> Grads:
        a, b, a_axes, b_axes = self.a, self.b, self.a_axes, self.b_axes
        free_a = [i for i in range(a.ndim) if i not in a_axes]
        free_b = [i for i in range(b.ndim) if i not in b_axes]
        need_a, need_b = self.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            out_b = list(range(len(free_a), grad.ndim))
            partial = np.tensordot(grad, b, axes=(out_b, free_b))
            order = free_a + [a_axes[j] for j in np.argsort(b_axes)]
            grad_a = partial.transpose(np.argsort(order))
        if need_b:
            partial = np.tensordot(a, grad, axes=(free_a, list(range(len(free_a)))))
            order = [b_axes[j] for j in np.argsort(a_axes)] + free_b
            grad_b = partial.transpose(np.argsort(order))
        return grad_a, grad_b


def _parse_einsum(subscripts: str, count: int) -> tuple[list[str], str]:
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError("einsum: ellipsis ('...') is not supported; name every axis")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs = spec
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    terms = inputs.split(",")
    if len(terms) != count:
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {count} operands")
    return terms, output


class Einsum(Function):
    """np.einsum with explicit subscripts; each operand's gradient is another einsum."""

    def forward(self, *operands: np.ndarray, subscripts: str) -> np.ndarray:
        self.terms, self.output = _parse_einsum(subscripts, len(operands))
        for term, need in zip(self.terms, self.needs_input_grad, strict=True):
            if need and len(set(term)) != len(term):
                raise ValueError(
                    f"einsum: repeated index in {term!r} (a diagonal) is not differentiable "
                    "here; take the diagonal with indexing first"
                )
        self.operands = operands
        return np.asarray(np.einsum(subscripts, *operands, optimize=len(operands) > 2))

    def backward(self, grad: np.ndarray) -> Grads:
        grads: list[np.ndarray | None] = []
        for i, (term, need) in enumerate(zip(self.terms, self.needs_input_grad, strict=True)):
            if not need:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(self.terms) if j != i]
            other_ops = [o for j, o in enumerate(self.operands) if j != i]
            reachable = set(self.output).union(*others) if others else set(self.output)
            kept = "".join(c for c in term if c in reachable)
            spec = ",".join([self.output, *others]) + "->" + kept
            partial = np.einsum(spec, grad, *other_ops, optimize=len(other_ops) > 1)
            # Indices summed only inside this operand: its gradient is constant along them.
            shape = [self.operands[i].shape[k] if c in reachable else 1 for k, c in enumerate(term)]
            grads.append(np.broadcast_to(partial.reshape(shape), self.operands[i].shape))
        return tuple(grads)
