"""Checking config sections against their declarations, collecting every problem.

Plain sections (``data``, ``train``, ...) are declared as ``dict[str, Option]``; component
references (``loss: cross_entropy`` or ``optimizer: {type: adam, lr: 1e-3}``) are checked
against a `Registry`. Nothing stops at the first mistake: each function returns all the
`Problem`s it found, each with the file:line:column and key path it is about, and
`validate_top_level` raises them together in one `ConfigError`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from types import UnionType
from typing import Any

from nnrun.config.paths import (
    KeyPath,
    describe,
    did_you_mean,
    format_path,
    is_plain,
    to_plain,
)
from nnrun.config.resolve import ResolvedConfig
from nnrun.config.spec import Option
from nnrun.errors import ArgumentError, ConfigError, Problem
from nnrun.registry import Registry, check_type, type_name

__all__ = [
    "ComponentList",
    "format_path",
    "validate_component",
    "validate_option",
    "validate_section",
    "validate_top_level",
]


@dataclass(frozen=True)
class ComponentList:
    """A section that is a list of components of one registry (e.g. ``metrics``)."""

    registry: Registry


Section = dict[str, Option] | Option | Registry | ComponentList | None
"""How `validate_top_level` checks one top-level key: a plain section spec, a single value,
a component, a list of components, or ``None`` (checked elsewhere, e.g. ``model``)."""


def validate_section(
    value: Any, spec: dict[str, Option], path: KeyPath, cfg: ResolvedConfig
) -> tuple[dict[str, Any], list[Problem]]:
    """Check a mapping against `spec`; fill defaults; rename aliases to canonical keys.

    Returns the normalized mapping (known keys only, ints widened to float where a float is
    declared) and every problem found. An empty value (``train:``) counts as ``{}``.
    """
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return {}, [
            Problem(
                "must be a mapping",
                path=format_path(path),
                location=cfg.where(path),
                expected="a mapping with keys " + ", ".join(spec) if spec else "a mapping",
                found=describe(value),
            )
        ]
    alias_of = {alias: key for key, option in spec.items() for alias in option.aliases}
    problems: list[Problem] = []
    given: dict[str, str] = {}  # canonical key -> key as written
    for written in value:
        key = written if written in spec else alias_of.get(written)
        here = (*path, written)
        if key is None:
            problems.append(
                Problem(
                    f"unknown key {written!r}{did_you_mean(str(written), [*spec, *alias_of])}",
                    path=format_path(here),
                    location=cfg.where_key(here),
                    expected="one of " + ", ".join(spec) if spec else "no keys",
                    found=repr(written),
                )
            )
        elif key in given:
            problems.append(
                Problem(
                    f"{key!r} is given twice (as {given[key]!r} and {written!r})",
                    path=format_path(here),
                    location=cfg.where_key(here),
                    expected="only one of " + ", ".join(repr(k) for k in (key, *spec[key].aliases)),
                )
            )
        else:
            given[key] = written
    result: dict[str, Any] = {}
    for key, option in spec.items():
        here = (*path, key)
        if key in given:
            result[key], found = validate_option(
                value[given[key]], option, (*path, given[key]), cfg
            )
            problems.extend(found)
        elif option.required:
            problems.append(
                Problem(
                    f"missing required key {key!r}" + (f" ({option.doc})" if option.doc else ""),
                    path=format_path(here),
                    location=cfg.where_key(path),
                    expected=_expectation(option),
                    found="nothing",
                )
            )
        elif option.spec is not None and not _accepts(None, option.type):
            # A sub-section that cannot be null was left out: fill in all of its defaults.
            result[key], found = validate_section({}, option.spec, here, cfg)
            problems.extend(found)
        else:
            result[key] = to_plain(option.default)
            cfg.record_default(here)
    return result, problems


def validate_option(
    value: Any, option: Option, path: KeyPath, cfg: ResolvedConfig
) -> tuple[Any, list[Problem]]:
    """Check one value against its `Option` (type, nested spec, choices, range)."""
    if isinstance(option.type, ComponentList):
        return _validate_entry(value, option.type, path, cfg)
    if option.spec is not None and (
        isinstance(value, dict) or (value is None and not _accepts(None, option.type))
    ):
        return validate_section(value, option.spec, path, cfg)

    def problem(message: str, found: str = describe(value)) -> list[Problem]:
        return [
            Problem(
                message,
                path=format_path(path),
                location=cfg.where(path),
                expected=_expectation(option),
                found=found,
            )
        ]

    if not _accepts(value, option.type):
        return value, problem("wrong type")
    if option.choices is not None:
        items = value if isinstance(value, list) else [value]
        bad = [item for item in items if item is not None and item not in option.choices]
        if bad:
            names = [c for c in option.choices if isinstance(c, str)]
            hint = did_you_mean(bad[0], names) if isinstance(bad[0], str) else ""
            return value, problem(f"not an allowed value{hint}", found=describe(bad[0]))
    if _is_number(value) and (
        (option.min is not None and value < option.min)
        or (option.max is not None and value > option.max)
    ):
        return value, problem("value out of range", found=repr(value))
    if _is_number(value) and _widens_int(option.type):
        value = float(value)
    return value, []


def validate_component(
    value: Any, registry: Registry, path: KeyPath, cfg: ResolvedConfig
) -> tuple[str, dict[str, Any], list[Problem]]:
    """Check a component reference: ``name`` or ``{type: name, arg: value, ...}``.

    Returns the registered (canonical) name, the arguments with aliases renamed, and every
    problem: an unknown name (with the nearest registered names), unknown or mistyped
    arguments (each pointing at its own key), missing required arguments.
    """
    kind = registry.kind
    if isinstance(value, str):
        name, args, name_path = value, {}, path
    elif isinstance(value, dict) and "type" in value:
        name, name_path = value["type"], (*path, "type")
        args = {key: item for key, item in value.items() if key != "type"}
    else:
        shown = ", ".join(registry.names()[:12])
        problem = Problem(
            f"a {kind} needs a 'type'" if isinstance(value, dict) else f"expected a {kind}",
            path=format_path(path),
            location=cfg.where(path),
            expected=f"a {kind} name or a mapping with 'type' (registered: {shown or 'none'})",
            found=describe(value) if not isinstance(value, dict) else "a mapping without 'type'",
        )
        return "", {}, [problem]
    if not isinstance(name, str):
        return (
            "",
            {},
            [
                Problem(
                    f"the {kind} type must be a name",
                    path=format_path(name_path),
                    location=cfg.where(name_path),
                    expected=f"a registered {kind} name",
                    found=describe(name),
                )
            ],
        )
    try:
        canonical = registry.canonical(name)
    except ArgumentError as err:
        names = registry.names()
        if not names:
            err.expected = f"a {kind} (none are registered)"
        elif len(names) <= 20:
            err.expected = "one of " + ", ".join(names)
        else:  # a long list buries the suggestion; `nnrun schema` has them all
            err.expected = f"one of the {len(names)} registered {kind} types (nnrun schema)"
        return name, {}, [_argument_problem(err, name_path, cfg.where(name_path))]
    params = registry.parameters(canonical)
    remaining = dict(args)
    problems: list[Problem] = []
    # normalize_args stops at the first bad argument: drop it and retry to report them all.
    while True:
        try:
            return canonical, registry.normalize_args(canonical, remaining), problems
        except ArgumentError as err:
            if err.key not in remaining:  # a required argument is missing
                if err.key not in args:  # (not one already reported as mistyped)
                    problems.append(_argument_problem(err, (*path, err.key), cfg.where(path)))
                return canonical, {}, problems
            here = (*path, err.key)
            location = cfg.where(here) if err.key in params else cfg.where_key(here)
            problems.append(_argument_problem(err, here, location))
            del remaining[err.key]


def validate_top_level(
    cfg: ResolvedConfig, sections: dict[str, Section], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Validate a whole config; raise one `ConfigError` listing every problem.

    `sections` says how each top-level key is checked (see `Section`); keys not in it are
    reported as unknown, with suggestions. Returns the normalized config, which also becomes
    `cfg.data` (with defaults filled in and recorded for `cfg.explain()`).
    """
    data = cfg.data
    problems: list[Problem] = []
    result: dict[str, Any] = {}
    for key in data:
        if key not in sections:
            problems.append(
                Problem(
                    f"unknown section {key!r}{did_you_mean(str(key), sections)}",
                    path=format_path((key,)),
                    location=cfg.where_key((key,)),
                    expected="one of " + ", ".join(sections),
                    found=repr(key),
                )
            )
    for key, section in sections.items():
        if key not in data:
            if key in required:
                problems.append(
                    Problem(
                        f"missing required section {key!r}",
                        path=key,
                        location=cfg.where(()),
                        expected=f"a top-level '{key}:' section",
                        found="nothing",
                    )
                )
                continue
            cfg.record_default((key,))
            if isinstance(section, Option):
                filled, found = validate_section({}, {key: section}, (), cfg)
                result[key] = filled.get(key)
                problems.extend(found)
            elif isinstance(section, dict):
                result[key], found = validate_section({}, section, (key,), cfg)
                problems.extend(found)
            continue
        result[key], found = _validate_entry(data[key], section, (key,), cfg)
        problems.extend(found)
    if problems:
        raise ConfigError(sorted(problems, key=problem_position))
    ordered = {key: result[key] for key in data if key in result}
    ordered.update(result)
    cfg.data = ordered
    return ordered


