"""Optional packages some tests need, and the skip that names how to install each.

`need("torch")` is `pytest.importorskip` with a reason naming the extra (or package) that
provides the module, so the suite's skip summary (`-rs`, on by default) says what to install.
CI (.ci/run) installs all of them: there, only a missing browser may skip.
"""

from __future__ import annotations

from types import ModuleType

import pytest

INSTALL = {
    "torch": "PyTorch, used only to cross-check values: pip install torch==2.13.0",
    "safetensors": "PyTorch, used only to cross-check values: pip install torch==2.13.0",
    "onnx": 'the export extra: pip install -e ".[export]"',
    "onnxruntime": "onnxruntime, which runs the exported models: pip install onnxruntime",
    "tensorboardX": 'the tensorboard extra: pip install -e ".[tensorboard]"',
    "tensorboard": "TensorBoard's event reader: pip install tensorboard",
    "mlflow": 'the mlflow extra: pip install -e ".[mlflow]"',
    "sqlalchemy": 'the mlflow extra: pip install -e ".[mlflow]"',
    "sklearn": 'the crosscheck extra (scikit-learn): pip install -e ".[crosscheck]"',
    "optuna": 'the sweep extra: pip install -e ".[sweep]"',
    "distributed": 'the dist extra (dask.distributed): pip install -e ".[dist]"',
    "matplotlib": 'the plot extra: pip install -e ".[plot]"',
    "jsonschema": 'the test extra: pip install -e ".[test]"',
}
"""Top-level module → what installs it."""

CHROMIUM = "needs a chromium (or Chrome) binary: apt-get install chromium"


def need(module: str) -> ModuleType:
    """Import `module` or skip the test (or the whole module, at import time) with a reason
    naming what installs it."""
    __tracebackhide__ = True  # the skip summary names the test's line, not this one
    top = module.split(".")[0]
    reason = f"needs {module}, from {INSTALL[top]}"
    return pytest.importorskip(module, reason=reason)
