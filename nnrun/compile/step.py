"""Compiled calls: record a function's ops per input signature, then replay them.

`Compiled(fn)` wraps `fn(*args) -> tensors`. The first two calls with a new signature
(shapes and dtypes of the argument arrays, grad mode, and whatever `key()` adds, e.g. the
model's train/eval mode) run eagerly while recording; if both recordings agree (see
`tape.Tape.difference`) the signature gets a plan and later calls replay it. A signature
whose recordings disagree stays eager, with a one-time note. `compile_step` builds a whole
training step on top.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from nnrun.autograd.engine import topological_order
from nnrun.autograd.grad_mode import GradMode
from nnrun.autograd.tensor import Tensor
from nnrun.compile.tape import Tape, Unreplayable, recording
from nnrun.errors import NnrunError

EAGER = "eager"


def _flatten(value: Any, arrays: list[np.ndarray]) -> Any:
    """The structure of `value` (hashable), collecting its arrays in order."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        arrays.append(value)
        return ("array", value.shape, value.dtype.str)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(_flatten(v, arrays) for v in value))
    if isinstance(value, dict):
        return ("dict", *((k, _flatten(v, arrays)) for k, v in value.items()))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise Unreplayable(f"an argument of type {type(value).__name__}")


def _array_shapes(args: tuple) -> tuple | None:
    """The shapes and dtypes of `args` if all are ndarrays, else None."""
    shapes = tuple([(arg.shape, arg.dtype) for arg in args if type(arg) is np.ndarray])
    return shapes if len(shapes) == len(args) else None


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


class Compiled:
    """`fn` recorded once per signature and replayed (bitwise equal to calling it)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        key: Callable[[], Any] = tuple,
        note: Callable[[str], None] = _warn,
        name: str = "the compiled call",
    ):
        self.fn, self.key, self.note, self.name = fn, key, note, name
        self.plans: dict[Any, Any] = {}  # signature -> Tape (plan), [Tape] (one recording), EAGER
        self.noted = False
        self.last: Tape | None = None  # the tape of the last call, if it replayed or recorded
        self._recorded: tuple[Any, Tape] | None = None
        # the signature of the last replay and its plan: a training loop repeats one
        # signature, and comparing tuples is cheaper than hashing shapes and dtypes
        self._repeat: tuple[Any, Tape | None] = (None, None)

    def __call__(self, *args: Any) -> Any:
        if self._recorded is not None:
            self._close()
        arrays: list[np.ndarray] = []
        try:
            shapes = _array_shapes(args)  # the common case, quickly
            if shapes is None:
                shapes = _flatten(args, arrays)
            else:
                arrays = list(args)
            signature = (shapes, self.key(), GradMode.enabled)
            last, plan = self._repeat
            if signature != last:
                plan = self.plans.get(signature)
        except (Unreplayable, TypeError) as reason:  # TypeError: an unhashable key
            self._fall_back(None, str(reason))
            return self.fn(*args)
        if isinstance(plan, Tape):
            self.last, self._repeat = plan, (signature, plan)
            return plan.replay(arrays)
        if plan is EAGER:
            self.last = None
            return self.fn(*args)
        tape = Tape(arrays)
        with recording(tape):
            result = self.fn(*args)
        try:
            tape.finish(result)
        except Unreplayable as reason:
            self._fall_back(signature, str(reason))
            return result
        self.last, self._recorded = tape, (signature, tape)
        return result

    def backward(self, loss: Tensor) -> None:
        """`loss.backward()`, over the recorded order when the last call replayed."""
        tape, self.last = self.last, None
        recorded = self._recorded is not None and self._recorded[1] is tape
        if tape is not None and not recorded and tape.backward(loss):
            return
        if recorded and loss.requires_grad:
            assert tape is not None and self._recorded is not None  # what `recorded` says
            try:
                tape.set_order(topological_order(loss))
            except KeyError:
                self._fall_back(self._recorded[0], "the loss is not computed in the call")
                self._recorded = None
        loss.backward()
        self._close()

    def _close(self) -> None:
        """File the last recording: a second one that matches the first makes a plan."""
        if self._recorded is None:
            return
        signature, tape = self._recorded
        self._recorded = None
        tape.release()
        if tape.order is None and any(op.out.requires_grad for op in tape.ops):
            return  # a graph that was never backpropagated (e.g. a skipped batch): incomplete
        earlier = self.plans.get(signature)
        if earlier is None:
            self.plans[signature] = [tape]
            return
        difference = earlier[0].difference(tape)
        if difference is None:
            tape.prepare()
            self.plans[signature] = tape
        else:
            self._fall_back(signature, difference)

    def _fall_back(self, signature: Any, reason: str) -> None:
        if signature is not None:
            self.plans[signature] = EAGER
        if not self.noted:
            self.noted = True
            self.note(f"{self.name} runs eagerly: it cannot be replayed ({reason})")

    @property
    def replaying(self) -> bool:
        """Whether any signature has a plan."""
        return any(isinstance(plan, Tape) for plan in self.plans.values())


def compile_step(
    model: Any, loss_fn: Callable[..., Tensor], optimizer: Any, note: Callable[[str], None] = _warn
) -> Callable[[Any, Any], float]:
    """A training step `step(inputs, targets) -> loss` (a float): forward, loss (averaged if
    it is not a scalar), backward, `optimizer.step()` and `optimizer.zero_grad()`.

    The graph of the first calls is recorded and later calls with the same input shapes
    replay it (one plan per shape, e.g. the last, smaller batch), with results bitwise equal
    to the eager step, dropout included. A model that cannot be replayed (its ops or
    constants depend on the data) runs eagerly, with a one-time `note` (a warning).
    `step.compiled` is the underlying `Compiled`.
    """

    def forward(inputs: Any, targets: Any) -> tuple[Any, Tensor]:
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        return outputs, loss if loss.data.size == 1 else loss.mean()

    compiled = Compiled(forward, key=lambda: model.training, note=note, name="the model")

    def step(inputs: Any, targets: Any) -> float:
        _, loss = compiled(inputs, targets)
        compiled.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.data)

    step.compiled = compiled  # type: ignore[attr-defined]
    return step


class Eager:
    """The `Compiled` interface without compiling (`compile: off`)."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def backward(self, loss: Tensor) -> None:
        loss.backward()


class CompileError(NnrunError):
    """`compile: on` for a model that cannot be replayed."""


def _refuse(message: str) -> None:
    raise CompileError(
        f"train.compile is on, but {message}. Set train.compile: auto to run such a model eagerly."
    )


def compiled_call(
    fn: Callable[..., Any],
    mode: str | bool,
    key: Callable[[], Any] = tuple,
    note: Callable[[str], None] = _warn,
) -> Compiled | Eager:
    """`fn` as `mode` (train.compile: "auto", "on"/True, "off"/False) asks: `auto` runs a
    model that cannot be replayed eagerly after one `note`, `on` raises CompileError."""
    if isinstance(mode, bool):
        mode = "on" if mode else "off"
    if mode == "off":
        return Eager(fn)
    return Compiled(fn, key, _refuse if mode == "on" else note, "the model")
