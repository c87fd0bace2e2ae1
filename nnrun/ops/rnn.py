"""Fused recurrences (Elman RNN, LSTM, GRU): one Function per layer and direction.

Layout: gates are kept gate-major, (G, T, N, H), so each gate of a step is one contiguous
(N, H) block. The input projection of all steps is one batched GEMM into that array before
the loop; each step is one batched GEMM h @ W_kᵀ over the G gates (into a reused buffer;
OpenBLAS runs the four 128×128 products ~25% faster than one 128×512) plus in-place gate
math. The backward (BPTT) walks the steps once with one batched GEMM per step and finishes
the weight and bias gradients with one batched GEMM over all steps.

Sigmoid gates run as tanh: σ(x) = ½·tanh(x/2) + ½. The ½ is folded into the copies of the
weights and bias the call makes anyway (exact: a power of two), so a step needs one tanh.

Masking: `mask` (N, T) marks valid steps. On an invalid step the state is carried over
unchanged and the output is zero, as torch's packed sequences behave for padding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrun.autograd.function import Function, Grads


def sum_blocks(blocks: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Σ_k blocks[k] into `out` ((G, N, H) → (N, H)); chained adds beat np.sum(axis=0) ~3x
    at these sizes."""
    if len(blocks) == 1:
        np.copyto(out, blocks[0])
        return out
    np.add(blocks[0], blocks[1], out=out)
    for block in blocks[2:]:
        out += block
    return out


def _owned(buffer: np.ndarray | None, dtype: np.dtype) -> np.ndarray | None:
    """A gradient buffer the op may write into: one of the gradients' dtype."""
    return buffer if buffer is not None and buffer.dtype == dtype else None


