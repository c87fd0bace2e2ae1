"""User text on a Rich console: shown as written, never read as markup or emoji codes.

Rich reads ``[...]`` in printed strings as style tags (``[/x]`` even raises) and, on a
console with emoji on, ``:x:`` as an emoji. Paths, names, config values and messages come
from users, so every one goes through `safe` before it is put into a string that Rich
renders, and every console nnrun makes comes from `make_console` (emoji codes off).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def safe(value: Any) -> str:
    """`value` as text for a Rich markup string: brackets escaped, shown literally."""
    return escape(str(value))


def make_console(**options: Any) -> Console:
    """A Rich console that leaves ``:name:`` alone (no emoji substitution)."""
    options.setdefault("emoji", False)
    return Console(**options)
