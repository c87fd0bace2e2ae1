"""`Derived`: an array computed from the step's data by plain NumPy, as an op.

Preprocessing that depends on the batch (mapping labels, building masks) must run as an op
for a compiled step to redo it on every replay; with no gradient to carry, the op only
calls its function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.function import Function, Grads


class Derived(Function):
    """`fn(*arrays, **options)`; no gradient flows through it. `fn` should be a module-level
    function (one object from call to call, as a compiled step requires of attributes)."""

    def forward(self, *arrays: np.ndarray, fn: Any, **options: Any) -> np.ndarray:
        return np.asarray(fn(*arrays, **options))

    def backward(self, grad: np.ndarray) -> Grads:
        return (None,) * len(self.needs_input_grad)
