"""Expression nodes in the graph form: which nodes an expression reads, and where inside
its YAML string a mistake is.

`expression_inputs` turns a node's `in:` plus the names its expression uses into the
node's named inputs: listed inputs by their names (a single one also as `x`), learned
tensors (`parameter`/`constant` nodes) by their node names without listing them.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from nnrun.errors import Location, Problem
from nnrun.nn.expression import FUNCTIONS, ExpressionError, parse_expression
from nnrun.registry import suggest


def inside_string(location: Location | None, offset: tuple[int, int]) -> Location | None:
    """The location of (line, column) inside the string value that starts at `location`:
    past an opening quote, and for a block scalar (`|`, `>`) on the lines below it. (Escapes
    in a quoted string shift the column; an escaped line break keeps the value's start.)"""
    if location is None or not location.line:
        return location
    line, column = offset
    try:
        text = Path(location.file).read_text().splitlines()
        start = text[location.line - 1][location.column - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return location
    if start in "|>":  # a block scalar: its lines follow, indented as the first one
        row = location.line + 1 + line
        if row > len(text):
            return location
        indent = len(text[location.line]) - len(text[location.line].lstrip())
        return Location(location.file, row, indent + column + 1)
    if line:  # a line break written as an escape ("\n"): no line of the file to point at
        return location
    return Location(location.file, location.line, location.column + column + (start in "'\""))


def expression_inputs(
    text: Any, refs: list[str] | dict[str, str], learned: Collection[str]
) -> tuple[dict[str, str] | None, list[tuple[str, tuple[int, int] | None, str]]]:
    """The named inputs {name in the expression: node} of an expression node, and its
    problems as (message, offset inside the expression or None for the `in:` key, expected).

    A text that does not parse gives (None, []): building the layer reports that.
    """
    if not isinstance(text, str):
        return None, []
    try:
        names = parse_expression(text).names
    except ExpressionError:
        return None, []
    if isinstance(refs, dict):
        bound = dict(refs)
    else:
        bound = {ref: ref for ref in refs if ref.isidentifier()}
        if len(refs) == 1:
            bound.setdefault("x", refs[0])
    inputs: dict[str, str] = {}
    problems: list[tuple[str, tuple[int, int] | None, str]] = []
    for name, offset in names.items():
        if name in bound:
            inputs[name] = bound[name]
        elif name in learned:
            inputs[name] = name
        else:
            choices = [*bound, *learned]
            close = suggest(name, [*choices, *FUNCTIONS], n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            expected = "one of " + ", ".join(choices) if choices else "an input of the node"
            problems.append((f"name {name!r} is not an input of this node{hint}", offset, expected))
    used = set(inputs.values())
    declared = refs.items() if isinstance(refs, dict) else [(ref, ref) for ref in refs]
    for written, source in declared:
        if source not in used:
            problems.append(
                (f"input {written!r} is not used by the expression", None, "every input used")
            )
    return inputs, problems


def expression_problem(
    message: str, offset: tuple[int, int] | None, expected: str, path: str, location: Any
) -> Problem:
    """A Problem at `offset` inside the expression (or at the node's `in:` when None)."""
    where = inside_string(location, offset) if offset is not None else location
    return Problem(message, path, where, expected)