def _fresh(buffer: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """`buffer` (a gradient's preallocated array) or a new C-contiguous array."""
    return buffer if buffer is not None else np.empty(shape, dtype)


class Recurrence(Function):
    """One recurrent layer in one direction over a whole sequence.

    Inputs x (N, T, I), weight_ih (G·H, I), weight_hh (G·H, H), optionally bias_ih,
    bias_hh (G·H,), with G = 1 (rnn), 4 (lstm: i, f, g, o) or 3 (gru: r, z, n) and torch's
    layouts, then the `initial` states (N, H): h0 (and c0 for the LSTM; default zeros).
    Output (N, T, H): the hidden state of every step (zero on masked steps); with `final`,
    (N, T + S, H) whose last S rows are the final states (h_n, and c_n for the LSTM).
    Attributes: `reverse` walks time backwards; `mask` (N, T) bool or None. Takes `out=`
    arrays both ways (see Function).
    """

    forward_out = backward_out = True
    sigmoid_gates: tuple[int, ...] = ()
    grad_initial: list[np.ndarray]  # set by backward_steps: the initial states' gradients

    def forward(
        self,
        x: np.ndarray,
        weight_ih: np.ndarray,
        weight_hh: np.ndarray,
        *rest: np.ndarray,
        reverse: bool = False,
        mask: np.ndarray | None = None,
        initial: int = 0,
        final: bool = False,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        biases, self.initial = rest[: len(rest) - initial], rest[len(rest) - initial :]
        bias_ih, bias_hh = biases if biases else (None, None)
        n, t, features = x.shape
        rows, hidden = weight_hh.shape
        count = rows // hidden
        dtype = np.result_type(x, weight_ih, weight_hh)
        self.weight_ih, self.weight_hh = weight_ih, weight_hh
        self.has_bias = bias_ih is not None
        # per-gate factors (G, 1, 1): ½ on sigmoid gates, folded into weights and bias
        self.sigmoid = np.zeros((count, 1, 1), dtype)
        self.sigmoid[list(self.sigmoid_gates)] = 1
        scale = 1 - self.sigmoid / 2
        # x time-major plus, with a bias, a column of ones: the bias rides along in the
        # projection GEMM and its gradient comes out of the weight-gradient GEMM.
        columns = features + self.has_bias
        self.x_time = np.empty((t, n, columns), dtype)
        np.copyto(self.x_time[..., :features], x.transpose(1, 0, 2))
        projection = np.empty((count, columns, hidden), dtype)
        per_gate = weight_ih.reshape(count, hidden, features).transpose(0, 2, 1)
        np.multiply(per_gate, scale, out=projection[:, :features])
        if self.has_bias:
            self.x_time[..., features] = 1
            # has_bias: both biases are arrays
            bias = self.input_bias(bias_ih, bias_hh).reshape(count, hidden)  # type: ignore[arg-type]
            np.multiply(bias, scale[:, 0], out=projection[:, features])
        # gates[:, step] holds the (scaled) input projection until the step overwrites it
        # with the gate activations.
        self.gates = np.empty((count, t, n, hidden), dtype)
        x_flat = self.x_time.reshape(t * n, columns)
        np.matmul(x_flat, projection, out=self.gates.reshape(count, t * n, hidden))
        # W_kᵀ per gate, contiguous (and scaled) for the per-step GEMM
        self.weight_hh_t = np.empty((count, hidden, hidden), dtype)
        per_gate = weight_hh.reshape(count, hidden, hidden).transpose(0, 2, 1)
        np.multiply(per_gate, scale, out=self.weight_hh_t)
        self.recurrent = np.empty((count, n, hidden), dtype)
        self.steps = range(t - 1, -1, -1) if reverse else range(t)
        # keep (T, N, 1) floats scale gradients; frozen (T, N, 1) bools select carried states.
        self.keep = None if mask is None else mask.T[:, :, None].astype(dtype)
        self.frozen = None if mask is None else ~mask.T[:, :, None]
        self.states = np.empty((t + 1, n, hidden), dtype)
        self.states[0] = self.initial[0] if self.initial else 0
        self.start(bias_hh)
        for slot, step in enumerate(self.steps, 1):
            self.step(step, slot)
        finals = self.final_states() if final else []
        self.final_count = len(finals)
        # batch-major and contiguous for the layers that follow
        if out is None:
            out = np.empty((n, t + len(finals), hidden), dtype)
        outputs = self.in_time_order(self.states[1:]).transpose(1, 0, 2)
        if mask is None:
            np.copyto(out[:, :t], outputs)
        else:  # keep is an array whenever mask is
            np.multiply(outputs, self.keep.transpose(1, 0, 2), out=out[:, :t])  # type: ignore[union-attr]
        for index, state in enumerate(finals):
            out[:, t + index] = state
        return out

    def final_states(self) -> list[np.ndarray]:
        """The states after the last step (masked steps carry them): h_n [, c_n]."""
        return [self.states[-1]]

    def final_grad(self, index: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The gradient arriving at final state `index` (0: h, 1: c) as an owned array: the
        starting point of the walk back through time."""
        grads = getattr(self, "grad_final", ())
        return grads[index].copy() if index < len(grads) else np.zeros(shape, dtype=dtype)

    # The state after walking `slot` steps (1-based) lives in states[slot]; per-step arrays
    # such as gates are indexed by the time step.
    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        out: np.ndarray = bias_ih + bias_hh
        return out

    def start(self, bias_hh: np.ndarray | None) -> None:
        """Allocate the cell's own saved arrays before the first step."""

    def carry(self, new: np.ndarray, old: np.ndarray, step: int) -> None:
        """Keep the old state on masked steps (in place, exact)."""
        if self.frozen is not None:
            np.copyto(new, old, where=self.frozen[step])

    def backward(self, grad: np.ndarray, out: Grads = ()) -> Grads:
        if self.final_count:
            steps = grad.shape[1] - self.final_count
            self.grad_final = [grad[:, steps + i] for i in range(self.final_count)]
            grad = grad[:, :steps]
        n, t, hidden = grad.shape
        # time-major once, so each step adds a contiguous block
        grad_time = np.empty((t, n, hidden), grad.dtype)
        if self.keep is None:
            np.copyto(grad_time, grad.transpose(1, 0, 2))
        else:
            np.multiply(grad.transpose(1, 0, 2), self.keep, out=grad_time)
        grad_x_gates, grad_h_gates = self.backward_steps(grad_time, n, hidden)
        count, features = len(self.gates), self.weight_ih.shape[1]
        needs = self.needs_input_grad
        x_gates = grad_x_gates.reshape(count, t * n, hidden)
        h_gates = grad_h_gates.reshape(count, t * n, hidden)
        dtype = grad.dtype
        buffers = [_owned(buffer, dtype) for buffer in out] if out else [None] * len(needs)
        grads: list[np.ndarray | None] = [None] * len(needs)
        if needs[0]:
            per_gate = np.empty((count, t * n, features), dtype)
            weight_ih = self.weight_ih.reshape(count, hidden, features)
            np.matmul(x_gates, weight_ih, out=per_gate)
            # batch-major and C-contiguous, as the input (and any buffer for it) is laid out
            grad_x = _fresh(buffers[0], (n, t, features), dtype)
            blocks = per_gate.reshape(count, t, n, features)
            sum_blocks(blocks, out=grad_x.transpose(1, 0, 2))
            grads[0] = grad_x
        if needs[1] or (self.has_bias and needs[3]):
            # (G, H, I [+ 1]): the ones column of x_time makes the last column d bias_ih
            projection = np.matmul(x_gates.transpose(0, 2, 1), self.x_time.reshape(t * n, -1))
            if needs[1]:
                grad_ih = _fresh(buffers[1], (count * hidden, features), dtype)
                np.copyto(grad_ih.reshape(count, hidden, features), projection[..., :features])
                grads[1] = grad_ih
            if self.has_bias and needs[3]:
                grad_bias = _fresh(buffers[3], (count * hidden,), dtype)
                np.copyto(grad_bias.reshape(count, hidden), projection[..., features])
                grads[3] = grad_bias
        if needs[2]:
            # h_prev of each step in time order: the state before it in walking order.
            previous = self.in_time_order(self.states[:-1]).reshape(t * n, hidden)
            grad_hh = _fresh(buffers[2], (count * hidden, hidden), dtype)
            np.matmul(h_gates.transpose(0, 2, 1), previous, out=grad_hh.reshape(count, hidden, -1))
            grads[2] = grad_hh
        if self.has_bias and needs[4]:
            grad_bias = _fresh(buffers[4], (count * hidden,), dtype)
            if grad_h_gates is grad_x_gates and grads[3] is not None:
                np.copyto(grad_bias, grads[3])
            else:
                np.add.reduce(h_gates, axis=1, out=grad_bias.reshape(count, hidden))
            grads[4] = grad_bias
        first = 3 + 2 * self.has_bias  # the initial states' gradients: the walk's end
        for i, grad_initial in enumerate(self.grad_initial[: len(self.initial)]):
            grads[first + i] = grad_initial if needs[first + i] else None
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

    def backward_steps(
        self, grad_time: np.ndarray, n: int, hidden: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(grad of the input projection, grad of the hidden projection), both (G, T, N, H)
        arrays in time order (may be the same array)."""
        raise NotImplementedError


class ElmanRNN(Recurrence):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu (attribute `relu`)."""

    def forward(self, *arrays: np.ndarray, relu: bool = False, **attrs: Any) -> np.ndarray:
        self.relu = relu
        return super().forward(*arrays, **attrs)

    def step(self, step: int, slot: int) -> None:
        previous, pre = self.states[slot - 1], self.gates[0, step]
        np.matmul(previous, self.weight_hh_t[0], out=self.recurrent[0])
        pre += self.recurrent[0]
        if self.relu:
            np.maximum(pre, 0, out=pre)
        else:
            np.tanh(pre, out=pre)
        new = self.states[slot]
        np.copyto(new, pre)
        self.carry(new, previous, step)

    def backward_steps(
        self, grad_time: np.ndarray, n: int, hidden: int
    ) -> tuple[np.ndarray, np.ndarray]:
        # the derivative of the activation for all steps at once, then dh ⊙ it per step
        grad_pre = np.empty(self.gates.shape, self.gates.dtype)
        if self.relu:
            np.greater(self.gates, 0, out=grad_pre)
        else:
            np.multiply(self.gates, self.gates, out=grad_pre)
            np.subtract(1, grad_pre, out=grad_pre)
        grad_h = self.final_grad(0, (n, hidden), grad_pre.dtype)
        for step in reversed(self.steps):
            carried = self.carried_grads(step, grad_h)
            grad_h += grad_time[step]
            grad_step = grad_pre[0, step]
            grad_step *= grad_h
            np.matmul(grad_step, self.weight_hh, out=grad_h)
            if carried:
                grad_h += carried[0]
        self.grad_initial = [grad_h]
        return grad_pre, grad_pre


class LSTM(Recurrence):
    """torch.nn.LSTM's cell: gates i, f, g, o; c' = f·c + i·g; h' = o·tanh(c')."""

    sigmoid_gates = (0, 1, 3)

    def start(self, bias_hh: np.ndarray | None) -> None:
        self.cells = np.empty(self.states.shape, self.states.dtype)
        self.cells[0] = self.initial[1] if len(self.initial) > 1 else 0
        self.cell_tanh = np.empty(self.states[1:].shape, self.states.dtype)
        # act = tanh(·)·scale + offset: ½·tanh + ½ on i, f, o; tanh unchanged on g
        self.offset = self.sigmoid / 2
        self.scale = 1 - self.offset

    def step(self, step: int, slot: int) -> None:
        act = self.gates[:, step]
        np.matmul(self.states[slot - 1], self.weight_hh_t, out=self.recurrent)
        act += self.recurrent
        np.tanh(act, out=act)
        act *= self.scale
        act += self.offset
        i, f, g, o = act
        cell, previous_cell = self.cells[slot], self.cells[slot - 1]
        np.multiply(f, previous_cell, out=cell)
        input_part = self.recurrent[0]
        np.multiply(i, g, out=input_part)
        cell += input_part
        tanh_cell = self.cell_tanh[step]
        np.tanh(cell, out=tanh_cell)
        np.multiply(o, tanh_cell, out=self.states[slot])
        self.carry(cell, previous_cell, step)
        self.carry(self.states[slot], self.states[slot - 1], step)

    def backward_steps(
        self, grad_time: np.ndarray, n: int, hidden: int
    ) -> tuple[np.ndarray, np.ndarray]:
        grad_gates = np.empty(self.gates.shape, self.gates.dtype)
        weight_hh = self.weight_hh.reshape(4, hidden, hidden)
        # each gate's derivative is act·(a − act) + (1 − a): s(1 − s) for the sigmoid gates
        # (a = 1), 1 − g² for g (a = 0)
        tanh_part = 1 - self.sigmoid
        cells_before = self.in_time_order(self.cells[:-1])
        grad_h = self.final_grad(0, (n, hidden), grad_gates.dtype)
        grad_c = self.final_grad(1, (n, hidden), grad_gates.dtype)
        scratch = np.empty_like(grad_h)
        for step in reversed(self.steps):
            act, out, tanh_cell = self.gates[:, step], grad_gates[:, step], self.cell_tanh[step]
            i, f, g, o = act
            grad_i, grad_f, grad_g, grad_o = out
            np.subtract(self.sigmoid, act, out=out)
            out *= act
            out += tanh_part
            carried = self.carried_grads(step, grad_h, grad_c)
            grad_h += grad_time[step]
            # grad_c += grad_h · o · (1 − tanh(c)²)
            np.multiply(tanh_cell, tanh_cell, out=scratch)
            np.subtract(1, scratch, out=scratch)
            scratch *= o
            scratch *= grad_h
            grad_c += scratch
            grad_i *= g
            grad_f *= cells_before[step]
            grad_g *= i
            out[:3] *= grad_c
            grad_o *= tanh_cell
            grad_o *= grad_h
            grad_c *= f
            np.matmul(out, weight_hh, out=self.recurrent)
            sum_blocks(self.recurrent, out=grad_h)
            if carried:
                grad_h += carried[0]
                grad_c += carried[1]
        self.grad_initial = [grad_h, grad_c]
        return grad_gates, grad_gates

    def final_states(self) -> list[np.ndarray]:
        return [self.states[-1], self.cells[-1]]


class GRU(Recurrence):
    """torch.nn.GRU's cell: r, z from σ(W_i x + b_i + W_h h + b_h);
    n = tanh(W_in x + b_in + r·(W_hn h + b_hn)); h' = (1 − z)·n + z·h."""

    sigmoid_gates = (0, 1)

    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        hidden = len(bias_ih) // 3
        total = bias_ih.copy()
        total[: 2 * hidden] += bias_hh[: 2 * hidden]
        return total

    def start(self, bias_hh: np.ndarray | None) -> None:
        hidden = self.states.shape[2]
        # W_hn h + b_hn per step, kept for the gradient of r
        self.recurrent_candidate = np.empty(self.states[1:].shape, self.states.dtype)
        self.bias_hn = None if bias_hh is None else bias_hh[2 * hidden :]

    def step(self, step: int, slot: int) -> None:
        previous, act, recurrent = self.states[slot - 1], self.gates[:, step], self.recurrent
        np.matmul(previous, self.weight_hh_t, out=recurrent)
        hn = self.recurrent_candidate[step]
        if self.bias_hn is None:
            np.copyto(hn, recurrent[2])
        else:
            np.add(recurrent[2], self.bias_hn, out=hn)
        gates = act[:2]
        gates += recurrent[:2]
        np.tanh(gates, out=gates)
        gates *= 0.5
        gates += 0.5
        r, z, candidate = act
        np.multiply(r, hn, out=recurrent[0])
        candidate += recurrent[0]
        np.tanh(candidate, out=candidate)
        new = self.states[slot]
        np.subtract(previous, candidate, out=new)
        new *= z
        new += candidate
        self.carry(new, previous, step)

    def backward_steps(
        self, grad_time: np.ndarray, n: int, hidden: int
    ) -> tuple[np.ndarray, np.ndarray]:
        grad_x_gates = np.empty(self.gates.shape, self.gates.dtype)
        grad_h_gates = np.empty(self.gates.shape, self.gates.dtype)
        weight_hh = self.weight_hh.reshape(3, hidden, hidden)
        grad_h = self.final_grad(0, (n, hidden), grad_x_gates.dtype)
        scratch = np.empty_like(grad_h)
        states_before = self.in_time_order(self.states[:-1])
        for step in reversed(self.steps):
            act, gx, gh = self.gates[:, step], grad_x_gates[:, step], grad_h_gates[:, step]
            r, z, cand = act
            grad_r, grad_z, grad_cand = gx
            carried = self.carried_grads(step, grad_h)
            grad_h += grad_time[step]
            # grad_cand = grad_h · (1 − z) · (1 − cand²)
            np.multiply(cand, cand, out=grad_cand)
            np.subtract(1, grad_cand, out=grad_cand)
            grad_cand *= grad_h
            np.subtract(1, z, out=scratch)
            grad_cand *= scratch
            # grad_r = grad_cand · hn · r(1 − r); grad_z = grad_h · (h − cand) · z(1 − z)
            np.subtract(1, act[:2], out=gx[:2])
            gx[:2] *= act[:2]
            grad_r *= grad_cand
            grad_r *= self.recurrent_candidate[step]
            np.subtract(states_before[step], cand, out=scratch)
            scratch *= grad_h
            grad_z *= scratch
            gh[:2] = gx[:2]
            np.multiply(grad_cand, r, out=gh[2])
            grad_h *= z
            np.matmul(gh, weight_hh, out=self.recurrent)
            grad_h += sum_blocks(self.recurrent, out=scratch)
            if carried:
                grad_h += carried[0]
        self.grad_initial = [grad_h]
        return grad_x_gates, grad_h_gates
