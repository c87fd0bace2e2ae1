"""Channel dropout as torch.nn.Dropout1d/Dropout2d: whole feature maps are dropped, which
suits convolutional features whose neighbouring values are strongly correlated."""

from __future__ import annotations

from nnrun.autograd.tensor import Tensor
from nnrun.errors import ShapeError
from nnrun.nn.dropout import Dropout
from nnrun.registry import LAYERS


class _ChannelDropout(Dropout):
    """Zero whole channels of (N, C, *spatial) with probability `p` (default 0.5) in training
    and scale the kept ones by 1/(1 − p); identity in eval mode. Masks come from
    nnrun.random, so a seeded run draws the same ones."""

    name = "dropout2d"
    spatial = 2

    def mask_shape(self, x: Tensor) -> tuple[int, ...]:
        if x.ndim != self.spatial + 2:
            layout = "(N, C, H, W)" if self.spatial == 2 else "(N, C, L)"
            raise ShapeError(f"{self.name} expects input {layout}, got shape {x.shape}")
        return x.shape[:2] + (1,) * self.spatial


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
