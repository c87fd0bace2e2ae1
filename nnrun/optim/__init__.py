"""Optimizers (registered in `nnrun.registry.OPTIMIZERS`) and gradient clipping."""

from nnrun.optim.adagrad import Adagrad
from nnrun.optim.adam import Adam, AdamW
from nnrun.optim.clip import clip_grad_norm, clip_grad_value
from nnrun.optim.optimizer import Optimizer
from nnrun.optim.rmsprop import RMSprop
from nnrun.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm",
    "clip_grad_value",
]
