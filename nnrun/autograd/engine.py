"""Backpropagation: reverse topological walk from the goal, summing gradients over paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nnrun.autograd.function import Function
    from nnrun.autograd.tensor import Tensor


class GraphFreedError(RuntimeError):
    """backward() reached a node whose saved values were released by an earlier backward."""


_FREED = (
    "Trying to backward through the graph a second time: its saved values were released "
    "after the first backward(). Call backward(retain_graph=True) the first time if you "
    "need to backpropagate through it again."
)


def topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from `root` that need gradients, inputs before outputs.

    Iterative depth-first search over (node, iterator of its inputs) pairs, so a graph of
    any depth (an unrolled RNN, a 100,000-op chain) never touches Python's recursion limit.
    Leaves are emitted as soon as they are met.
    """
    ctx = root._ctx
    if ctx is None:
        return [root]
    if ctx.freed:
        raise GraphFreedError(_FREED)
    order: list[Tensor] = []
    visited = {id(root)}
    stack = [(root, iter(ctx.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if not parent.requires_grad or id(parent) in visited:
                continue
            visited.add(id(parent))
            parent_ctx = parent._ctx
            if parent_ctx is None:
                order.append(parent)
                continue
            if parent_ctx.freed:
                raise GraphFreedError(_FREED)
            stack.append((parent, iter(parent_ctx.parents)))
            break
        else:
            stack.pop()
            order.append(node)
    return order


class BackwardContractError(RuntimeError):
    """An op's backward broke the contract of `Function.backward` (a bug in the op)."""


def reduce_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back down to an operand's shape."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _contract_error(ctx: Function, message: str) -> BackwardContractError:
    return BackwardContractError(f"{type(ctx).__name__}.backward has a bug: {message}")


def arity_error(ctx: Function, grads: Any) -> BackwardContractError:
    """The error for a backward result that is not a tuple with one entry per input."""
    if type(grads) is not tuple:
        return _contract_error(
            ctx, f"it returned {type(grads).__name__}, expected a tuple of gradients"
        )
    return _contract_error(ctx, f"it returned {len(grads)} gradients for {len(ctx.parents)} inputs")


def conform(ctx: Function, index: int, grad: Any, like: np.ndarray) -> np.ndarray:
    """`grad` as the gradient of input `index` of `ctx`: broadcast dimensions summed away and
    cast to the input's dtype. Raises BackwardContractError if it cannot be (the slow path
    of `accumulate`: only called when the shape or dtype differs)."""
    shape = like.shape
    try:
        if grad.shape != shape:
            grad = reduce_to_shape(grad, shape)
        if grad.shape == shape:
            return grad.astype(like.dtype, copy=False)
        found = grad.shape
    except (AttributeError, IndexError, ValueError):
        found = getattr(grad, "shape", type(grad).__name__)
    raise _contract_error(
        ctx,
        f"the gradient for input {index} has shape {found}, which does not reduce to "
        f"the input's shape {shape}",
    )


def accumulate(pending: dict[int, list], key: int, grad: np.ndarray, owned: bool) -> None:
    """Add `grad` into the gradient pending for the tensor with id `key`.

    `owned` says nobody else holds `grad` (the engine or the op allocated it for this edge
    alone), so it may be kept and later added to in place. The first gradient of a tensor
    is kept as is, owned or not; the second is added into the first in place if that one
    is owned, otherwise into a fresh sum, which is then owned. This is what lets a tensor
    with many consumers accumulate without one allocation per consumer, while never
    writing into an array an op saved or returned twice.
    """
    slot = pending.get(key)
    if slot is None:
        pending[key] = [grad, owned]
    elif slot[1]:
        slot[0] += grad
    else:
        slot[0] = slot[0] + grad
        slot[1] = True


def backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · grad into every leaf's `.grad` that requires it."""
    run_backward(topological_order(root), root, grad, retain_graph)


def run_backward(
    order: list[Tensor], root: Tensor, grad: np.ndarray, retain_graph: bool = False
) -> None:
    """Backpropagate `grad` from `root` over `order`, its `topological_order` (a compiled
    step that must add to gradients held from before passes the order it recorded)."""
    pending: dict[int, list] = {id(root): [grad, False]}  # id -> [gradient, owned]
    for node in reversed(order):
        entry = pending.pop(id(node), None)
        if entry is None:
            continue
        node_grad, owned = entry
        ctx = node._ctx
        if ctx is None:
            if node.grad is None:
                node.grad = node_grad if owned else node_grad.copy()
            else:
                node.grad += node_grad
            continue
        input_grads = ctx.backward(node_grad)
        parents = ctx.parents
        if type(input_grads) is not tuple or len(input_grads) != len(parents):
            raise arity_error(ctx, input_grads)
        previous = node_grad
        for index, parent_grad in enumerate(input_grads):
            if parent_grad is None:
                continue
            parent = parents[index]
            if not parent.requires_grad:
                continue
            # An array returned for the output's gradient or for two inputs is shared.
            owned = parent_grad is not node_grad and parent_grad is not previous
            previous = parent_grad
            data = parent.data
            if parent_grad.shape != data.shape or parent_grad.dtype != data.dtype:
                parent_grad = conform(ctx, index, parent_grad, data)
                owned = True
            accumulate(pending, id(parent), parent_grad, owned and parent_grad.base is None)
        if not retain_graph:
            ctx.release()
