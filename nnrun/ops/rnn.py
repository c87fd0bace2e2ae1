"""Fused recurrences (Elman RNN, LSTM, GRU): one Function per layer and direction.

The input projection of every time step is one GEMM before the loop, written straight into
the (T, N, G·H) gate array; each step is one GEMM (h @ W_hhᵀ, into a reused buffer) plus
in-place gate math on that array. The backward (BPTT) walks the steps once with one GEMM per
step (dgates @ W_hh) and finishes the weight and bias gradients with one GEMM / sum each over
all steps. Internally time-major (T, N, ·), so every step reads a contiguous block.

Sigmoid gates run as tanh: σ(x) = ½·tanh(x/2) + ½. The factor ½ is folded into the copies
of the weights and bias the call makes anyway (exact: a power of two), so a step needs one
tanh over all gates.

Masking: `mask` (N, T) marks valid steps. On an invalid step the state is carried over
unchanged and the output is zero, as torch's packed sequences behave for padding.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

import numpy as np

from nnrun.autograd.function import Function


class ScratchPool:
    """Recycles the large work arrays of the recurrences (gates, states) between calls.

    One LSTM call needs several MB of scratch that is freed when the graph is released after
    every training step; the C allocator returns such blocks to the OS, so without reuse
    each step page-faults all of it in again (about a third of a small LSTM's step time).
    Buffers are flat and handed out by best fit, so varying sequence lengths share them; at
    most `limit` bytes (default 256 MiB) are kept, the most recently returned first.
    """

    def __init__(self, limit: int = 256 << 20):
        self.limit = limit
        self.free: list[np.ndarray] = []
        self.lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` and `dtype`."""
        size, dtype = math.prod(shape), np.dtype(dtype)
        with self.lock:
            fits = [k for k, b in enumerate(self.free) if b.dtype == dtype and b.size >= size]
            best = min(fits, key=lambda k: self.free[k].size, default=None)
            buffer = None if best is None else self.free.pop(best)
        if buffer is None:
            buffer = np.empty(size, dtype)
        return buffer[:size].reshape(shape)

    def give(self, arrays: Iterable[np.ndarray]) -> None:
        """Return arrays obtained from `take`; nothing may refer to them afterwards."""
        with self.lock:
            # `base` is the flat buffer a view was cut from (NumPy keeps the owner there).
            self.free += [a if a.base is None else a.base for a in arrays]
            kept, total = [], 0
            for buffer in reversed(self.free):
                if total + buffer.nbytes <= self.limit:
                    kept.append(buffer)
                    total += buffer.nbytes
            self.free = kept[::-1]


SCRATCH = ScratchPool()


class Recurrence(Function):
    """One recurrent layer in one direction over a whole sequence.

    Inputs x (N, T, I), weight_ih (G·H, I), weight_hh (G·H, H) and optionally bias_ih,
    bias_hh (G·H,), with G = 1 (rnn), 4 (lstm: i, f, g, o) or 3 (gru: r, z, n) and torch's
    layouts. Output (N, T, H): the hidden state of every step (zero on masked steps).
    Attributes: `reverse` walks time backwards; `mask` (N, T) bool or None.
    """

    def forward(
        self,
        x: np.ndarray,
        weight_ih: np.ndarray,
        weight_hh: np.ndarray,
        bias_ih: np.ndarray | None = None,
        bias_hh: np.ndarray | None = None,
        *,
        reverse: bool = False,
        mask: np.ndarray | None = None,
    ) -> np.ndarray:
        n, t, features = x.shape
        rows, hidden = weight_hh.shape
        dtype = np.result_type(x, weight_ih, weight_hh)
        self.saved: list[np.ndarray] = []
        self.weight_ih, self.weight_hh = weight_ih, weight_hh
        self.has_bias = bias_ih is not None
        scale = self.gate_scale(hidden).astype(dtype)
        self.x_time = self.take((t, n, features), dtype)
        np.copyto(self.x_time, x.transpose(1, 0, 2))
        # gates[step] holds the (scaled) input projection until the step overwrites it
        # with the gate activations.
        self.gates = self.take((t, n, rows), dtype)
        np.matmul(
            self.x_time.reshape(t * n, features),
            weight_ih.T * scale,
            out=self.gates.reshape(t * n, rows),
        )
        if self.has_bias:
            self.gates += self.input_bias(bias_ih, bias_hh) * scale
        # a contiguous W_hhᵀ makes the per-step GEMM ~30% faster than the transposed view
        self.weight_hh_t = self.take((hidden, rows), dtype)
        np.multiply(weight_hh.T, scale, out=self.weight_hh_t)
        self.recurrent = np.empty((n, rows), dtype)
        self.steps = range(t - 1, -1, -1) if reverse else range(t)
        # keep (T, N, 1) floats scale gradients; frozen (T, N, 1) bools select carried states.
        self.keep = None if mask is None else mask.T[:, :, None].astype(dtype)
        self.frozen = None if mask is None else ~mask.T[:, :, None]
        self.states = self.take((t + 1, n, hidden), dtype)
        self.states[0] = 0
        self.start(bias_hh)
        for slot, step in enumerate(self.steps, 1):
            self.step(step, slot)
        outputs = self.in_time_order(self.states[1:]).transpose(1, 0, 2)
        # always a fresh array: the states go back to the pool on release
        outputs = outputs.copy() if mask is None else outputs * self.keep.transpose(1, 0, 2)
        if not any(self.needs_input_grad):
            self.release()
        return outputs

    # The state after walking `slot` steps (1-based) lives in states[slot]; per-step arrays
    # such as gates are indexed by the time step.
    def gate_scale(self, hidden: int) -> np.ndarray:
        """(G·H,) factors folded into the weights and biases (½ for sigmoid gates)."""
        return np.ones(hidden)

    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        return bias_ih + bias_hh

    def start(self, bias_hh: np.ndarray | None) -> None:
        """Allocate the cell's own saved arrays before the first step."""

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A pooled array saved for backward; back to the pool on release."""
        array = SCRATCH.take(shape, dtype)
        self.saved.append(array)
        return array

    def release(self) -> None:
        SCRATCH.give(getattr(self, "saved", ()))
        super().release()

    def carry(self, new: np.ndarray, old: np.ndarray, step: int) -> None:
        """Keep the old state on masked steps (in place, exact)."""
        if self.frozen is not None:
            np.copyto(new, old, where=self.frozen[step])

    def backward(self, grad: np.ndarray) -> tuple:
        n, t, hidden = grad.shape
        grad_time = grad.transpose(1, 0, 2)
        if self.keep is not None:
            grad_time = grad_time * self.keep
        grad_x_gates, grad_h_gates = self.backward_steps(grad_time, n, hidden)
        needs = self.needs_input_grad
        gates_flat = grad_x_gates.reshape(t * n, -1)
        grads: list[np.ndarray | None] = [None] * len(needs)
        if needs[0]:
            grads[0] = (gates_flat @ self.weight_ih).reshape(t, n, -1).transpose(1, 0, 2)
        if needs[1]:
            grads[1] = gates_flat.T @ self.x_time.reshape(t * n, -1)
        # h_prev of each step in time order: the state before it in walking order.
        previous = self.in_time_order(self.states[:-1])
        h_gates_flat = grad_h_gates.reshape(t * n, -1)
        if needs[2]:
            grads[2] = h_gates_flat.T @ previous.reshape(t * n, hidden)
        if self.has_bias:
            if needs[3]:
                grads[3] = gates_flat.sum(axis=0)
            if needs[4]:
                grads[4] = h_gates_flat.sum(axis=0)
        SCRATCH.give({id(a): a for a in (grad_x_gates, grad_h_gates)}.values())
        return tuple(grads)

    def in_time_order(self, walked: np.ndarray) -> np.ndarray:
        """Per-step arrays stored in walking order (T, ...) put back in time order."""
        return walked[::-1] if self.steps.step < 0 else walked

    def carried_grads(self, step: int, *grads: np.ndarray) -> list[np.ndarray] | None:
        """On a masked path: split each state gradient into the part carried past `step`
        (returned) and the part that enters the cell (left in place)."""
        if self.keep is None:
            return None
        keep = self.keep[step]
        carried = [grad * (1 - keep) for grad in grads]
        for grad in grads:
            grad *= keep
        return carried

    def step(self, step: int, slot: int) -> None:
        raise NotImplementedError

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        """(grad of the input projection, grad of the hidden projection), both (T, N, G·H)
        pooled arrays in time order (may be the same array)."""
        raise NotImplementedError


class ElmanRNN(Recurrence):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu (attribute `relu`)."""

    def forward(self, *arrays: np.ndarray, relu: bool = False, **attrs) -> np.ndarray:
        self.relu = relu
        return super().forward(*arrays, **attrs)

    def step(self, step: int, slot: int) -> None:
        previous, pre = self.states[slot - 1], self.gates[step]
        np.matmul(previous, self.weight_hh_t, out=self.recurrent)
        pre += self.recurrent
        if self.relu:
            np.maximum(pre, 0, out=pre)
        else:
            np.tanh(pre, out=pre)
        new = self.states[slot]
        np.copyto(new, pre)
        self.carry(new, previous, step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        # the derivative of the activation for all steps at once, then dh ⊙ it per step
        grad_pre = SCRATCH.take(self.gates.shape, self.gates.dtype)
        if self.relu:
            np.greater(self.gates, 0, out=grad_pre)
        else:
            np.multiply(self.gates, self.gates, out=grad_pre)
            np.subtract(1, grad_pre, out=grad_pre)
        grad_h = np.zeros((n, hidden), dtype=grad_pre.dtype)
        for step in reversed(self.steps):
            carried = self.carried_grads(step, grad_h)
            grad_h += grad_time[step]
            grad_pre[step] *= grad_h
            np.matmul(grad_pre[step], self.weight_hh, out=grad_h)
            if carried:
                grad_h += carried[0]
        return grad_pre, grad_pre


class LSTM(Recurrence):
    """torch.nn.LSTM's cell: gates i, f, g, o; c' = f·c + i·g; h' = o·tanh(c')."""

    def gate_scale(self, hidden: int) -> np.ndarray:
        scale = np.full(4 * hidden, 0.5)
        scale[2 * hidden : 3 * hidden] = 1.0
        return scale

    def start(self, bias_hh: np.ndarray | None) -> None:
        hidden, dtype = self.states.shape[2], self.states.dtype
        self.cells = self.take(self.states.shape, dtype)
        self.cells[0] = 0
        self.cell_tanh = self.take((len(self.steps), *self.states.shape[1:]), dtype)
        # act = tanh(·)·scale + offset: ½·tanh + ½ on i, f, o; tanh unchanged on g. Full
        # (N, 4H) arrays: same-shape ufuncs run ~2x faster than broadcasting a (4H,) row.
        scale = self.gate_scale(hidden)
        self.scale = np.tile(scale, (self.states.shape[1], 1)).astype(dtype)
        self.offset = (self.scale < 1) * self.scale

    def step(self, step: int, slot: int) -> None:
        hidden = self.states.shape[2]
        act = self.gates[step]
        np.matmul(self.states[slot - 1], self.weight_hh_t, out=self.recurrent)
        act += self.recurrent
        np.tanh(act, out=act)
        act *= self.scale
        act += self.offset
        i, f, g, o = (act[:, k * hidden : (k + 1) * hidden] for k in range(4))
        cell, previous_cell = self.cells[slot], self.cells[slot - 1]
        np.multiply(f, previous_cell, out=cell)
        input_part = self.recurrent[:, :hidden]
        np.multiply(i, g, out=input_part)
        cell += input_part
        tanh_cell = self.cell_tanh[step]
        np.tanh(cell, out=tanh_cell)
        np.multiply(o, tanh_cell, out=self.states[slot])
        self.carry(cell, previous_cell, step)
        self.carry(self.states[slot], self.states[slot - 1], step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        # Start from each gate's derivative for all steps at once: s(1 − s) for the sigmoid
        # gates, 1 − g² for g, i.e. act·(a − act) + (1 − a) with a = 1 or 0.
        grad_gates = SCRATCH.take(self.gates.shape, self.gates.dtype)
        sigmoid = 2 * self.offset
        np.subtract(sigmoid, self.gates, out=grad_gates)
        grad_gates *= self.gates
        grad_gates += 1 - sigmoid
        grad_h = np.zeros((n, hidden), dtype=grad_gates.dtype)
        grad_c = np.zeros_like(grad_h)
        scratch = np.empty_like(grad_h)
        cells_before = self.cells[:-1]
        for slot, step in zip(range(len(self.steps), 0, -1), reversed(self.steps)):
            act, tanh_cell = self.gates[step], self.cell_tanh[step]
            i, f, g, o = (act[:, k * hidden : (k + 1) * hidden] for k in range(4))
            out = grad_gates[step]
            carried = self.carried_grads(step, grad_h, grad_c)
            grad_h += grad_time[step]
            # grad_c += grad_h · o · (1 − tanh(c)²)
            np.multiply(tanh_cell, tanh_cell, out=scratch)
            np.subtract(1, scratch, out=scratch)
            scratch *= o
            scratch *= grad_h
            grad_c += scratch
            out[:, :hidden] *= g
            out[:, hidden : 2 * hidden] *= cells_before[slot - 1]
            out[:, 2 * hidden : 3 * hidden] *= i
            # i, f, g all scale with grad_c: one broadcast multiply over the three
            three = out.reshape(n, 4, hidden)[:, :3]
            three *= grad_c[:, None, :]
            out[:, 3 * hidden :] *= tanh_cell
            out[:, 3 * hidden :] *= grad_h
            grad_c *= f
            np.matmul(out, self.weight_hh, out=grad_h)
            if carried:
                grad_h += carried[0]
                grad_c += carried[1]
        return grad_gates, grad_gates


class GRU(Recurrence):
    """torch.nn.GRU's cell: r, z from σ(W_i x + b_i + W_h h + b_h);
    n = tanh(W_in x + b_in + r·(W_hn h + b_hn)); h' = (1 − z)·n + z·h."""

    def gate_scale(self, hidden: int) -> np.ndarray:
        scale = np.full(3 * hidden, 0.5)
        scale[2 * hidden :] = 1.0
        return scale

    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        hidden = len(bias_ih) // 3
        total = bias_ih.copy()
        total[: 2 * hidden] += bias_hh[: 2 * hidden]
        return total

    def start(self, bias_hh: np.ndarray | None) -> None:
        n, hidden = self.states.shape[1:]
        # W_hn h + b_hn per step, kept for the gradient of r
        self.recurrent_candidate = self.take((len(self.steps), n, hidden), self.states.dtype)
        self.bias_hn = None if bias_hh is None else bias_hh[2 * hidden :]

    def step(self, step: int, slot: int) -> None:
        hidden = self.states.shape[2]
        previous, act = self.states[slot - 1], self.gates[step]
        np.matmul(previous, self.weight_hh_t, out=self.recurrent)
        hn = self.recurrent_candidate[step]
        if self.bias_hn is None:
            np.copyto(hn, self.recurrent[:, 2 * hidden :])
        else:
            np.add(self.recurrent[:, 2 * hidden :], self.bias_hn, out=hn)
        gates = act[:, : 2 * hidden]
        gates += self.recurrent[:, : 2 * hidden]
        np.tanh(gates, out=gates)
        gates *= 0.5
        gates += 0.5
        r, z = act[:, :hidden], act[:, hidden : 2 * hidden]
        candidate = act[:, 2 * hidden :]
        gated = self.recurrent[:, :hidden]
        np.multiply(r, hn, out=gated)
        candidate += gated
        np.tanh(candidate, out=candidate)
        new = self.states[slot]
        np.subtract(previous, candidate, out=new)
        new *= z
        new += candidate
        self.carry(new, previous, step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        grad_x_gates = SCRATCH.take(self.gates.shape, self.gates.dtype)
        grad_h_gates = SCRATCH.take(self.gates.shape, self.gates.dtype)
        grad_h = np.zeros((n, hidden), dtype=grad_x_gates.dtype)
        scratch, passed = np.empty_like(grad_h), np.empty_like(grad_h)
        states_before = self.states[:-1]
        for slot, step in zip(range(len(self.steps), 0, -1), reversed(self.steps)):
            act = self.gates[step]
            r, z, cand = act[:, :hidden], act[:, hidden : 2 * hidden], act[:, 2 * hidden :]
            gx, gh = grad_x_gates[step], grad_h_gates[step]
            grad_r, grad_z, grad_cand = (gx[:, k * hidden : (k + 1) * hidden] for k in range(3))
            carried = self.carried_grads(step, grad_h)
            grad_h += grad_time[step]
            # grad_cand = grad_h · (1 − z) · (1 − cand²)
            np.multiply(cand, cand, out=grad_cand)
            np.subtract(1, grad_cand, out=grad_cand)
            grad_cand *= grad_h
            np.subtract(1, z, out=scratch)
            grad_cand *= scratch
            # grad_r = grad_cand · hn · r(1 − r); grad_z = grad_h · (h − cand) · z(1 − z)
            np.subtract(1, act[:, : 2 * hidden], out=gx[:, : 2 * hidden])
            gx[:, : 2 * hidden] *= act[:, : 2 * hidden]
            grad_r *= grad_cand
            grad_r *= self.recurrent_candidate[step]
            np.subtract(states_before[slot - 1], cand, out=scratch)
            scratch *= grad_h
            grad_z *= scratch
            gh[:, : 2 * hidden] = gx[:, : 2 * hidden]
            np.multiply(grad_cand, r, out=gh[:, 2 * hidden :])
            grad_h *= z
            np.matmul(gh, self.weight_hh, out=passed)
            grad_h += passed
            if carried:
                grad_h += carried[0]
        return grad_x_gates, grad_h_gates
