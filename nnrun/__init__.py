"""nnrun: declarative neural-network experiments on a NumPy autograd engine.

The public names below load on first use (PEP 562), so `import nnrun` — and with it the
command line's start-up, e.g. `nnrun --help` — does not import NumPy or the engine until
something needs them.
"""

from nnrun import _startup  # noqa: F401, I001  (first: quiet Ctrl-C while the CLI starts)
from importlib import import_module
from typing import Any

from nnrun.runtime import keep_freed_memory

keep_freed_memory()

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "Function": "nnrun.autograd",
    "Tensor": "nnrun.autograd",
    "enable_grad": "nnrun.autograd",
    "is_grad_enabled": "nnrun.autograd",
    "no_grad": "nnrun.autograd",
    "concatenate": "nnrun.functional",
    "einsum": "nnrun.functional",
    "matmul": "nnrun.functional",
    "maximum": "nnrun.functional",
    "minimum": "nnrun.functional",
    "pad": "nnrun.functional",
    "stack": "nnrun.functional",
    "take": "nnrun.functional",
    "tensordot": "nnrun.functional",
    "where": "nnrun.functional",
    "GradcheckError": "nnrun.testing.gradcheck",
    "gradcheck": "nnrun.testing.gradcheck",
    "compile_step": "nnrun.compile",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nnrun' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["__version__", *sorted(_EXPORTS)]
