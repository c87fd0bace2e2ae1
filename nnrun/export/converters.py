"""Imports every converter module, so each registers its converters."""

from nnrun.export import (  # noqa: F401
    activation,
    attention,
    conv,
    embedding,
    linear,
    math,
    model,
    normalization,
    pooling,
    recurrent,
    shape,
)
