"""Declarative option specs for the plain config sections (data, train, ...).

A section is a dict ``key -> Option``. The config layer validates a section against its spec
(unknown keys, types, choices, ranges) and turns specs into JSON Schema; the module that uses
a section owns its spec, so adding an option is one line where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REQUIRED = object()


@dataclass(frozen=True)
class Option:
    """One key of a config section.

    `type` is a type hint (``int``, ``float | None``, ``list[str]``, ``dict``, ``Any``) that
    carries its constraints, as component signatures do (see `nnrun.constraints`): choices
    as ``Literal["stop", "skip_batch"]``, bounds as ``Annotated[int, Min(1)]``; `aliases`
    are other accepted spellings (``max_epochs`` for ``epochs``); `spec` nests a sub-section.
    """

    type: Any
    default: Any = None
    doc: str = ""
    aliases: tuple[str, ...] = ()
    spec: dict[str, Option] | None = field(default=None, compare=False)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED
