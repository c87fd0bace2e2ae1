"""Import every module that registers components, so each registry is complete.

Registries fill where components are defined (a decorator per class); anything that looks
names up — the config builder, the JSON schema, the registry-walking tests — imports this
first. Every module of a component package is imported by walking the package, so a new
module (a layer family in `nn/`, a loss file in `losses/`) registers without being listed.
"""

from __future__ import annotations

import importlib
import pkgutil

COMPONENT_PACKAGES = ("nnrun.nn", "nnrun.losses", "nnrun.optim", "nnrun.loggers", "nnrun.data")
"""Packages whose every module may define components (walked, not listed)."""

COMPONENT_MODULES = ("nnrun.init", "nnrun.metrics", "nnrun.schedules")
"""Single-module kinds: initializers, metrics, schedules."""


def _walk(package_name: str) -> list[str]:
    package = importlib.import_module(package_name)
    return [
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    ]


for _name in (*COMPONENT_MODULES, *(m for p in COMPONENT_PACKAGES for m in _walk(p))):
    importlib.import_module(_name)
