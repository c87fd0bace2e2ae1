"""`nnrun.components` imports every module that registers a component, by walking packages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from nnrun import registry

PACKAGE = Path(registry.__file__).resolve().parent
REGISTRY_NAMES = [n for n, v in vars(registry).items() if isinstance(v, registry.Registry)]
REGISTERS = re.compile(
    rf"\b({'|'.join(REGISTRY_NAMES)})\.register\(|^@register_activation\(", re.MULTILINE
)


def _registering_modules() -> set[str]:
    modules = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name != "registry.py" and REGISTERS.search(path.read_text(encoding="utf-8")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_module_that_registers_a_component_is_imported_by_nnrun_components():
    # A fresh process: in this one, other tests may have imported the modules already.
    code = "import json, sys, nnrun.components; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    imported = set(json.loads(result.stdout))
    registering = _registering_modules()
    assert {"nnrun.nn.activation", "nnrun.metrics", "nnrun.loggers.csv"} <= registering
    assert sorted(registering - imported) == []
