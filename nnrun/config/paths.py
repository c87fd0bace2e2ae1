"""Key paths into a config tree and the tables that locate them in files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nnrun.errors import Location
from nnrun.registry import suggest

T = TypeVar("T")
KeyPath = tuple[str | int, ...]
"""A path into config data: mapping keys are ``str``, list indices ``int``."""


def format_path(path: KeyPath) -> str:
    """``("model", "layers", 2, "units")`` → ``"model.layers[2].units"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(value: Any) -> str:
    """A short 'type value' rendering for error messages: ``str 'abc'``, ``mapping``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'batch_size'?)`` for the nearest choices, or nothing."""
    close = suggest(name, choices)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _under(path: KeyPath, prefix: KeyPath) -> bool:
    return path[: len(prefix)] == prefix


@dataclass
class Located:
    """Plain config data plus the location of every key and value in it (by key path)."""

    data: Any
    keys: dict[KeyPath, Location] = field(default_factory=dict)
    values: dict[KeyPath, Location] = field(default_factory=dict)

    def drop(self, prefix: KeyPath) -> None:
        """Forget the locations of `prefix` and everything below it."""
        for table in (self.keys, self.values):
            for path in [p for p in table if _under(p, prefix)]:
                del table[path]

    def graft(self, prefix: KeyPath, other: Located, other_prefix: KeyPath = ()) -> None:
        """Copy `other`'s locations under `other_prefix` to the same places under `prefix`."""
        for mine, theirs in ((self.keys, other.keys), (self.values, other.values)):
            for path, location in theirs.items():
                if _under(path, other_prefix):
                    mine[prefix + path[len(other_prefix) :]] = location


def get_path(data: Any, path: KeyPath) -> Any:
    """The value at `path` (the path must exist)."""
    for part in path:
        data = data[part]
    return data


def nearest(table: dict[KeyPath, T], path: KeyPath) -> T | None:
    """The entry for `path`, or for its nearest ancestor that has one."""
    for length in range(len(path), -1, -1):
        if path[:length] in table:
            return table[path[:length]]
    return None


def is_plain(value: Any) -> bool:
    """Whether `value` is YAML/JSON data (scalars, lists/tuples, string-keyed mappings)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return False


def to_plain(value: Any) -> Any:
    """A deep copy of plain data with tuples turned into lists (YAML has no tuples)."""
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    return value
