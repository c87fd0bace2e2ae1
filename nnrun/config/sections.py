"""Typed config sections: frozen dataclasses that are both the declaration and the result.

A section is declared once, as a dataclass whose fields carry their type and constraints
(``epochs: Annotated[int, Min(1)] = setting(10, "passes over the data")``). The validator
reads the same declaration (`options_of` turns it into `Option`s), and `build_section` turns
a validated mapping into the instance, recursively for nested sections. Every instance
knows where it was written (`Located`), so a later error can still point at file:line:col.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, TypeVar

from nnrun.config.paths import KeyPath, format_path
from nnrun.config.spec import REQUIRED, Option
from nnrun.config.validate import ComponentList
from nnrun.errors import ArgumentError, ConfigError, Location, Problem
from nnrun.registry import Registry

S = TypeVar("S", bound="Section")


@dataclass(frozen=True)
class Located:
    """Where a section was written: its key path and the config that knows the locations."""

    path: KeyPath = ()
    config: Any = None  # ResolvedConfig (or None for a section made in code)

    def where(self, *keys: Any) -> Location | None:
        """Location of the value at ``path + keys`` (or of its nearest written ancestor)."""
        return self.config.where((*self.path, *keys)) if self.config is not None else None

    def key_path(self, *keys: Any) -> str:
        """The dotted path of ``path + keys``, as error messages show it."""
        return format_path((*self.path, *keys))


NOWHERE = Located()


@dataclass(frozen=True)
class ComponentSpec:
    """A reference to a registered component: its canonical `type`, its arguments and where
    it was written. `name` renames a metric's results."""

    type: str
    args: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    at: Located = field(default=Located(), compare=False, repr=False)

    def build(self, registry: Registry, *injected: Any) -> Any:
        """Construct the component; an argument the constructor refuses becomes a located
        config error."""
        return located(self.at, lambda: registry.build(self.type, *injected, **self.args))


def located(at: Located, make: Any) -> Any:
    """Call `make()`; an `ArgumentError` becomes a `ConfigError` at `at` (or at the key the
    error names under it)."""
    try:
        return make()
    except ArgumentError as error:
        keys = (error.key,) if error.key else ()
        raise ConfigError(
            Problem(str(error), at.key_path(*keys), at.where(*keys), error.expected, error.found)
        ) from None


def component_spec(value: Mapping[str, Any], at: Located) -> ComponentSpec:
    """A validated ``{type: name, **arguments}`` (metrics may carry a ``name``)."""
    args = {key: item for key, item in value.items() if key not in ("type", "name")}
    return ComponentSpec(value["type"], args, value.get("name"), at)


def setting(default: Any = REQUIRED, doc: str = "", aliases: tuple[str, ...] = ()) -> Any:
    """A section field: its default (`REQUIRED` if none), description and other spellings."""
    metadata = {"doc": doc, "aliases": aliases}
    if default is REQUIRED:
        return field(metadata={**metadata, "required": True})
    if isinstance(default, (dict, list, tuple)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    if isinstance(default, type) and issubclass(default, Section):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Section:
    """Base of the typed sections; `at` says where the section was written."""

    at: Located = field(default=NOWHERE, compare=False, repr=False, kw_only=True)


def options_of(cls: type[Section]) -> dict[str, Option]:
    """The section's fields as `Option`s, for the validator and the JSON Schema."""
    hints = typing.get_type_hints(cls, include_extras=True)
    options: dict[str, Option] = {}
    for item in dataclasses.fields(cls):
        if item.name == "at":
            continue
        annotation = hints[item.name]
        components = _component_list(annotation)
        if components is not None:
            # a component list's default is always a factory (a tuple of specs)
            defaults = item.default_factory()  # type: ignore[operator]
            plain = [{"type": c.type, **c.args} for c in defaults]
            options[item.name] = Option(components, plain, item.metadata.get("doc", ""))
            continue
        nested = _section_type(annotation)
        if item.metadata.get("required"):
            default: Any = REQUIRED
        elif item.default is not dataclasses.MISSING:
            default = item.default
        elif nested is not None:
            default = None if _allows_none(annotation) else {}
        else:
            # not required, no default: the field has a default_factory
            default = item.default_factory()  # type: ignore[operator]
        options[item.name] = Option(
            _plain_type(annotation) if nested is not None else annotation,
            default,
            item.metadata.get("doc", ""),
            aliases=item.metadata.get("aliases", ()),
            spec=options_of(nested) if nested is not None else None,
        )
    return options


def build_section(cls: type[S], values: Mapping[str, Any] | None, at: Located = NOWHERE) -> S:
    """The instance of `cls` from a validated mapping (defaults filled in by the validator;
    keys left out take the field defaults). Nested sections are built too."""
    hints = typing.get_type_hints(cls, include_extras=True)
    kwargs: dict[str, Any] = {}
    given = values or {}
    for item in dataclasses.fields(cls):
        if item.name == "at" or item.name not in given:
            continue
        value = given[item.name]
        nested = _section_type(hints[item.name])
        if _component_list(hints[item.name]) is not None:
            value = tuple(
                component_spec(entry, Located((*at.path, item.name, index), at.config))
                for index, entry in enumerate(value)
            )
        elif nested is not None and isinstance(value, Mapping):
            value = build_section(nested, value, Located((*at.path, item.name), at.config))
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[item.name] = value
    return cls(**kwargs, at=at)


def _component_list(annotation: Any) -> ComponentList | None:
    """The registry list an ``Annotated[tuple[ComponentSpec, ...], ComponentList(...)]``
    field holds (e.g. `train.loggers`), else None."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    return next((m for m in annotation.__metadata__ if isinstance(m, ComponentList)), None)


def _section_type(annotation: Any) -> type[Section] | None:
    members = (
        typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, UnionType)
        else (annotation,)
    )
    for member in members:
        if isinstance(member, type) and issubclass(member, Section):
            return member
    return None


def _plain_type(annotation: Any) -> Any:
    """A nested section's type as the validator sees it: a mapping where the section is
    (``bool | Diagnose | None`` → ``bool | dict | None``: a switch or its settings)."""
    if typing.get_origin(annotation) not in (typing.Union, UnionType):
        return dict
    members = [dict if _section_type(m) else m for m in typing.get_args(annotation)]
    return functools.reduce(operator.or_, members)


def _allows_none(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)
