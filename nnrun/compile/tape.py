"""Record the ops one call of a function runs, and replay them without the Python around them.

A `Tape` is filled while `Function.apply` is patched to report every op (class, inputs,
attributes, whether it joins the graph). Each value gets a *slot*: a Tensor that stays the
same object from call to call, whose `.data` a replay overwrites.

A tape accepted as a plan is `prepare`d into a flat program: one `Function` instance per
op, linked to its slots once and reused by every replay (its `forward` overwrites what the
backward needs); preallocated arrays for the values and input gradients of ops that accept
`out=` (see `Function.forward_out`), and for the sums of gradients that meet at one value;
and the backward as a list of (op, where each input gradient goes) in the recorded order.
A replay is then the ops' own `forward` and `backward` calls, the same NumPy operations as
the eager step, so results are bitwise equal; there are no Module calls, no argument
checks, no graph objects, no topological sort and no dictionary of pending gradients.

A value that is neither an input, nor a parameter, nor the output of a recorded op is a
*leaf*: its array is reused as recorded. That is right for parameters and buffers (the same
objects every call) and for scalar constants, wrong for an array computed from the input
outside any op. `difference` compares two recordings and accepts them only if every leaf and
array attribute is the same object in both, or a scalar of equal value, so such values (and
control flow that depends on the data) show up as a difference and the caller stays eager.
"""

from __future__ import annotations

import itertools
import operator
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from nnrun.autograd.engine import arity_error, conform, run_backward
from nnrun.autograd.function import Function
from nnrun.autograd.tensor import Tensor

_DATA = operator.attrgetter("data")
_GRAD = operator.attrgetter("grad")
_LARGE = 1 << 20  # bytes of intermediate values above which replays release them
_APPLY = Function.apply.__func__  # type: ignore[attr-defined]
_LOCK = threading.Lock()
_active: list[Tape] = []


class Unreplayable(Exception):
    """The call did something a tape cannot hold; the reason is the message."""


class OpRecord:
    """One recorded op: what to call and where its inputs and output live."""

    __slots__ = (
        "attrs",
        "call_attrs",
        "cls",
        "ctx",
        "grad_out",
        "input_attrs",
        "links",
        "needs",
        "out",
        "parents",
        "refs",
    )

    def __init__(
        self,
        cls: type[Function],
        parents: tuple[Tensor, ...],
        refs: tuple[Any, ...],
        attrs: dict[str, Any],
        input_attrs: tuple[tuple[str, int], ...],
        needs: tuple[bool, ...],
        out: Tensor,
    ) -> None:
        self.cls = cls
        self.parents = parents
        self.refs = refs  # how each parent was found, for `difference`
        self.attrs = attrs
        self.input_attrs = input_attrs
        self.needs = needs
        self.out = out
        # set by `Tape.prepare`: the instance replays reuse, the attributes with the output
        # buffer, the buffers for input gradients (or None)
        self.ctx: Function  # (not set until then)
        self.links: dict[str, Any] = {}
        self.call_attrs: dict[str, Any] = attrs
        self.grad_out: tuple[np.ndarray | None, ...] | None = None


