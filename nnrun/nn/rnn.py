"""Recurrent layers: `rnn`, `lstm`, `gru` with torch.nn.RNN/LSTM/GRU's parameters.

Differences from torch: `batch_first` defaults to True (configs are batch-major); the layer
returns one array chosen by `output`, or with `return_state: true` the tuple (output, h_n)
— (output, h_n, c_n) for the LSTM — whose parts a graph node selects as `rnn.h_n`. The
initial states `h0` (and `c0`), (D·num_layers, N, H) as torch's, are optional inputs
(zeros when absent). Variable-length batches pass a second input, `lengths` (N,) ints or a
boolean mask (N, T) of valid steps: padded steps keep the state and output zeros, as a
packed sequence does in torch.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from nnrun import functional as F
from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Positive, Probability
from nnrun.errors import ShapeError
from nnrun.init import initialize, torch_default_uniform
from nnrun.nn.dropout import Dropout
from nnrun.nn.module import Module, input_tensor
from nnrun.nn.parameter import Parameter
from nnrun.ops import rnn as ops
from nnrun.registry import LAYERS


def step_mask(lengths: Any, batch: int, steps: int, owner: str) -> np.ndarray:
    """A (N, T) bool array of valid steps from `lengths` (N,) ints or a (N, T) bool mask."""
    array = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if array.dtype == bool:
        if array.shape != (batch, steps):
            raise ShapeError(
                f"{owner}: the step mask must be (N, T) = ({batch}, {steps}), got {array.shape}"
            )
        return array
    if array.dtype.kind not in "iu" or array.shape != (batch,):
        raise ShapeError(
            f"{owner}: lengths must be integers of shape (N,) = ({batch},) or a boolean "
            f"(N, T) mask, got {array.dtype} {array.shape}"
        )
    if array.min() < 0 or array.max() > steps:
        raise ShapeError(
            f"{owner}: lengths must lie in [0, {steps}] (the padded length), "
            f"got values from {array.min()} to {array.max()}"
        )
    return np.arange(steps) < array[:, None]


class _Recurrent(Module):
    """Stacked, optionally bidirectional recurrence; subclasses pick the cell."""

    kind = ""
    cell: type[ops.Recurrence] = ops.Recurrence
    gates = 1

    def __init__(
        self,
        hidden_size: Positive,
        num_layers: Positive = 1,
        bias: bool = True,
        bidirectional: bool = False,
        dropout: Probability = 0.0,
        batch_first: bool = True,
        output: Literal["sequence", "last"] = "sequence",
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        return_state: bool = False,
    ):
        super().__init__()
        self.hidden_size, self.num_layers, self.bias = hidden_size, num_layers, bias
        self.bidirectional, self.dropout, self.batch_first = bidirectional, dropout, batch_first
        self.output, self.init, self.bias_init = output, init, bias_init
        self.return_state = return_state
        states = ("h_n", "c_n") if self.gates == 4 else ("h_n",)
        self.result_names = ("output", *states) if return_state else ()
        self.input_size = 0
        self.between_layers = Dropout(dropout)

    def directions(self) -> list[str]:
        return ["", "_reverse"] if self.bidirectional else [""]

    def build(self, x: Any, lengths: Any = None, h0: Any = None, c0: Any = None) -> None:
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        if len(shape) != 3:
            raise ShapeError(
                f"{self.kind} expects input (N, T, features), got shape {shape}"
                + ("" if self.batch_first else " (T, N, features) with batch_first=false")
            )
        self.input_size = shape[-1]
        hidden, rows = self.hidden_size, self.gates * self.hidden_size
        default = torch_default_uniform(hidden)
        # torch's order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh.
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else hidden * len(self.directions())
            for suffix in self.directions():
                name = f"l{layer}{suffix}"
                for kind, shape_ in (("weight_ih", (rows, width)), ("weight_hh", (rows, hidden))):
                    value = initialize(self.init, shape_, default=default)
                    setattr(self, f"{kind}_{name}", Parameter(value))
                if self.bias:
                    for kind in ("bias_ih", "bias_hh"):
                        value = initialize(self.bias_init, (rows,), default=default)
                        setattr(self, f"{kind}_{name}", Parameter(value))

    def forward(
        self, x: ArrayLike, lengths: Any = None, h0: Any = None, c0: Any = None
    ) -> Tensor | tuple[Tensor, ...]:
        x = input_tensor(x)
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(f"{self.kind} expects input (N, T, {self.input_size}), got {x.shape}")
        if not self.batch_first:
            x = x.transpose(1, 0, 2)
        batch, steps = x.shape[:2]
        mask = None if lengths is None else step_mask(lengths, batch, steps, self.kind)
        if mask is not None and mask.all():
            mask = None
        initial = self._initial_states(h0, c0, x)
        finals: list[list[Tensor]] = []
        for layer in range(self.num_layers):
            if layer:
                x = self.between_layers(x)
            outputs = []
            for d, suffix in enumerate(self.directions()):
                index = layer * len(self.directions()) + d
                start = [state[index] for state in initial]
                out = self._direction(x, f"l{layer}{suffix}", suffix != "", mask, start)
                if self.return_state:
                    finals.append([out[:, steps + i] for i in range(len(self.result_names) - 1)])
                    out = out[:, :steps]
                outputs.append(out)
            x = outputs[0] if len(outputs) == 1 else F.concatenate(outputs, axis=-1)
        if self.output == "last":
            x = self._last(x, mask)
        elif not self.batch_first:
            x = x.transpose(1, 0, 2)
        if not self.return_state:
            return x
        return (x, *(F.stack([f[i] for f in finals], axis=0) for i in range(len(finals[0]))))

    def _initial_states(self, h0: Any, c0: Any, x: Tensor) -> list[Tensor]:
        """[h0] or [h0, c0] (LSTM), each (D·num_layers, N, H), zeros for a missing one;
        [] when neither is given."""
        if c0 is not None and self.gates != 4:
            raise ShapeError(f"{self.kind} has no cell state: c0 is for the lstm")
        if h0 is None and c0 is None:
            return []
        shape = (self.num_layers * len(self.directions()), x.shape[0], self.hidden_size)
        states = []
        for name, state in (("h0", h0), ("c0", c0))[: 2 if self.gates == 4 else 1]:
            if state is None:
                states.append(Tensor._wrap(np.zeros(shape, dtype=x.dtype), False))
                continue
            state = input_tensor(state, like=x)
            if state.shape != shape:
                raise ShapeError(
                    f"{self.kind} expects {name} (D·num_layers, N, H) = {shape}, got {state.shape}"
                )
            states.append(state)
        return states

    def _direction(
        self, x: Tensor, name: str, reverse: bool, mask: np.ndarray | None, initial: list[Tensor]
    ) -> Tensor:
        weights = [getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")]
        if self.bias:
            weights += [getattr(self, f"bias_ih_{name}"), getattr(self, f"bias_hh_{name}")]
        return self.cell.apply(
            x,
            *weights,
            *initial,
            reverse=reverse,
            mask=mask,
            initial=len(initial),
            final=self.return_state,
            **self.cell_options(),
        )

    def cell_options(self) -> dict[str, Any]:
        return {}

    def _last(self, x: Tensor, mask: np.ndarray | None) -> Tensor:
        """(N, D·H): the forward direction at each sequence's last valid step and the
        backward direction at its first (both directions' final states, like h_n)."""
        batch, steps, width = x.shape
        if mask is None:
            if not self.bidirectional:
                return x[:, -1]
            last, first = np.full(batch, steps - 1), np.zeros(batch, dtype=np.int64)
        else:
            valid = mask.any(axis=1)
            last = np.where(valid, steps - 1 - np.argmax(mask[:, ::-1], axis=1), 0)
            first = np.argmax(mask, axis=1)
        hidden = self.hidden_size
        per_column = np.repeat(np.stack([last, first], axis=1), hidden, axis=1)
        index = per_column[:, :width]
        return x[np.arange(batch)[:, None], index, np.arange(width)[None, :]]

    def extra_repr(self) -> str:
        text = f"{self.input_size or '?'}, {self.hidden_size}"
        for key, default in (
            ("num_layers", 1),
            ("bias", True),
            ("batch_first", True),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("output", "sequence"),
        ):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text


@LAYERS.register("rnn", "simple_rnn", arg_aliases={"units": "hidden_size"})
class RNN(_Recurrent):
    """Elman RNN, h' = act(W_ih x + b_ih + W_hh h + b_hh), as torch.nn.RNN.

    Inputs (N, T, in) [+ lengths, h0]; output (N, T, D·H) or (N, D·H) for `output: last`
    [+ h_n (D·num_layers, N, H) with `return_state`].
    """

    kind = "rnn"
    cell = ops.ElmanRNN
    gates = 1

    def __init__(
        self,
        hidden_size: Positive,
        num_layers: Positive = 1,
        nonlinearity: Literal["tanh", "relu"] = "tanh",
        bias: bool = True,
        bidirectional: bool = False,
        dropout: Probability = 0.0,
        batch_first: bool = True,
        output: Literal["sequence", "last"] = "sequence",
        init: str | dict[str, Any] | None = None,
        bias_init: str | dict[str, Any] | None = None,
        return_state: bool = False,
    ):
        super().__init__(
            hidden_size,
            num_layers,
            bias,
            bidirectional,
            dropout,
            batch_first,
            output,
            init,
            bias_init,
            return_state,
        )
        self.nonlinearity = nonlinearity

    def cell_options(self) -> dict[str, Any]:
        return {"relu": self.nonlinearity == "relu"}


@LAYERS.register("lstm", arg_aliases={"units": "hidden_size"})
class LSTM(_Recurrent):
    """Long short-term memory, as torch.nn.LSTM (gates i, f, g, o stacked in the weights).

    Inputs (N, T, in) [+ lengths, h0, c0]; output (N, T, D·H) or (N, D·H) for `output:
    last` [+ h_n, c_n (D·num_layers, N, H) with `return_state`].
    """

    kind = "lstm"
    cell = ops.LSTM
    gates = 4


@LAYERS.register("gru", arg_aliases={"units": "hidden_size"})
class GRU(_Recurrent):
    """Gated recurrent unit, as torch.nn.GRU (gates r, z, n stacked in the weights).

    Inputs (N, T, in) [+ lengths, h0]; output (N, T, D·H) or (N, D·H) for `output: last`
    [+ h_n (D·num_layers, N, H) with `return_state`].
    """

    kind = "gru"
    cell = ops.GRU
    gates = 3
