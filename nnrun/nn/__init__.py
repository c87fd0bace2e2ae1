"""Layers (modules) built on the engine."""

from nnrun.nn.module import Module
from nnrun.nn.parameter import Parameter

__all__ = ["Module", "Parameter"]