def _validate_entry(
    value: Any, section: Section, path: KeyPath, cfg: ResolvedConfig
) -> tuple[Any, list[Problem]]:
    if section is None:
        return value, []
    if isinstance(section, Option):
        return validate_option(value, section, path, cfg)
    if isinstance(section, dict):
        return validate_section(value, section, path, cfg)
    if isinstance(section, Registry):
        return _normalized_component(value, section, path, cfg)
    if not isinstance(value, list):
        return value, [
            Problem(
                "must be a list",
                path=format_path(path),
                location=cfg.where(path),
                expected=f"a list of {section.registry.kind}s",
                found=describe(value),
            )
        ]
    items, problems = [], []
    for index, item in enumerate(value):
        normalized, found = _normalized_component(item, section.registry, (*path, index), cfg)
        items.append(normalized)
        problems.extend(found)
    return items, problems


def _normalized_component(
    value: Any, registry: Registry, path: KeyPath, cfg: ResolvedConfig
) -> tuple[dict[str, Any], list[Problem]]:
    """``{type: canonical, **arguments}`` with plain-valued constructor defaults filled in."""
    name, kwargs, problems = validate_component(value, registry, path, cfg)
    if problems:
        return {}, problems
    result = {"type": name, **kwargs}
    for key, parameter in registry.parameters(name).items():
        if key in kwargs and _is_number(kwargs[key]) and _widens_int(parameter.annotation):
            result[key] = float(kwargs[key])
        elif key not in result and is_plain(parameter.default):
            result[key] = to_plain(parameter.default)
            cfg.record_default((*path, key))
    return result, []