class Tape:
    """The ops of one call, with slots for its inputs (`arrays`) and outputs."""

    def __init__(self, arrays: list[np.ndarray]):
        self.thread = threading.get_ident()
        self.input_index = {id(a): i for i, a in enumerate(arrays)}
        self.inputs = [Tensor._wrap(a, False) for a in arrays]
        self.ops: list[OpRecord] = []
        self.result: Any = None
        self.order: list[Tensor] | None = None
        self._program: _BackwardProgram | None = None
        self._forward: list[tuple] = []  # per op, what `replay` reads (see `prepare`)
        self._intermediates: list[Tensor] = []
        self.releases = False  # whether replays release intermediates (see `prepare`)
        self._slots: dict[int, tuple[Tensor, Any]] = {}
        self._alive: list[Any] = []  # keeps recorded objects alive, so ids stay unique

    # ----------------------------------------------------------------- recording
    def _slot(self, tensor: Tensor) -> tuple[Tensor, Any]:
        found = self._slots.get(id(tensor))
        if found is not None:
            return found
        if tensor._ctx is not None:
            raise Unreplayable("an op input comes from a graph built outside the call")
        index = None if tensor.requires_grad else self.input_index.get(id(tensor.data))
        found = (tensor, tensor) if index is None else (self.inputs[index], ("input", index))
        self._slots[id(tensor)] = found
        self._alive.append(tensor)
        return found

    def add(self, cls: type[Function], inputs: tuple, attrs: dict, out: Tensor) -> None:
        slots = [self._slot(t) for t in inputs]
        input_attrs = tuple(
            (key, self.input_index[id(value)])
            for key, value in attrs.items()
            if isinstance(value, np.ndarray) and id(value) in self.input_index
        )
        static = {key: value for key, value in attrs.items() if key not in dict(input_attrs)}
        needs = (
            tuple([t.requires_grad for t in inputs])
            if out.requires_grad
            else (False,) * len(inputs)
        )
        slot = Tensor._wrap(out.data, out.requires_grad)
        index = len(self.ops)
        self.ops.append(
            OpRecord(
                cls,
                tuple(s for s, _ in slots),
                tuple(ref for _, ref in slots),
                static,
                input_attrs,
                needs,
                slot,
            )
        )
        self._slots[id(out)] = (slot, ("op", index))
        self._alive.append(out)

    def finish(self, result: Any) -> None:
        """Map the call's result (Tensors in tuples, lists and dicts) onto slots."""
        self.result = _map_tensors(result, lambda t: self._slot(t)[0])

    def set_order(self, order: list[Tensor]) -> None:
        """The backward's topological order, recorded from the eager graph."""
        self.order = [self._slots[id(node)][0] for node in order]

    def release(self) -> None:
        """Drop the references to the recorded call's own objects."""
        self._slots.clear()
        self._alive.clear()

    # ----------------------------------------------------------------- comparing
    def difference(self, other: Tape) -> str | None:
        """What the two recordings did differently (see the module doc), or None."""
        if len(self.ops) != len(other.ops) or len(self.inputs) != len(other.inputs):
            return "two calls ran different numbers of ops"
        slots = {id(s): k for k, s in enumerate(self._all_slots())}
        others = {id(s): k for k, s in enumerate(other._all_slots())}
        for index, (mine, theirs) in enumerate(zip(self.ops, other.ops, strict=True)):
            where = f"op {index} ({mine.cls.__name__})"
            if mine.cls is not theirs.cls or mine.needs != theirs.needs:
                return f"{where} differs between two calls"
            if not all(map(_same_ref, mine.refs, theirs.refs)):
                return f"{where} reads an array computed outside the recorded ops"
            if mine.input_attrs != theirs.input_attrs or mine.attrs.keys() != theirs.attrs.keys():
                return f"{where} got different attributes"
            for key in mine.attrs:
                if not _same_value(mine.attrs[key], theirs.attrs[key]):
                    return f"{where}: attribute {key!r} changes from call to call"
        mapped = _map_tensors(self.result, lambda t: slots.get(id(t), t))
        if not _same_value(mapped, _map_tensors(other.result, lambda t: others.get(id(t), t))):
            return "the call returned different values"
        mine_order = None if self.order is None else [slots.get(id(t), t) for t in self.order]
        if other.order is None or mine_order is None:
            return None if other.order is mine_order else "only one call ran a backward"
        their_order = [others.get(id(t), t) for t in other.order]
        if len(mine_order) != len(their_order) or not all(map(_same_ref, mine_order, their_order)):
            return "two backward passes differ"
        return None

    def _all_slots(self) -> Iterator[Tensor]:
        yield from self.inputs
        for op in self.ops:
            yield op.out

    # ----------------------------------------------------------------- replaying
    def prepare(self) -> None:
        """Turn the accepted recording into the flat program a replay runs (module doc)."""
        results = [t.data for t in _tensors(self.result)]
        kept = {id(t) for t in _tensors(self.result)}
        self._intermediates = [op.out for op in self.ops if id(op.out) not in kept]
        # Releasing costs a few calls per op: worth it only once a step's activations
        # outgrow the caches (then the allocator reuses warm memory instead of fresh pages).
        self.releases = sum(slot.data.nbytes for slot in self._intermediates) > _LARGE
        for op in self.ops:
            op.ctx = op.cls()
            op.links = {"needs_input_grad": op.needs, "freed": False}
            if op.out.requires_grad:
                op.links["parents"] = op.parents
                op.out._ctx = op.ctx
            op.ctx.__dict__.update(op.links)
            value = op.out.data
            # A value that is (a view of) a result reaches the caller, who may keep it.
            private = isinstance(value, np.ndarray) and not any(
                np.may_share_memory(value, r) for r in results
            )
            op.call_attrs = op.attrs
            if op.cls.forward_out and private:
                op.call_attrs = {**op.attrs, "out": np.empty(value.shape, value.dtype)}
        # everything a replay reads, in one tuple per op (the replay is overhead-bound)
        self._forward = [
            (op.ctx, op.links, op.ctx.forward, op.parents, op.call_attrs, op.input_attrs, op.out)
            for op in self.ops
        ]
        if self.order is not None:
            self._program = _BackwardProgram(self.ops, self.order, self.releases)

    def replay(self, arrays: list[np.ndarray]) -> Any:
        """Run the recorded ops on new input arrays; return the result's slots."""
        for slot, array in zip(self.inputs, arrays, strict=True):
            slot.data = array
        for ctx, links, forward, parents, attrs, input_attrs, out in self._forward:
            if ctx.freed:  # released by the last backward: restore what `apply` sets
                ctx.__dict__.update(links)
            if input_attrs:
                attrs = {**attrs, **{key: arrays[i] for key, i in input_attrs}}
            out.data = forward(*map(_DATA, parents), **attrs)
        if self.order is None and self.releases:  # forward only: nothing reads them
            for op in self.ops:
                _release(op.ctx)
            self._drop_intermediates()
        return self.result

    def _drop_intermediates(self) -> None:
        """Forget the values only the ops used: holding them until the next replay would
        keep a step's worth of activations out of the allocator's reach."""
        for slot in self._intermediates:
            del slot.data  # the next replay sets it again

    def backward(self, root: Tensor) -> bool:
        """Backpropagate from `root` over the recorded program; False if it was not the
        recorded root (the caller then uses the engine's own backward)."""
        order = self.order
        if not order or order[-1] is not root:
            return False
        self._program.run()  # type: ignore[union-attr]
        if self.releases:
            self._drop_intermediates()
        return True


