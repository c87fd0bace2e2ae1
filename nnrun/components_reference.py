"""The component reference: every registered component with its arguments, read from the
registries and the declared constraints (what `nnrun components` prints)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import yaml

from nnrun import components  # noqa: F401  (fills the registries)
from nnrun.config.paths import is_plain, to_plain
from nnrun.registry import REGISTRIES, Registry, type_name


@dataclass(frozen=True)
class Argument:
    """One constructor argument: its name, what it may be (type and constraints), default."""

    name: str
    allowed: str
    default: str  # "required" when there is none


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    kind: str
    name: str
    aliases: tuple[str, ...]
    summary: str
    arguments: tuple[Argument, ...]


def reference(kinds: list[str] | None = None) -> list[Entry]:
    """Entries of the registries of `kinds` (all kinds when None), sorted by kind and name."""
    chosen = [r for r in REGISTRIES if kinds is None or r.kind in kinds]
    return [entry(registry, name) for registry in chosen for name in registry.names()]


def entry(registry: Registry, name: str) -> Entry:
    arguments = []
    for key, parameter in registry.parameters(name).items():
        if parameter.kind is parameter.VAR_KEYWORD:
            continue
        if parameter.default is parameter.empty:
            default = "required"
        elif is_plain(parameter.default):
            default = yaml_text(to_plain(parameter.default))
        else:
            default = "(computed)"
        arguments.append(Argument(key, type_name(parameter.annotation), default))
    doc = inspect.getdoc(registry.get(name)) or ""
    return Entry(
        registry.kind,
        name,
        tuple(registry.aliases_of(name)),
        doc.split("\n\n")[0].replace("\n", " "),
        tuple(arguments),
    )


def yaml_text(value: object) -> str:
    """A value as it is written in a config (`true`, `null`, `[0.9, 0.999]`)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return text.removesuffix("...\n").strip()


def kinds() -> list[str]:
    return [registry.kind for registry in REGISTRIES]
