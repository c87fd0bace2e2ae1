"""The public entry point: a config file (plus --set overrides) → one resolved config.

Order: load the file and everything it `extends` (deep merge, ``!delete``), apply command-line
overrides, then resolve ``${...}`` references, so an override of ``data.batch_size`` also
changes every value that refers to it (as in Hydra).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnrun.config.extends import load_with_extends
from nnrun.config.interpolate import escape, interpolate
from nnrun.config.loader import dump_yaml
from nnrun.config.overrides import apply_overrides
from nnrun.config.paths import KeyPath, describe, format_path, nearest
from nnrun.errors import ConfigError, Location, Problem


@dataclass
class ResolvedConfig:
    """A merged, overridden, interpolated config and where each of its values came from.

    `data` is plain YAML data (a dict of sections). `path` is the file it was read from (or the
    origin label of a re-loaded dict). Validation replaces `data` with the normalized config
    and records filled-in defaults, so `explain()` and `to_yaml()` show the effective values.
    """

    data: dict[str, Any]
    path: str
    key_locations: dict[KeyPath, Location] = field(default_factory=dict)
    value_locations: dict[KeyPath, Location] = field(default_factory=dict)
    interpolated: dict[KeyPath, str] = field(default_factory=dict)
    defaults: set[KeyPath] = field(default_factory=set)

    def where(self, path: KeyPath) -> Location | None:
        """Location of the value at `path`, or of its nearest ancestor that has one."""
        return nearest(self.value_locations, tuple(path))

    def where_key(self, path: KeyPath) -> Location | None:
        """Location of the key that names `path` (falls back to `where`)."""
        return self.key_locations.get(tuple(path)) or self.where(path)

    def record_default(self, path: KeyPath) -> None:
        """Mark `path` as filled in from a default (for `source`/`explain`)."""
        self.defaults.add(tuple(path))

    def source(self, path: KeyPath) -> str:
        """Where the effective value at `path` came from.

        One of ``default``, ``file <path>:<line>``, ``extends <path>:<line>`` or
        ``--set <override>``, plus `` via ${...}`` when it came through a reference.
        """
        path = tuple(path)
        if any(path[:i] in self.defaults for i in range(len(path) + 1)):
            return "default"
        location = self.where(path)
        if location is None:
            return "unknown"
        if location.file.startswith("--set ") or not location.line:
            text = location.file
        elif location.file == self.path:
            text = f"file {location.file}:{location.line}"
        else:
            text = f"extends {location.file}:{location.line}"
        reference = nearest(self.interpolated, path)
        return f"{text} via {reference}" if reference else text

    def explain(self) -> list[tuple[str, Any, str]]:
        """``(dotted path, value, source)`` for every leaf, in config order."""
        return [(format_path(path), value, source) for path, value, source in self.sources()]

    def sources(self) -> list[tuple[KeyPath, Any, str]]:
        """``(key path, value, source)`` for every leaf, in config order."""
        return [(path, value, self.source(path)) for path, value in _leaves(self.data, ())]

    def to_yaml(self) -> str:
        """The config as YAML text that `resolve_config` reads back to the same `data`."""
        return dump_yaml(_escaped(self.data))


def resolve_config(path: str | Path, overrides: Sequence[str] = ()) -> ResolvedConfig:
    """Load `path` with its `extends` chain, apply ``path=value`` overrides, interpolate."""
    document = load_with_extends(path)
    apply_overrides(document, overrides)
    original = interpolate(document)
    return ResolvedConfig(document.data, str(path), document.keys, document.values, original)


def load_resolved_dict(data: Any, origin: str) -> ResolvedConfig:
    """Wrap an already resolved config (e.g. saved in a run directory) for re-validation.

    No `extends` or interpolation is applied; every location is `origin`.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            Problem(
                "a config must be a mapping of sections",
                location=Location(origin),
                expected="a mapping",
                found=describe(data),
            )
        )
    return ResolvedConfig(copy.deepcopy(data), origin, {}, {(): Location(origin)})


def _leaves(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(item) for item in value]
    if isinstance(value, str):
        return escape(value)
    return value