class _BackwardProgram:
    """The recorded backward, flat: for each value of `order` from the root down, the op
    that made it (and where each of its input gradients goes) or the leaf it is.

    It follows `engine.run_backward` step by step — the same calls, the same sums in the
    same order, the same rule for when a leaf may keep an array as its `.grad` — with list
    positions instead of a dictionary, and preallocated arrays: gradients that meet at one
    value are summed into an array owned by that value, and ops that accept `out=` write
    input gradients straight into arrays kept from step to step (for parameters, those
    become `.grad`; the optimizer's `zero_grad` drops them, and the next step overwrites
    them). When a parameter still holds a gradient from before (accumulation over several
    backward passes), the step runs `run_backward` instead, which adds to it.
    """

    def __init__(self, ops: list[OpRecord], order: list[Tensor], release: bool):
        self.release = release
        self.order, self.root = order, order[-1]
        self.root_grad = np.ones_like(self.root.data)
        position = {id(t): k for k, t in enumerate(order)}
        made_by = {id(op.out): op for op in self.ops_in(ops, position)}
        incoming = [0] * len(order)
        for record in made_by.values():
            for parent, need in zip(record.parents, record.needs, strict=True):
                if need and id(parent) in position:
                    incoming[position[id(parent)]] += 1
        self.sums = [
            np.empty_like(t.data) if n > 1 else None for t, n in zip(order, incoming, strict=True)
        ]
        self.leaves = [t for t in order if id(t) not in made_by]
        # per value from the root down: (position, leaf or op record, the op's bound
        # backward and its `out=` arrays, where each input gradient goes: (input, position,
        # slot, `out=` array, whether the slot is a leaf of this path alone, which gets its
        # .grad right there)); None for a leaf (of several paths: when all are summed)
        self.steps: list[tuple[int, Any, Any, Any, Any]] = []
        for k in range(len(order) - 1, -1, -1):
            op = made_by.get(id(order[k]))
            if op is None:
                if incoming[k] > 1:  # a leaf of one path gets its .grad from the route
                    self.steps.append((k, order[k], None, None, None))
                continue
            routes = [
                (i, position[id(parent)], parent)
                for i, (parent, need) in enumerate(zip(op.parents, op.needs, strict=True))
                if need and id(parent) in position
            ]
            buffers: list[np.ndarray | None] = [None] * len(op.parents)
            if op.cls.backward_out:
                for i, j, parent in routes:
                    if incoming[j] == 1:
                        buffers[i] = np.empty(parent.data.shape, parent.data.dtype)
                op.grad_out = tuple(buffers)
            self.steps.append(
                (
                    k,
                    op,
                    op.ctx.backward,
                    op.grad_out,
                    tuple(
                        (i, j, parent, buffers[i], id(parent) not in made_by and incoming[j] == 1)
                        for i, j, parent in routes
                    ),
                )
            )
        root_op = made_by.get(id(self.root))
        self.root_ctx = None if release or root_op is None else root_op.ctx
        self.grads: list[Any] = [None] * len(order)
        self.owned = [False] * len(order)

    @staticmethod
    def ops_in(ops: list[OpRecord], position: dict[int, int]) -> list[OpRecord]:
        """The ops whose value the backward reaches."""
        return [op for op in ops if op.out.requires_grad and id(op.out) in position]

    def run(self) -> None:
        if any(map(operator.is_not, map(_GRAD, self.leaves), itertools.repeat(None))):
            run_backward(self.order, self.root, np.ones_like(self.root.data))
            return
        grads, owned, sums = self.grads, self.owned, self.sums
        grads[-1], owned[-1] = self.root_grad, False
        for k, op, backward, grad_out, routes in self.steps:
            grad = grads[k]
            if grad is None:
                continue
            grads[k] = None
            if routes is None:  # a leaf: every path into it has been summed
                op.grad = grad if owned[k] else grad.copy()
                continue
            input_grads = backward(grad, out=grad_out) if grad_out else backward(grad)
            if type(input_grads) is not tuple or len(input_grads) != len(op.parents):
                raise arity_error(op.ctx, input_grads)
            previous = grad
            for i, j, parent, buffer, leaf in routes:
                parent_grad = input_grads[i]
                if parent_grad is None:
                    continue
                if parent_grad is buffer:  # written where asked: the right shape, owned
                    previous = buffer
                    if leaf:
                        parent.grad = buffer
                    else:
                        grads[j], owned[j] = buffer, True
                    continue
                # An array returned for the output's gradient or for two inputs is shared.
                mine = parent_grad is not grad and parent_grad is not previous
                previous = parent_grad
                data = parent.data
                if parent_grad.shape != data.shape or parent_grad.dtype != data.dtype:
                    parent_grad = conform(op.ctx, i, parent_grad, data)
                    mine = True
                if leaf:
                    parent.grad = (
                        parent_grad if mine and parent_grad.base is None else parent_grad.copy()
                    )
                    continue
                current = grads[j]
                if current is None:
                    grads[j], owned[j] = parent_grad, mine and parent_grad.base is None
                elif current is sums[j]:
                    current += parent_grad
                else:
                    grads[j], owned[j] = np.add(current, parent_grad, out=sums[j]), True
            if self.release:
                _release(op.ctx)
        if self.root_ctx is not None:  # a second backward from the root is refused, as eagerly
            self.root_ctx.freed = True


