"""Dropout (inverted, as torch.nn.Dropout): zero each value with probability p during
training and scale the survivors by 1/(1 − p); the identity in eval mode."""

from __future__ import annotations

from numpy.typing import ArrayLike

from nnrun.autograd.tensor import Tensor
from nnrun.constraints import Fraction
from nnrun.nn.module import Module, input_tensor
from nnrun.ops.dropout import Dropout as DropoutOp
from nnrun.registry import LAYERS


@LAYERS.register("dropout")
class Dropout(Module):
    """Inverted dropout with drop probability `p` (default 0.5). The mask comes from
    nnrun.random's generator, so a seeded run draws the same masks; in eval mode, or with
    p = 0, the input is returned unchanged."""

    def __init__(self, p: Fraction = 0.5) -> None:
        super().__init__()
        self.p = float(p)

    def mask_shape(self, x: Tensor) -> tuple[int, ...]:
        """The shape of the keep-mask, broadcast over `x` (channel dropout drops whole maps)."""
        return x.shape

    def forward(self, x: ArrayLike) -> Tensor:
        x = input_tensor(x)
        shape = self.mask_shape(x)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        return DropoutOp.apply(x, p=self.p, mask_shape=shape)

    def extra_repr(self) -> str:
        return f"p={self.p}"
