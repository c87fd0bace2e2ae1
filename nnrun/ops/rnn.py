"""Fused recurrences (Elman RNN, LSTM, GRU): one Function per layer and direction.

The input projection of every time step is one GEMM before the loop; each step is one GEMM
(h @ W_hh^T for all gates) plus fused gate math; the backward (BPTT) walks the steps once and
finishes the weight gradients with one GEMM each over all steps. Internally time-major
(T, N, ·), so every step reads a contiguous block.

Masking: `mask` (N, T) marks valid steps. On an invalid step the state is carried over
unchanged and the output is zero, as torch's packed sequences behave for padding.
"""

from __future__ import annotations

import numpy as np

from nnrun.autograd.function import Function


def _gate_affine(hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """LSTM gate activations as one tanh: sigmoid(x) = 0.5·tanh(x/2) + 0.5 for gates i, f, o;
    tanh for g. Returns (scale, offset) so that act = tanh(x·scale)·scale + offset."""
    scale = np.full(4 * hidden, 0.5, dtype=dtype)
    scale[2 * hidden : 3 * hidden] = 1.0
    offset = np.full(4 * hidden, 0.5, dtype=dtype)
    offset[2 * hidden : 3 * hidden] = 0.0
    return scale, offset


def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """In-place logistic sigmoid through tanh (no overflow for large |x|)."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


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
        n, t, _ = x.shape
        hidden = weight_hh.shape[1]
        self.x_time = np.ascontiguousarray(x.transpose(1, 0, 2))
        self.weight_ih, self.weight_hh = weight_ih, weight_hh
        # a contiguous W_hhᵀ makes the per-step GEMM ~30% faster than the transposed view
        self.weight_hh_t = np.ascontiguousarray(weight_hh.T)
        self.has_bias = bias_ih is not None
        projected = (self.x_time.reshape(t * n, -1) @ weight_ih.T).reshape(t, n, -1)
        if self.has_bias:
            projected += self.input_bias(bias_ih, bias_hh)
        self.steps = range(t - 1, -1, -1) if reverse else range(t)
        # (T, N, 1) floats: multiplying by them is cheaper than np.where per step.
        self.keep = None if mask is None else mask.T[:, :, None].astype(x.dtype)
        self.hidden_states = np.zeros((t + 1, n, hidden), dtype=x.dtype)
        self.start(projected, n, hidden, bias_hh)
        for step, slot in zip(self.steps, range(1, t + 1)):
            self.step(step, slot, projected[step])
        outputs = self.in_time_order(self.hidden_states[1:])
        if self.keep is not None:
            outputs = outputs * self.keep
        return np.ascontiguousarray(outputs.transpose(1, 0, 2))

    # The state of step number `slot` (1-based in walking order) lives in hidden_states[slot].
    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        return bias_ih + bias_hh

    def start(self, projected: np.ndarray, n: int, hidden: int, bias_hh: np.ndarray | None):
        self.activations = np.empty_like(projected)

    def carry(self, new: np.ndarray, old: np.ndarray, step: int) -> np.ndarray:
        """Keep the old state on masked steps."""
        if self.keep is None:
            return new
        keep = self.keep[step]
        return old + keep * (new - old)

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
        previous = self.in_time_order(self.hidden_states[:-1])
        h_gates_flat = grad_h_gates.reshape(t * n, -1)
        if needs[2]:
            grads[2] = h_gates_flat.T @ previous.reshape(t * n, hidden)
        if self.has_bias:
            if needs[3]:
                grads[3] = gates_flat.sum(axis=0)
            if needs[4]:
                grads[4] = h_gates_flat.sum(axis=0)
        return tuple(grads)

    def in_time_order(self, walked: np.ndarray) -> np.ndarray:
        """Per-step arrays stored in walking order (T, ...) put back in time order."""
        return walked[::-1] if self.steps.step < 0 else walked

    def step(self, step: int, slot: int, projected: np.ndarray) -> None:
        raise NotImplementedError

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        """(grad of the input projection, grad of the hidden projection), both (T, N, G·H)
        in time order."""
        raise NotImplementedError


class ElmanRNN(Recurrence):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu (attribute `relu`)."""

    def forward(self, *arrays: np.ndarray, relu: bool = False, **attrs) -> np.ndarray:
        self.relu = relu
        return super().forward(*arrays, **attrs)

    def step(self, step: int, slot: int, projected: np.ndarray) -> None:
        h = self.hidden_states[slot - 1]
        pre = projected + h @ self.weight_hh_t
        new = np.maximum(pre, 0, out=pre) if self.relu else np.tanh(pre, out=pre)
        self.activations[step] = new
        self.hidden_states[slot] = self.carry(new, h, step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        grad_pre = np.empty_like(self.activations)
        grad_h = np.zeros((n, hidden), dtype=grad_time.dtype)
        for step in reversed(self.steps):
            keep = None if self.keep is None else self.keep[step]
            grad_new = grad_time[step] + (grad_h if keep is None else keep * grad_h)
            act = self.activations[step]
            if self.relu:
                grad_new = grad_new * (act > 0)
            else:
                grad_new = grad_new * (1 - act * act)
            grad_pre[step] = grad_new
            passed = grad_new @ self.weight_hh
            grad_h = passed if keep is None else passed + (1 - keep) * grad_h
        return grad_pre, grad_pre


class LSTM(Recurrence):
    """torch.nn.LSTM's cell: gates i, f, g, o; c' = f·c + i·g; h' = o·tanh(c')."""

    def start(self, projected: np.ndarray, n: int, hidden: int, bias_hh: np.ndarray | None):
        self.activations = np.empty_like(projected)
        self.cells = np.zeros_like(self.hidden_states)
        self.cell_tanh = np.empty((len(projected), n, hidden), dtype=projected.dtype)
        self.scale, self.offset = _gate_affine(hidden, projected.dtype)

    def step(self, step: int, slot: int, projected: np.ndarray) -> None:
        hidden = self.hidden_states.shape[2]
        h, c = self.hidden_states[slot - 1], self.cells[slot - 1]
        act = self.activations[step]
        np.matmul(h, self.weight_hh_t, out=act)
        act += projected
        act *= self.scale
        np.tanh(act, out=act)
        act *= self.scale
        act += self.offset
        i, f, g, o = (act[:, k * hidden : (k + 1) * hidden] for k in range(4))
        c_new = f * c
        c_new += i * g
        tanh_c = np.tanh(c_new)
        self.cell_tanh[step] = tanh_c
        self.cells[slot] = self.carry(c_new, c, step)
        self.hidden_states[slot] = self.carry(o * tanh_c, h, step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        grad_gates = np.empty_like(self.activations)
        grad_h = np.zeros((n, hidden), dtype=grad_time.dtype)
        grad_c = np.zeros_like(grad_h)
        cells_before = self.cells[:-1]
        for slot, step in zip(range(len(self.steps), 0, -1), reversed(self.steps)):
            keep = None if self.keep is None else self.keep[step]
            act = self.activations[step]
            i, f, g, o = (act[:, k * hidden : (k + 1) * hidden] for k in range(4))
            tanh_c = self.cell_tanh[step]
            if keep is None:
                grad_new = grad_time[step] + grad_h
                grad_c_new = grad_c
            else:
                grad_new = grad_time[step] + keep * grad_h
                grad_c_new = keep * grad_c
            grad_c_new = grad_c_new + grad_new * o * (1 - tanh_c * tanh_c)
            out = grad_gates[step]
            out[:, :hidden] = grad_c_new * g * i * (1 - i)
            out[:, hidden : 2 * hidden] = grad_c_new * cells_before[slot - 1] * f * (1 - f)
            out[:, 2 * hidden : 3 * hidden] = grad_c_new * i * (1 - g * g)
            out[:, 3 * hidden :] = grad_new * tanh_c * o * (1 - o)
            passed = out @ self.weight_hh
            if keep is None:
                grad_h = passed
                grad_c = grad_c_new * f
            else:
                grad_h = passed + (1 - keep) * grad_h
                grad_c = grad_c_new * f + (1 - keep) * grad_c
        return grad_gates, grad_gates


class GRU(Recurrence):
    """torch.nn.GRU's cell: r, z from σ(W_i x + b_i + W_h h + b_h);
    n = tanh(W_in x + b_in + r·(W_hn h + b_hn)); h' = (1 − z)·n + z·h."""

    def input_bias(self, bias_ih: np.ndarray, bias_hh: np.ndarray) -> np.ndarray:
        hidden = len(bias_ih) // 3
        total = bias_ih.copy()
        total[: 2 * hidden] += bias_hh[: 2 * hidden]
        return total

    def start(self, projected: np.ndarray, n: int, hidden: int, bias_hh: np.ndarray | None):
        self.activations = np.empty_like(projected)  # r, z, n per step
        # W_hn h + b_hn per step, kept for the gradient of r
        self.recurrent_candidate = np.empty((len(projected), n, hidden), dtype=projected.dtype)
        self.bias_hn = None if bias_hh is None else bias_hh[2 * hidden :]

    def step(self, step: int, slot: int, projected: np.ndarray) -> None:
        hidden = self.hidden_states.shape[2]
        h = self.hidden_states[slot - 1]
        recurrent = h @ self.weight_hh_t
        hn = recurrent[:, 2 * hidden :]
        if self.bias_hn is not None:
            hn += self.bias_hn
        act = self.activations[step]
        np.add(projected[:, : 2 * hidden], recurrent[:, : 2 * hidden], out=act[:, : 2 * hidden])
        _sigmoid_(act[:, : 2 * hidden])
        r, z = act[:, :hidden], act[:, hidden : 2 * hidden]
        candidate = act[:, 2 * hidden :]
        np.multiply(r, hn, out=candidate)
        candidate += projected[:, 2 * hidden :]
        np.tanh(candidate, out=candidate)
        self.recurrent_candidate[step] = hn
        new = candidate + z * (h - candidate)
        self.hidden_states[slot] = self.carry(new, h, step)

    def backward_steps(self, grad_time: np.ndarray, n: int, hidden: int) -> tuple:
        grad_x_gates = np.empty_like(self.activations)
        grad_h_gates = np.empty_like(self.activations)
        grad_h = np.zeros((n, hidden), dtype=grad_time.dtype)
        states_before = self.hidden_states[:-1]
        for slot, step in zip(range(len(self.steps), 0, -1), reversed(self.steps)):
            keep = None if self.keep is None else self.keep[step]
            act = self.activations[step]
            r, z, cand = act[:, :hidden], act[:, hidden : 2 * hidden], act[:, 2 * hidden :]
            h = states_before[slot - 1]
            grad_new = grad_time[step] + (grad_h if keep is None else keep * grad_h)
            grad_cand = grad_new * (1 - z) * (1 - cand * cand)
            gx, gh = grad_x_gates[step], grad_h_gates[step]
            gx[:, :hidden] = grad_cand * self.recurrent_candidate[step] * r * (1 - r)
            gx[:, hidden : 2 * hidden] = grad_new * (h - cand) * z * (1 - z)
            gx[:, 2 * hidden :] = grad_cand
            gh[:, : 2 * hidden] = gx[:, : 2 * hidden]
            np.multiply(grad_cand, r, out=gh[:, 2 * hidden :])
            passed = gh @ self.weight_hh
            passed += grad_new * z
            grad_h = passed if keep is None else passed + (1 - keep) * grad_h
        return grad_x_gates, grad_h_gates