def _release(ctx: Function) -> None:
    """`Function.release` for a replayed op: its saved arrays dropped, and a second backward
    through it refused as the engine refuses it (`replay` restores the links)."""
    saved = ctx.__dict__
    saved.clear()
    saved["freed"] = True


def _tensors(value: Any) -> list[Tensor]:
    found: list[Tensor] = []
    _map_tensors(value, found.append)
    return found


def _map_tensors(value: Any, fn: Callable[[Tensor], Any]) -> Any:
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_map_tensors(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    if value is None:
        return None
    raise Unreplayable(f"the call returned a {type(value).__name__}, not tensors")


def _same_ref(a: Any, b: Any) -> bool:
    """Two parents (or order entries) found the same way: the same slot position, input
    or leaf object, or equal scalar constants."""
    if a is b:
        return True
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return not a.requires_grad and not b.requires_grad and _same_value(a.data, b.data)
    return type(a) is type(b) and not isinstance(a, Tensor) and a == b


def _same_value(a: Any, b: Any) -> bool:
    """Equal attributes: arrays must be one object unless scalar (a fresh array of more than
    one value each call is taken to be computed from the data)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.size <= 1
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
        )
    if isinstance(a, (bool, int, float, str, bytes, type(None), np.generic, np.dtype, slice)):
        return type(a) is type(b) and bool(a == b)
    return False  # any other object: only the very same one


@contextmanager
def recording(tape: Tape) -> Iterator[Tape]:
    """Report every op this thread applies in this block to `tape`."""
    with _LOCK:
        _active.append(tape)
        # Patching the engine's entry point: a classmethod replaced at run time, which no
        # static type can say.
        Function.apply = classmethod(_recording_apply)  # type: ignore[method-assign, assignment]
    try:
        yield tape
    finally:
        with _LOCK:
            _active.remove(tape)
            if not _active:
                Function.apply = classmethod(_APPLY)  # type: ignore[method-assign, assignment]


def _recording_apply(cls: type[Function], *inputs: Tensor, **attrs: Any) -> Tensor:
    out = _APPLY(cls, *inputs, **attrs)
    for tape in _active:
        if tape.thread == threading.get_ident():
            tape.add(cls, inputs, attrs, out)
    return out
