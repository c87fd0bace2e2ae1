"""Channel dropout as torch.nn.Dropout1d/Dropout2d: whole feature maps are dropped, which
suits convolutional features whose neighbouring values are strongly correlated."""

from __future__ import annotations

from typing import Any

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.errors import ArgumentError, ShapeError
from nnrun.nn.module import Module, input_tensor
from nnrun.registry import LAYERS


class _ChannelDropout(Module):
    """Zero whole channels of (N, C, *spatial) with probability `p` in training and scale the
    kept ones by 1/(1 − p); identity in eval mode. Masks come from nnrun.random."""

    name = "dropout2d"
    spatial = 2

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(
                f"{self.name}: probability p must be in [0, 1], got {p}",
                key="p",
                expected="a probability in [0, 1]",
                found=repr(p),
            )
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        x = input_tensor(x)
        if x.ndim != self.spatial + 2:
            layout = "(N, C, H, W)" if self.spatial == 2 else "(N, C, L)"
            raise ShapeError(f"{self.name} expects input {layout}, got shape {x.shape}")
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        shape = x.shape[:2] + (1,) * self.spatial
        keep = random.generator().random(shape) >= self.p
        return x * (keep * (1.0 / (1.0 - self.p))).astype(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


@LAYERS.register("dropout2d", "spatial_dropout2d")
class Dropout2d(_ChannelDropout):
    __doc__ = _ChannelDropout.__doc__
    name = "dropout2d"
    spatial = 2


@LAYERS.register("dropout1d", "spatial_dropout1d")
class Dropout1d(_ChannelDropout):
    __doc__ = _ChannelDropout.__doc__
    name = "dropout1d"
    spatial = 1
