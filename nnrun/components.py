"""Import every module that registers components, so each registry is complete.

Registries fill where components are defined (a decorator per class); anything that looks
names up — the config builder, the JSON schema, the registry-walking tests — imports this
first.
"""

from nnrun import (  # noqa: F401
    init,
    losses,
    optim,
    schedules,
)
from nnrun.data import builtin  # noqa: F401
from nnrun.loggers import csv, mlflow, tensorboard  # noqa: F401
from nnrun.nn import (  # noqa: F401
    activation,
    attention,
    container,
    conv,
    distance,
    dropout,
    dropout2d,
    embedding,
    expression,
    graph,
    linear,
    math,
    merge,
    normalization,
    padding,
    pooling,
    rnn,
    shape,
    tensor_nodes,
    transformer,
)
from nnrun.train import metrics  # noqa: F401
