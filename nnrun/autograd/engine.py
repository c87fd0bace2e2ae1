"""Backpropagation: reverse topological walk from the goal, summing gradients over paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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


def reduce_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back down to an operand's shape."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · grad into every leaf's `.grad` that requires it."""
    order = topological_order(root)
    # id -> [gradient, owned]; `owned` means we allocated it, so in-place adds are safe.
    pending: dict[int, list] = {id(root): [grad, False]}
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
        previous = None
        for parent, parent_grad in zip(ctx.parents, input_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            fresh = parent_grad is not node_grad and parent_grad is not previous
            previous = parent_grad
            data = parent.data
            if parent_grad.shape != data.shape:
                parent_grad = reduce_to_shape(parent_grad, data.shape)
                fresh = True
            if parent_grad.dtype != data.dtype:
                parent_grad = parent_grad.astype(data.dtype)
                fresh = True
            fresh = fresh and parent_grad.base is None
            slot = pending.get(id(parent))
            if slot is None:
                pending[id(parent)] = [parent_grad, fresh]
            elif slot[1]:
                slot[0] += parent_grad
            else:
                slot[0] = slot[0] + parent_grad
                slot[1] = True
        if not retain_graph:
            ctx.release()
