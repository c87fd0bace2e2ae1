"""Compiled steps: a model's graph recorded once per input shape and replayed."""

from nnrun.compile.step import Compiled, CompileError, Eager, compile_step, compiled_call

__all__ = ["CompileError", "Compiled", "Eager", "compile_step", "compiled_call"]
