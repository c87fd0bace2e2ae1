"""Shell completion callbacks (``nnrun --install-completion``): config files, run and sweep
directories under ``outputs/``, ``--set`` keys and the registered names their values take.

Imported when the CLI starts, so only the standard library is imported at module level; the
registries are loaded when a ``--set`` value is completed (a few hundred milliseconds).
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUTPUTS = Path("outputs")
CONFIG_SUFFIXES = (".yaml", ".yml")
# A key path (as written after --set) -> the registry kind its value names. Patterns stay
# text until used (re caches them): compiling at import would slow every `nnrun` start.
_VALUE_KINDS: list[tuple[str, str]] = [
    (r"(model|blocks)(\..+)?\.(type)|model\.(layers|nodes)\.[^.]+", "layer"),
    (r".*\.activation", "activation"),
    (r".*\.(init|bias_init|weight_init)", "initializer"),
    (r"loss(\.type)?", "loss"),
    (r"optimizer(\.type)?", "optimizer"),
    (r"schedule(\.type)?", "schedule"),
    (r"metrics\.\d+(\.type)?", "metric"),
    (r"data\.dataset", "dataset"),
    (r"train\.loggers\.\d+(\.type)?", "logger"),
]


def complete_config(incomplete: str) -> list[str]:
    """YAML files (and folders to descend into) starting with `incomplete`."""
    return [
        path for path in _paths(incomplete) if path.endswith("/") or path.endswith(CONFIG_SUFFIXES)
    ]


def complete_run(incomplete: str) -> list[str]:
    """Run directories (``config.yaml`` and metrics or a summary), ``latest`` pointers and
    checkpoints under ``outputs/``, or folders elsewhere, starting with `incomplete`."""
    found = [
        str(path) + "/"
        for path in _walk(OUTPUTS)
        if _is_run(path)
        or path.name == "latest"
        or (path.parent.name == "checkpoints" and _is_run(path.parent.parent))
    ]
    return _matching(found, incomplete) or [p for p in _paths(incomplete) if p.endswith("/")]


def complete_sweep(incomplete: str) -> list[str]:
    """Sweep directories (holding ``sweep.yaml``) under ``outputs/``."""
    found = [str(path) + "/" for path in _walk(OUTPUTS) if (path / "sweep.yaml").is_file()]
    return _matching(found, incomplete) or [p for p in _paths(incomplete) if p.endswith("/")]


def complete_logger(incomplete: str) -> list[str]:
    """Registered training loggers."""
    from nnrun.loggers import LOGGERS

    return [name for name in LOGGERS.names() if name.startswith(incomplete)]


def complete_set(incomplete: str) -> list[tuple[str, str]]:
    """``--set`` completion: before ``=`` the config's sections and keys; after ``=`` the
    registered names (layers, activations, losses, ...) or the choices the key takes."""
    key, equals, value = incomplete.partition("=")
    if equals:
        return [(f"{key}={name}", help) for name, help in _values(key) if name.startswith(value)]
    # One level at a time: `train.e` offers `train.epochs=` and `train.early_stopping.`.
    depth = incomplete.count(".")
    offered: dict[str, str] = {}
    for path, help in _keys():
        if path.startswith(incomplete):
            parts = path.split(".")
            shown = path if len(parts) <= depth + 1 else ".".join(parts[: depth + 1]) + "."
            offered.setdefault(shown, help if shown == path else "")
    return list(offered.items())


def _values(key: str) -> list[tuple[str, str]]:
    from nnrun.config.spec import Option
    from nnrun.config.validate import literal_choices

    for pattern, kind in _VALUE_KINDS:
        if re.fullmatch(pattern, key):
            registry = _registries()[kind]
            return [(name, kind) for name in registry.names()]
    option = _options().get(key)
    if isinstance(option, Option):
        choices = literal_choices(option.type)  # declared as `Literal[...]`
        if choices:
            return [(str(choice), option.doc) for choice in choices]
        if option.type is bool:
            return [("true", option.doc), ("false", option.doc)]
    return []


def _keys() -> Iterator[tuple[str, str]]:
    """Every key path of the plain sections, ``section.key=``, with its doc; component
    sections as ``loss=`` and ``loss.``."""
    from nnrun.config.spec import Option

    for path, option in _options().items():
        if isinstance(option, Option) and option.spec is None:
            yield f"{path}=", option.doc
    for section in ("loss", "optimizer", "schedule", "model.layers.0.type", "metrics.0"):
        yield f"{section}=", _kind_of(section)


def _kind_of(key: str) -> str:
    return next(kind for pattern, kind in _VALUE_KINDS if re.fullmatch(pattern, key))


def _options() -> dict[str, Any]:
    """Dotted key path -> Option for every plain config key (sections included)."""
    from nnrun.config.spec import Option
    from nnrun.spec import SECTIONS

    found: dict[str, Any] = {}

    def walk(prefix: str, spec: dict[str, Option]) -> None:
        for key, option in spec.items():
            found[prefix + key] = option
            if option.spec is not None:
                walk(f"{prefix}{key}.", option.spec)

    for name, section in SECTIONS.items():
        if isinstance(section, Option):
            found[name] = section
        elif isinstance(section, dict):
            walk(f"{name}.", section)
    return found


def _registries() -> dict[str, Any]:
    from nnrun import components  # noqa: F401  (fills the registries)
    from nnrun.registry import REGISTRIES

    return {registry.kind: registry for registry in REGISTRIES}


def _paths(incomplete: str) -> list[str]:
    """Entries of the folder `incomplete` points into, whose names start with its last part;
    folders end with ``/``. Hidden entries only when asked for."""
    folder, _, stem = incomplete.rpartition("/")
    base = Path(folder + "/" if folder else ".")
    prefix = f"{folder}/" if folder else ""
    try:
        entries = sorted(os.scandir(base), key=lambda entry: entry.name)
    except OSError:
        return []
    return [
        prefix + entry.name + ("/" if entry.is_dir() else "")
        for entry in entries
        if entry.name.startswith(stem) and (stem.startswith(".") or not entry.name.startswith("."))
    ]


def _walk(root: Path, depth: int = 6) -> Iterator[Path]:
    """Folders below `root` (links such as ``latest`` included, not followed), not descending
    into a run's own folders other than ``checkpoints``."""
    if depth == 0 or not root.is_dir():
        return
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError:
        return
    in_run = _is_run(root)
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        path = Path(entry.path)
        yield path
        if entry.is_symlink() or (in_run and entry.name != "checkpoints"):
            continue
        yield from _walk(path, depth - 1)


def _is_run(path: Path) -> bool:
    return (path / "config.yaml").is_file() and (
        (path / "metrics.csv").is_file() or (path / "summary.json").is_file()
    )


def _matching(candidates: list[str], incomplete: str) -> list[str]:
    return [candidate for candidate in candidates if candidate.startswith(incomplete)]
