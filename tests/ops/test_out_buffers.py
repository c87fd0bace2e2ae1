"""Ops that take preallocated `out=` arrays (Function.forward_out / backward_out) give
bitwise the values they give without them, in the arrays they were handed."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun import random
from nnrun.autograd.function import Function
from nnrun.autograd.tensor import Tensor
from nnrun.compile.tape import Tape, recording
from tests.ops.op_cases import CASES


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# the ops that opt in; a base that other ops extend (the recurrences' loop) is never applied
TAKES_OUT = {
    c.__name__
    for c in _subclasses(Function)
    if (c.forward_out or c.backward_out) and not c.__subclasses__()
}
OUT_CASES = [case for case in CASES if case.op in TAKES_OUT]


def recorded_op(case):
    """(class, input arrays, attributes, needs) of the case's op, as `apply` called it."""
    tensors = [Tensor(x.astype(np.float32), requires_grad=True) for x in case.inputs]
    tape = Tape([])
    with recording(tape):
        case.fn(*tensors)
    (op,) = [op for op in tape.ops if op.cls.__name__ == case.op]
    return op.cls, [p.data for p in op.parents], op.attrs, op.needs


def test_every_op_that_takes_out_arrays_has_a_case():
    assert {case.op for case in OUT_CASES} == TAKES_OUT


@pytest.mark.parametrize("case", OUT_CASES, ids=lambda c: f"{c.op}-{c.id}")
def test_values_and_gradients_written_into_out_arrays_are_bitwise_the_plain_ones(case):
    cls, arrays, attrs, needs = recorded_op(case)
    plain, into = cls(), cls()
    plain.needs_input_grad = into.needs_input_grad = needs
    random.seed(0)  # ops that draw (dropout) draw the same both times
    value = plain.forward(*arrays, **attrs)
    random.seed(0)
    if cls.forward_out:
        out = np.full_like(value, np.nan)
        assert into.forward(*arrays, **attrs, out=out) is out
        assert np.array_equal(out, value)
    else:
        into.forward(*arrays, **attrs)
    grad = np.random.default_rng(0).standard_normal(value.shape).astype(value.dtype)
    expected = plain.backward(grad)
    buffers = tuple(
        np.full_like(a, np.nan) if need and a.dtype.kind == "f" else None
        for a, need in zip(arrays, needs, strict=True)
    )
    got = into.backward(grad, out=buffers) if cls.backward_out else into.backward(grad)
    for index, (want, have, buffer) in enumerate(zip(expected, got, buffers, strict=True)):
        if want is None:
            assert have is None
            continue
        assert np.array_equal(have, want), f"input {index}"
        if have is buffer:
            continue
        # an op may decline a buffer (another layout, another path), never half-use it
        assert buffer is None or np.isnan(buffer).all(), f"input {index}"
