"""A JSON Schema (draft 2020-12) of config files, for editors and `check-jsonschema`.

Generated from the declarations validation reads — section `Option`s, registered components'
signatures, their constraints (`nnrun.constraints`) — so it cannot drift from what nnrun
accepts. Shapes that matter to real clients:

- a component (``loss``, an optimizer, a layer, an activation, ...) is a name or a mapping
  whose ``type`` picks that component's own definition (``if``/``then`` per name), so an
  editor reports a wrong argument against the right component;
- ``${...}`` references are accepted wherever a value can be written;
- nothing is required at the top level, so partial configs used through ``extends``
  validate too. Block names are the user's: layer types outside the registry are accepted
  only in files that declare (or may inherit) ``blocks``.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from nnrun.config.paths import is_plain, to_plain
from nnrun.config.spec import Option
from nnrun.config.validate import ComponentList
from nnrun.constraints import split
from nnrun.registry import ARGUMENT_KINDS, Registry

DIALECT = "https://json-schema.org/draft/2020-12/schema"
REF = {"$ref": "#/$defs/reference"}
REFERENCE = {
    "description": "A ${...} reference: a block parameter, ${dataset.num_classes}, ...",
    "type": "string",
    "pattern": r"^.*\$\{[^}]+\}.*$",
}
# Keys the model builder reads on a layer entry besides the layer's own arguments.
ENTRY_KEYS: dict[str, Any] = {
    "repeat": {
        "if": REF,
        "else": {"type": "integer", "minimum": 1},
        "description": "stack this many independent copies",
    },
    "in": {
        "description": "graph form: the node(s) this node reads",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "string"}},
        ],
    },
    "share": {"type": "string", "description": "graph form: reuse another node's weights"},
}


def config_json_schema(sections: dict[str, Any], registries: Iterable[Registry]) -> dict[str, Any]:
    """The schema of an experiment config.

    `sections` is the top-level layout validation uses (`nnrun.experiment.SECTIONS`): an
    `Option` (a single value), a ``dict[str, Option]`` (a plain section), a `Registry` (one
    component), a ``ComponentList`` (a list of components) or None for ``model``/``blocks``.
    `registries` are every component kind, found by their ``kind`` (``layer``,
    ``activation``, ``initializer``, ...).
    """
    by_kind = {registry.kind: registry for registry in registries}
    definitions: dict[str, Any] = {"reference": REFERENCE}
    for registry in by_kind.values():
        definitions.update(component_definitions(registry, by_kind))
    layer_entries = "layer" in by_kind
    if layer_entries:
        definitions["layer_entry"] = layer_entry_schema(by_kind["layer"], strict=True)
        definitions["layer_or_block"] = layer_entry_schema(by_kind["layer"], strict=False)
        definitions["layer.sequential"] = _sequential(strict=True)
        definitions["layer_or_block.sequential"] = _sequential(strict=False)
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
        elif isinstance(section, dict):
            properties[key] = section_schema(section)
        elif isinstance(section, Registry):
            properties[key] = {"$ref": f"#/$defs/{section.kind}"}
        elif section is not None:  # a list of components
            properties[key] = {
                "type": "array",
                "items": {"$ref": f"#/$defs/{section.registry.kind}"},
            }
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": "nnrun experiment config",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": definitions,
    }
    if layer_entries:
        properties["blocks"] = {
            "description": "Named, reusable layer lists or graphs, used as layer types.",
            "type": "object",
            "additionalProperties": block_schema(),
        }
        # Block names are the user's own: where blocks exist (here or in a file this one
        # extends), a layer type outside the registry may be one of them.
        properties["model"] = {"description": "The model: layers (a chain) or a graph."}
        schema["if"] = {"anyOf": [{"required": ["blocks"]}, {"required": ["extends"]}]}
        schema["then"] = {"properties": {"model": model_schema("layer_or_block")}}
        schema["else"] = {"properties": {"model": model_schema("layer_entry")}}
    return schema


def sweep_json_schema(spec: dict[str, Option]) -> dict[str, Any]:
    """The schema of a sweep file (its keys are a plain section)."""
    schema = section_schema(spec)
    schema["type"] = "object"
    return {
        "$schema": DIALECT,
        "title": "nnrun sweep file",
        **schema,
        "$defs": {"reference": REFERENCE},
    }


def model_schema(entry: str) -> dict[str, Any]:
    """``model:``: a list of layers, or a mapping in list or graph form."""
    layers = {"type": "array", "items": {"$ref": f"#/$defs/{entry}"}, "minItems": 1}
    init_from = {
        "type": "object",
        "properties": {
            "checkpoint": {"type": "string"},
            "prefix": {"type": "string"},
            "rename": {"type": "object", "additionalProperties": {"type": "string"}},
            "freeze": {"type": "array", "items": {"type": "string"}},
            "strict": {"type": "boolean"},
        },
        "required": ["checkpoint"],
        "additionalProperties": False,
    }
    return {
        "description": "The model: layers (a chain) or inputs/nodes/output (a graph).",
        "if": {"type": "array"},
        "then": layers,
        "else": {
            "type": "object",
            "properties": {
                "layers": layers,
                "inputs": _names(),
                "nodes": {"type": "object", "additionalProperties": graph_node(entry)},
                "output": _names(),
                "init_from": {
                    "description": "pre-trained weights: a checkpoint path or a mapping",
                    "if": {"type": "string"},
                    "else": init_from,
                },
            },
            "additionalProperties": False,
        },
    }


def graph_node(entry: str) -> dict[str, Any]:
    """A node of the graph form: a layer entry, or ``{share: <node>, in: ...}``."""
    return {
        "if": {"type": "object", "required": ["share"], "not": {"required": ["type"]}},
        "then": {
            "properties": {"share": ENTRY_KEYS["share"], "in": ENTRY_KEYS["in"]},
            "additionalProperties": False,
        },
        "else": {"$ref": f"#/$defs/{entry}"},
    }


def block_schema() -> dict[str, Any]:
    """One entry of ``blocks:``: parameters plus a list or graph body."""
    entry = {"$ref": "#/$defs/layer_or_block"}
    return {
        "type": "object",
        "properties": {
            "params": {"type": ["object", "null"], "description": "null = required when used"},
            "layers": {"type": "array", "items": entry, "minItems": 1},
            "inputs": _names(),
            "nodes": {"type": "object", "additionalProperties": graph_node("layer_or_block")},
            "output": _names(),
        },
        "additionalProperties": False,
    }


def layer_entry_schema(registry: Registry, strict: bool) -> dict[str, Any]:
    """An entry of ``layers:`` or ``nodes:``: a layer name or ``{type: ..., args...}``.

    `strict`: only registered layer types; otherwise other names may be blocks."""
    names = [*registry.all_names(), "sequential"]
    prefix = "layer" if strict else "layer_or_block"
    by_type = [
        {
            "if": _type_is([name, *registry.aliases_of(name)]),
            "then": {"$ref": f"#/$defs/{registry.kind}.{name}"},
        }
        for name in registry.names()
    ]
    by_type.append(
        {"if": _type_is(["sequential"]), "then": {"$ref": f"#/$defs/{prefix}.sequential"}}
    )
    shorthand = [n for n in registry.all_names() if not _required_parameters(registry, n)]
    return {
        "description": f"A {registry.kind}: a name, or a mapping with 'type' and arguments.",
        "if": {"type": "string"},
        "then": or_reference({"enum": shorthand}) if strict else {"type": "string"},
        "else": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": names} if strict else {"type": "string"}},
            "allOf": by_type,
        },
    }


def _sequential(strict: bool) -> dict[str, Any]:
    entry = "layer_entry" if strict else "layer_or_block"
    return {
        "type": "object",
        "title": "layer sequential",
        "properties": {
            "type": {"const": "sequential"},
            "layers": {"type": "array", "items": {"$ref": f"#/$defs/{entry}"}, "minItems": 1},
            **ENTRY_KEYS,
        },
        "required": ["type", "layers"],
        "additionalProperties": False,
    }


def component_definitions(registry: Registry, registries: dict[str, Registry]) -> dict[str, Any]:
    """``$defs`` for one kind: the kind itself (``loss``) and one per component
    (``loss.cross_entropy``) holding that component's arguments."""
    kind = registry.kind
    definitions: dict[str, Any] = {}
    for name in registry.names():
        definitions[f"{kind}.{name}"] = variant_schema(registry, name, registries)
    if kind != "layer":
        shorthand = [n for n in registry.all_names() if not _required_parameters(registry, n)]
        definitions[kind] = {
            "description": f"A {kind}: a name, or a mapping with 'type' and arguments.",
            "if": {"type": "string"},
            "then": or_reference({"enum": shorthand}),
            "else": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": registry.all_names()}},
                "allOf": [
                    {
                        "if": _type_is([name, *registry.aliases_of(name)]),
                        "then": {"$ref": f"#/$defs/{kind}.{name}"},
                    }
                    for name in registry.names()
                ],
            },
        }
    return definitions


