"""``${section.key}`` references between config values.

A value that is exactly one reference takes the referenced value with its type (numbers stay
numbers, mappings are copied); references inside longer text are substituted as text. Paths
are dotted, list indices as ``.0`` (``[0]`` also works); ``\\${`` writes a literal ``${``.
References may point at values that are themselves references; cycles are errors.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from nnrun.config.paths import (
    KeyPath,
    Located,
    describe,
    did_you_mean,
    format_path,
    get_path,
    nearest,
)
from nnrun.errors import ConfigError, Problem
from nnrun.limits import MAX_STRING_CHARS

_INDEX = re.compile(r"\[([0-9]+)\]")


def has_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def escape(text: str) -> str:
    """Protect a literal ``${`` from interpolation (the inverse of what resolving does)."""
    return text.replace("${", "\\${")


def interpolate(document: Located) -> dict[KeyPath, str]:
    """Resolve every reference in `document` in place.

    Returns the original text of each value that was produced by interpolation, by path.
    """
    resolver = _Resolver(document)
    resolver.resolve(())
    return resolver.original


class _Resolver:
    def __init__(self, document: Located):
        self.document = document
        self.original: dict[KeyPath, str] = {}
        self._active: list[KeyPath] = []
        self._done: set[KeyPath] = set()

    def _is_done(self, path: KeyPath) -> bool:
        return any(path[:i] in self._done for i in range(len(path) + 1))

    def resolve(self, path: KeyPath) -> Any:
        """Resolve the value at `path` (and everything below it) in place; return it."""
        if self._is_done(path):
            return get_path(self.document.data, path)
        if path in self._active:
            cycle = self._active[self._active.index(path) :]
            raise self._error(
                "reference cycle: "
                + " -> ".join(format_path(p) or "(top level)" for p in [*cycle, path]),
                cycle[-1],
            )
        self._active.append(path)
        value = get_path(self.document.data, path)
        if isinstance(value, dict):
            for key in list(value):
                self.resolve((*path, key))
        elif isinstance(value, list):
            for index in range(len(value)):
                self.resolve((*path, index))
        elif has_reference(value):
            resolved, referred = self._substitute(value, path)
            parent = get_path(self.document.data, path[:-1])
            parent[path[-1]] = resolved
            if referred:
                self.original[path] = value
            value = resolved
        self._active.pop()
        self._done.add(path)
        return value

    def _substitute(self, text: str, path: KeyPath) -> tuple[Any, bool]:
        """The value `text` stands for, and whether it contained any (unescaped) reference."""
        pieces: list[str] = []
        referred = False
        position = 0
        while position < len(text):
            start = text.find("${", position)
            if start < 0:
                pieces.append(text[position:])
                break
            if start > 0 and text[start - 1] == "\\":
                pieces.append(text[position : start - 1] + "${")
                position = start + 2
                continue
            end = text.find("}", start)
            if end < 0:
                raise self._error("unclosed reference", path, "${path.to.key}", repr(text))
            pieces.append(text[position:start])
            expression = text[start + 2 : end]
            if self._is_deferred(expression, path):
                pieces.append(text[start : end + 1])  # the model builder fills it in
                position = end + 1
                continue
            value = self._lookup(expression, path)
            referred = True
            if start == 0 and end == len(text) - 1:
                return copy.deepcopy(value), True
            if isinstance(value, (dict, list)):
                raise self._error(
                    f"${{{expression}}} is {describe(value)} and cannot be inserted into text",
                    path,
                    "a reference to a single value, or a value that is only the reference",
                )
            pieces.append(_as_text(value))
            position = end + 1
        text = "".join(pieces)
        if len(text) > MAX_STRING_CHARS:  # references that double a string, again and again
            raise self._error(
                f"this value grows to {len(text):,} characters through ${{...}} references",
                path,
                f"at most {MAX_STRING_CHARS:,} characters",
            )
        return text, referred

    def _is_deferred(self, expression: str, path: KeyPath) -> bool:
        """References the model builder resolves: ``${dataset.num_classes}`` (properties of
        the loaded data) and, inside `blocks.<name>`, ``${width}`` (a block parameter)."""
        if expression.strip().startswith("dataset.") and path[:1] in (("model",), ("blocks",)):
            return True
        if len(path) < 3 or path[0] != "blocks":
            return False
        block = (self.document.data.get("blocks") or {}).get(path[1])
        params = block.get("params") if isinstance(block, dict) else None
        return isinstance(params, dict) and expression.strip() in params

    def _lookup(self, expression: str, path: KeyPath) -> Any:
        reference = f"${{{expression}}}"
        parts = _INDEX.sub(r".\1", expression.strip()).split(".")
        if not all(part.strip() for part in parts) or "${" in expression:
            raise self._error(
                f"malformed reference {reference}", path, "${section.key} or ${list.0.key}"
            )
        target: KeyPath = ()
        node = self.document.data
        for part in (p.strip() for p in parts):
            if has_reference(node) and not self._is_done(target):
                node = self.resolve(target)
            if isinstance(node, dict) and part in node:
                step: str | int = part
            elif (
                isinstance(node, list)
                and part.isascii()
                and part.isdigit()
                and int(part) < len(node)
            ):
                step = int(part)
            else:
                raise self._unknown(reference, target, node, part, path)
            target = (*target, step)
            node = node[step]
        return self.resolve(target)

    def _unknown(
        self, reference: str, target: KeyPath, node: Any, part: str, path: KeyPath
    ) -> ConfigError:
        where = format_path(target) or "the config"
        if isinstance(node, dict):
            detail = f"{where} has no key {part!r}{did_you_mean(part, node)}"
        elif isinstance(node, list):
            detail = f"{where} has {len(node)} item(s), no index {part}"
        else:
            detail = f"{where} is {describe(node)}, which has no {part!r}"
        return self._error(f"unknown reference {reference}: {detail}", path)

    def _error(
        self, message: str, path: KeyPath, expected: str = "", found: str = ""
    ) -> ConfigError:
        return ConfigError(
            Problem(
                message,
                path=format_path(path),
                location=nearest(self.document.values, path),
                expected=expected,
                found=found,
            )
        )


def _as_text(value: Any) -> str:
    """How a scalar reads inside text: YAML spellings for booleans and null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
