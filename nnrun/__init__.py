"""nnrun: declarative neural-network experiments on a NumPy autograd engine."""

from nnrun import _startup  # noqa: F401, I001  (first: quiet Ctrl-C while the CLI starts)
from typing import Any

from nnrun.autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad
from nnrun.functional import (
    concatenate,
    einsum,
    matmul,
    maximum,
    minimum,
    pad,
    stack,
    take,
    tensordot,
    where,
)
from nnrun.runtime import keep_freed_memory
from nnrun.testing.gradcheck import GradcheckError, gradcheck

keep_freed_memory()


def __getattr__(name: str) -> Any:
    # compile_step is imported on first use, keeping `import nnrun` (and the CLI) light.
    if name == "compile_step":
        from nnrun.compile import compile_step

        return compile_step
    raise AttributeError(f"module 'nnrun' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "__version__",
    "compile_step",
    "concatenate",
    "einsum",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "matmul",
    "maximum",
    "minimum",
    "no_grad",
    "pad",
    "stack",
    "take",
    "tensordot",
    "where",
]