def variant_schema(
    registry: Registry, name: str, registries: dict[str, Registry]
) -> dict[str, Any]:
    """``{type: name, arguments...}`` of one component, closed to unknown arguments."""
    properties: dict[str, Any] = {"type": {"enum": [name, *registry.aliases_of(name)]}}
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
    if registry.kind == "layer":
        properties.update(ENTRY_KEYS)
    if registry.kind == "metric":
        properties["name"] = {"type": "string", "description": "report the result under this key"}
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
    if not takes_any:
        variant["additionalProperties"] = False
    return variant


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
    """The schema of one option: its type with constraints, default and description."""
    if option.spec is not None:
        schema = section_schema(option.spec)
        if not _allows_none(option.type):
            schema["type"] = ["object"]
        if bool in typing.get_args(option.type):  # a switch or its settings (`diagnose`)
            schema["type"] = [*schema["type"], "boolean"]
    elif isinstance(option.type, ComponentList):
        schema = {"type": "array", "items": {"$ref": f"#/$defs/{option.type.registry.kind}"}}
    else:
        schema = annotation_schema(option.type)
    if not option.required and is_plain(option.default):
        schema["default"] = to_plain(option.default)
    if option.doc:
        schema["description"] = option.doc
    return schema


def parameter_schema(
    key: str, parameter: inspect.Parameter, registries: dict[str, Registry], owner_kind: str
) -> dict[str, Any]:
    """A constructor argument's schema from its type hint and default."""
    kind = ARGUMENT_KINDS.get(key)
    if kind in registries and kind != owner_kind:
        schema: dict[str, Any] = {"$ref": f"#/$defs/{kind}"}
        if _allows_none(parameter.annotation):
            schema = {"if": {"type": "null"}, "else": schema}
    else:
        schema = annotation_schema(parameter.annotation)
    if parameter.default is not parameter.empty and is_plain(parameter.default):
        schema["default"] = to_plain(parameter.default)
    return schema


