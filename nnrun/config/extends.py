"""`extends:` composition: load a file and the files it extends, deep-merged in order.

Mappings merge key by key, everything else (lists included) is replaced whole, and a key
tagged ``!delete`` removes what it would inherit. Every value keeps the location of the file
it came from, so errors and ``--explain`` point at the right file.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from nnrun.config.loader import DELETE, load_file
from nnrun.config.paths import KeyPath, Located, describe
from nnrun.errors import ConfigError, Location, Problem


def load_with_extends(path: str | Path) -> Located:
    """The file at `path` merged over everything it (transitively) extends.

    Each file is read and merged once however often it is extended (a diamond of files that
    each extend the previous one twice stays linear, not exponential)."""
    return _load(str(path), [], {})


def merge_into(target: Located, overlay: Located) -> None:
    """Deep-merge `overlay` (a mapping document) into `target`, in place."""
    target.values[()] = overlay.values.get((), target.values.get((), Location("")))
    _merge_mapping(target, target.data, overlay, overlay.data, ())


def _merge_mapping(
    out: Located, target: dict[str, Any], overlay: Located, source: dict[str, Any], path: KeyPath
) -> None:
    for key, value in source.items():
        here = (*path, key)
        if value is DELETE:
            target.pop(key, None)
            out.drop(here)
            continue
        if not (isinstance(value, dict) and isinstance(target.get(key), dict)):
            out.drop(here)
            if not isinstance(value, dict):
                target[key] = copy.deepcopy(value)
                out.graft(here, overlay, here)
                continue
            # A new mapping still goes through the merge so nested !delete markers vanish.
            target[key] = {}
        out.keys[here] = overlay.keys[here]
        out.values[here] = overlay.values[here]
        _merge_mapping(out, target[key], overlay, value, here)


def _load(file: str, chain: list[str], done: dict[str, Located]) -> Located:
    key = os.path.realpath(file)
    if key in done:
        return done[key]  # read-only below: merge_into copies what it takes
    document = load_file(file)
    if document.data is None:
        document.data = {}
    if not isinstance(document.data, dict):
        raise ConfigError(
            Problem(
                "a config file must be a mapping of sections (name:, data:, model:, ...)",
                location=document.values[()],
                expected="a mapping",
                found=describe(document.data),
            )
        )
    result = Located({}, {}, {(): document.values[()]})
    for base, location in _base_files(document, file):
        if os.path.realpath(base) in {os.path.realpath(f) for f in (*chain, file)}:
            cycle = " -> ".join([*chain, file, base])
            raise ConfigError(Problem(f"extends cycle: {cycle}", path="extends", location=location))
        if not os.path.isfile(base):
            raise ConfigError(
                Problem(
                    "extended file not found",
                    path="extends",
                    location=location,
                    expected="an existing YAML file (relative to the extending file)",
                    found=base,
                )
            )
        merge_into(result, _load(base, [*chain, file], done))
    document.data.pop("extends", None)
    document.drop(("extends",))
    merge_into(result, document)
    done[key] = result
    return result


def _base_files(document: Located, file: str) -> list[tuple[str, Location]]:
    """The files named by `extends:` (a path or a list of paths) resolved against `file`."""
    if "extends" not in document.data:
        return []
    value = document.data["extends"]
    entries: list[tuple[Any, KeyPath]] = [(value, ("extends",))] if isinstance(value, str) else []
    if isinstance(value, list):
        entries = [(item, ("extends", i)) for i, item in enumerate(value)]
    if not entries or not all(isinstance(item, str) and item for item, _ in entries):
        raise ConfigError(
            Problem(
                "extends must name the file(s) this one builds on",
                path="extends",
                location=document.values[("extends",)],
                expected="a path or a list of paths",
                found=describe(value),
            )
        )
    folder = os.path.dirname(file)
    return [
        (os.path.normpath(os.path.join(folder, item)), document.values[path])
        for item, path in entries
    ]
