"""A JSON Schema (draft 2020-12) of the config file, for editor completion and checking.

Point VS Code's YAML extension or PyCharm at the output of `config_json_schema` and users get
completion of section keys, registered component names and their constructor arguments.
The schema comes from the same specs and registries that validation uses, so it cannot
drift from what nnrun accepts.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Sequence
from typing import Any

from nnrun.config.paths import is_plain, to_plain
from nnrun.config.spec import Option
from nnrun.config.validate import ComponentList
from nnrun.registry import Registry

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Component sections: registry key -> (top-level key, a list of components?).
_TOP_LEVEL_COMPONENTS = {
    "loss": ("loss", False),
    "optimizer": ("optimizer", False),
    "schedule": ("schedule", False),
    "metric": ("metrics", True),
}
# Constructor arguments that name another kind of component, e.g. a layer's `activation`.
_ARGUMENT_KINDS = {
    "activation": "activation",
    "init": "initializer",
    "initializer": "initializer",
    "weight_init": "initializer",
    "bias_init": "initializer",
}


def config_json_schema(
    sections: dict[str, dict[str, Option] | Option], registries: dict[str, Registry]
) -> dict[str, Any]:
    """The schema of a config file.

    `sections` are the plain sections (``data``, ``train``: ``dict[str, Option]``) and single
    values (``seed``: an `Option`). `registries` maps kinds to registries: ``loss``,
    ``optimizer``, ``schedule``, ``metric`` become top-level sections; ``layer`` describes
    the entries of ``model.layers`` and ``blocks``; ``activation``/``initializer`` describe
    layer arguments of those names.
    """
    definitions = {
        kind: component_schema(registry, registries, closed=kind != "layer")
        for kind, registry in registries.items()
    }
    properties: dict[str, Any] = {
        "extends": {
            "description": "File(s) this config builds on, relative to this file.",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
        }
    }
    for key, section in sections.items():
        if isinstance(section, Option):
            properties[key] = option_schema(section)
        else:
            properties[key] = section_schema(section)
    for kind, (key, is_list) in _TOP_LEVEL_COMPONENTS.items():
        if kind in registries:
            reference = {"$ref": f"#/$defs/{kind}"}
            properties[key] = {"type": "array", "items": reference} if is_list else reference
    if "layer" in registries:
        layers = {"type": "array", "items": {"$ref": "#/$defs/layer"}}
        # The model's own structure (nodes, repeat, ...) belongs to the builder: stay open.
        properties.setdefault("model", {"type": "object", "properties": {"layers": layers}})
        properties.setdefault(
            "blocks",
            {
                "description": "Named, reusable lists of layers.",
                "type": "object",
                "additionalProperties": True,
            },
        )
    return {
        "$schema": DIALECT,
        "title": "nnrun experiment config",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": definitions,
    }


def section_schema(spec: dict[str, Option]) -> dict[str, Any]:
    """A closed object schema for a plain section; aliases are accepted keys too."""
    properties: dict[str, Any] = {}
    for key, option in spec.items():
        properties[key] = option_schema(option)
        for alias in option.aliases:
            properties[alias] = {**option_schema(option), "description": f"Alias of '{key}'."}
    schema: dict[str, Any] = {
        "type": ["object", "null"],
        "properties": properties,
        "additionalProperties": False,
    }
    for key, option in spec.items():
        if option.required and not option.aliases:
            schema.setdefault("required", []).append(key)
        elif option.required:
            spellings = [key, *option.aliases]
            schema.setdefault("allOf", []).append(
                {"anyOf": [{"required": [spelling]} for spelling in spellings]}
            )
    return schema


def option_schema(option: Option) -> dict[str, Any]:
    """The schema of one option: its type, choices, bounds, default and description."""
    if option.spec is not None:
        schema = section_schema(option.spec)
        if not _allows_none(option.type):
            schema["type"] = ["object"]
        if bool in typing.get_args(option.type):  # a switch or its settings (`diagnose`)
            schema["type"] = [*schema["type"], "boolean"]
    elif isinstance(option.type, ComponentList):
        schema = {"type": "array", "items": component_schema(option.type.registry)}
    else:
        schema = annotation_schema(option.type)
    if option.choices is not None:
        choices = list(option.choices)
        if isinstance(schema.get("items"), dict) and schema.get("type") == "array":
            schema["items"] = {"enum": choices}
        else:
            schema = {"enum": choices + ([None] if _allows_none(option.type) else [])}
    if option.min is not None:
        schema["minimum"] = option.min
    if option.max is not None:
        schema["maximum"] = option.max
    if not option.required and is_plain(option.default):
        schema["default"] = to_plain(option.default)
    if option.doc:
        schema["description"] = option.doc
    return schema


def component_schema(
    registry: Registry, registries: dict[str, Registry] | None = None, closed: bool = True
) -> dict[str, Any]:
    """A registered name (when no argument is required) or ``{type: name, arguments...}``.

    `closed` forbids keys the constructor does not take; layer entries stay open because the
    model builder adds structural keys of its own.
    """
    registries = registries or {}
    shorthand = [name for name in registry.names() if not _required_parameters(registry, name)]
    variants: list[dict[str, Any]] = []
    if shorthand:
        aliases = [alias for name in shorthand for alias in registry.aliases_of(name)]
        variants.append({"type": "string", "enum": shorthand + aliases})
    for name in registry.names():
        properties: dict[str, Any] = {
            "type": {"enum": [name, *registry.aliases_of(name)]},
        }
        takes_any = False
        for key, parameter in registry.parameters(name).items():
            if parameter.kind is parameter.VAR_KEYWORD:
                takes_any = True
                continue
            properties[key] = parameter_schema(key, parameter, registries, registry.kind)
        spellings = {key: [key] for key in properties}
        for alias, target in registry.arg_aliases_of(name).items():
            if target in properties:
                properties[alias] = {**properties[target], "description": f"Alias of '{target}'."}
                spellings[target].append(alias)
        variant: dict[str, Any] = {
            "type": "object",
            "title": f"{registry.kind} {name}",
            "properties": properties,
            "required": ["type"],
        }
        doc = inspect.getdoc(registry.get(name))
        if doc:  # what the component does and takes, e.g. attention's query/key/value order
            variant["description"] = doc
        # A required argument may be given under any of its spellings (`lr` or `learning_rate`).
        for key in _required_parameters(registry, name):
            if len(spellings[key]) == 1:
                variant["required"].append(key)
            else:
                variant.setdefault("allOf", []).append(
                    {"anyOf": [{"required": [spelling]} for spelling in spellings[key]]}
                )
        if closed and not takes_any:
            variant["additionalProperties"] = False
        variants.append(variant)
    return {
        "description": f"One {registry.kind}: a name, or a mapping with 'type' and arguments.",
        "anyOf": variants,
    }


def parameter_schema(
    key: str, parameter: inspect.Parameter, registries: dict[str, Registry], owner_kind: str
) -> dict[str, Any]:
    """A constructor argument's schema from its type hint and default."""
    kind = _ARGUMENT_KINDS.get(key)
    if kind in registries and kind != owner_kind:
        schema: dict[str, Any] = {"$ref": f"#/$defs/{kind}"}
        if _allows_none(parameter.annotation):
            schema = {"anyOf": [schema, {"type": "null"}]}
    else:
        schema = annotation_schema(parameter.annotation)
    if parameter.default is not parameter.empty and is_plain(parameter.default):
        schema["default"] = to_plain(parameter.default)
    return schema


def annotation_schema(annotation: Any) -> dict[str, Any]:
    """JSON Schema for a type hint: ``int`` → integer, ``float | None`` → number or null, ..."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [annotation_schema(arg) for arg in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is tuple and args and args[-1] is not Ellipsis:
        return {
            "type": "array",
            "prefixItems": [annotation_schema(arg) for arg in args],
            "items": False,
            "minItems": len(args),
        }
    if origin in (list, tuple, Sequence, typing.Sequence):
        return {"type": "array", "items": annotation_schema(args[0]) if args else {}}
    simple = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        type(None): "null",
        dict: "object",
        list: "array",
        tuple: "array",
    }
    target = origin if origin is dict else annotation
    return {"type": simple[target]} if target in simple else {}


def _required_parameters(registry: Registry, name: str) -> list[str]:
    return [
        key
        for key, p in registry.parameters(name).items()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _allows_none(annotation: Any) -> bool:
    if annotation is type(None) or annotation is None:
        return True
    return type(None) in typing.get_args(annotation)