def annotation_schema(annotation: Any) -> dict[str, Any]:
    """JSON Schema for a type hint with its constraints: ``Annotated[int, Min(1)]`` →
    an integer >= 1 (or a ``${...}`` reference), ``float | None`` → number or null, ..."""
    return or_reference(_bare_schema(annotation))


def or_reference(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or a ``${...}`` reference. (``if``/``else`` rather than ``anyOf`` keeps the
    error messages those of `schema`.)"""
    if not schema or schema.get("type") == "string":
        return schema
    return {"if": REF, "else": schema}


def _bare_schema(annotation: Any) -> dict[str, Any]:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    annotation, ranges = split(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [_bare_schema(arg) for arg in args]
        return {} if {} in members else {"anyOf": members}
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
    schema: dict[str, Any] = {"type": simple[target]} if target in simple else {}
    for constraint in ranges:
        schema.update(constraint.schema())
    return schema


def _type_is(names: list[str]) -> dict[str, Any]:
    return {"properties": {"type": {"enum": names}}, "required": ["type"]}


def _names() -> dict[str, Any]:
    return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


def _required_parameters(registry: Registry, name: str) -> list[str]:
    return [
        key
        for key, p in registry.parameters(name).items()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _allows_none(annotation: Any) -> bool:
    if annotation is type(None) or annotation is None:
        return True
    return type(None) in typing.get_args(split(annotation)[0])
