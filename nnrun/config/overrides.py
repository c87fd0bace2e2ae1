"""Command-line overrides: ``--set optimizer.lr=3e-4 --set model.layers.0.units=256``.

The value after ``=`` is parsed as YAML (``1e-3`` → float, ``true`` → bool, ``[1,2]`` →
list, ``!delete`` removes the key). Numeric path parts index lists; missing mapping keys are
created (validation reports the unknown ones). Each value's location is the override itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnrun.config.loader import DELETE_TAG, contains_delete, parse_text
from nnrun.config.paths import KeyPath, Located, describe, format_path, get_path
from nnrun.errors import ConfigError, Location, Problem


def apply_overrides(document: Located, overrides: Sequence[str]) -> None:
    """Apply ``path=value`` overrides in order to a mapping document, in place.

    Every bad override is reported, together, in one ConfigError.
    """
    problems = []
    for text in overrides:
        try:
            _apply(document, text)
        except ConfigError as err:
            problems.extend(err.problems)
    if problems:
        raise ConfigError(problems)


def _apply(document: Located, text: str) -> None:
    origin = Location(f"--set {text}")
    dotted, sep, raw = text.partition("=")
    parts = [part.strip() for part in dotted.split(".")]
    if not sep or not all(parts):
        raise ConfigError(
            Problem(
                "malformed override",
                location=origin,
                expected="dotted.path=value, e.g. optimizer.lr=3e-4",
                found=repr(text),
            )
        )
    if parts[0] == "extends":
        raise ConfigError(
            Problem("extends cannot be overridden from the command line", location=origin)
        )
    deleting = raw.strip() == DELETE_TAG
    value = None if deleting else _parse_value(raw, origin)
    path = _walk_creating(document, parts, origin)
    parent, last = get_path(document.data, path[:-1]), path[-1]
    if deleting and isinstance(parent, list):
        raise ConfigError(Problem("!delete can only remove a mapping key", location=origin))
    document.drop(path)
    if value is None:
        parent.pop(last, None)
        return
    parent[last] = value.data
    for table in (value.keys, value.values):
        table.update(dict.fromkeys(table, origin))
    document.graft(path, value)
    if isinstance(last, str):
        document.keys[path] = origin


def _parse_value(raw: str, origin: Location) -> Located:
    try:
        value = parse_text(raw, origin.file)
    except ConfigError as err:
        raise ConfigError(
            [
                Problem(p.message, location=origin, expected=p.expected, found=p.found)
                for p in err.problems
            ]
        ) from None
    if contains_delete(value.data):
        raise ConfigError(
            Problem(
                "!delete inside an override value is not supported",
                location=origin,
                expected="path.to.key=!delete",
            )
        )
    return value


def _walk_creating(document: Located, parts: list[str], origin: Location) -> KeyPath:
    """Turn dotted `parts` into a key path, creating missing intermediate mappings."""
    path: KeyPath = ()
    node: Any = document.data
    for depth, part in enumerate(parts):
        step: str | int = part
        if isinstance(node, list):
            if not (part.isascii() and part.isdigit()):
                raise _bad_step(origin, path, f"is a list; index it with a number, not {part!r}")
            step = int(part)
            if step >= len(node):
                raise _bad_step(
                    origin,
                    path,
                    f"has {len(node)} item(s); index {step} is out of range",
                    expected=f"an index from 0 to {len(node) - 1}" if node else "",
                )
        elif not isinstance(node, dict):
            raise _bad_step(
                origin, path, "is not a mapping or list, so it has no keys", found=describe(node)
            )
        last = depth == len(parts) - 1
        if not last and isinstance(node, dict) and node.get(step) is None:
            node[step] = {}
            document.keys[(*path, step)] = document.values[(*path, step)] = origin
        path = (*path, step)
        if not last:
            node = node[step]
    return path


def _bad_step(
    origin: Location, path: KeyPath, message: str, expected: str = "", found: str = ""
) -> ConfigError:
    where = format_path(path) or "the top level"
    return ConfigError(
        Problem(
            f"cannot apply override: {where} {message}",
            location=origin,
            expected=expected,
            found=found,
        )
    )