def problem_position(problem: Problem) -> tuple[str, int, int]:
    """Sort key putting problems in file order (those without a location first)."""
    location = problem.location
    return (location.file, location.line, location.column) if location else ("", 0, 0)


def _argument_problem(err: ArgumentError, path: KeyPath, location: Any) -> Problem:
    message = str(err)
    # ArgumentError messages often already say what was expected and found; don't repeat it.
    return Problem(
        message,
        path=format_path(path),
        location=location,
        expected="" if err.expected.removeprefix("one of ") in message else err.expected,
        found="" if err.found and err.found in message else err.found,
    )


def _accepts(value: Any, annotation: Any) -> bool:
    try:
        check_type(value, annotation, "", "")
    except ArgumentError:
        return False
    return True


def _widens_int(annotation: Any) -> bool:
    """Whether an int given for `annotation` should become a float (``float``, ``float | None``)."""
    is_union = typing.get_origin(annotation) in (typing.Union, UnionType)
    members = typing.get_args(annotation) if is_union else (annotation,)
    return float in members and int not in members


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expectation(option: Option) -> str:
    """What a value must look like, compactly: ``int >= 1``, ``float in [0, 1]``, ``one of ...``."""
    if option.choices is not None:
        return "one of " + ", ".join(repr(c) for c in option.choices)
    if option.spec is not None:
        return "a mapping with keys " + ", ".join(option.spec)
    text = type_name(option.type)
    if option.min is not None and option.max is not None:
        return f"{text} in [{option.min:g}, {option.max:g}]"
    if option.min is not None:
        return f"{text} >= {option.min:g}"
    if option.max is not None:
        return f"{text} <= {option.max:g}"
    return text
