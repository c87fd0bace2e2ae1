"""YAML text → plain Python data plus the file:line:column of every key and value.

Built on PyYAML's composer (SafeLoader): nodes keep their marks, which we turn into 1-based
`Location`s keyed by path. Only plain data comes out (dict/list/str/int/float/bool/None);
mapping keys are kept as their literal text (``on:`` stays ``"on"``, ``1:`` becomes ``"1"``),
duplicate keys are an error, and the tag ``!delete`` marks an inherited key for removal.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from nnrun.config.paths import KeyPath, Located, format_path
from nnrun.errors import ConfigError, Location, NnrunError, Problem
from nnrun.limits import MAX_CONFIG_BYTES, MAX_NESTING, read_bounded

DELETE_TAG = "!delete"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_PLAIN_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")
}
# Dates stay the text the user wrote: a config value is never a datetime.
_TEXT_SCALAR_TAGS = {"tag:yaml.org,2002:timestamp"}
# Alias expansion can blow a small file up exponentially ("billion laughs").
_MAX_NODES = 200_000
_LARGEST_FLOAT = sys.float_info.max


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 exponent floats: ``1e-3`` is a float, not text."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes strings `_Loader` would read as floats (``'1e-3'``)."""


for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )


def dump_yaml(data: Any) -> str:
    """Plain data as block-style YAML text that `parse_text` reads back to equal data.

    Non-ASCII is written as escapes: PyYAML's allow_unicode mangles line separators such as
    U+0085, and a saved config must read back exactly.
    """
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


class _Delete:
    """The value of a key tagged ``!delete``: removes that key from what it extends."""

    def __repr__(self) -> str:
        return "!delete"


DELETE = _Delete()


def contains_delete(value: Any) -> bool:
    """Whether a `!delete` marker occurs anywhere in `value`."""
    if isinstance(value, dict):
        return any(item is DELETE or contains_delete(item) for item in value.values())
    return value is DELETE


def load_file(path: str | Path) -> Located:
    """Read and parse one YAML file; locations name the file as given in `path`."""
    file = str(path)
    try:
        raw = read_bounded(Path(path), MAX_CONFIG_BYTES, "config file")
    except FileNotFoundError:
        raise ConfigError(
            Problem("config file not found", expected="an existing YAML file", found=file)
        ) from None
    except OSError as err:
        raise ConfigError(Problem(f"cannot read config file {file}: {err.strerror}")) from None
    except NnrunError as err:
        raise ConfigError(Problem(str(err), location=Location(file))) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(
            Problem(
                f"{file}: not UTF-8 text",
                expected="a UTF-8 encoded YAML file",
                found=f"byte 0x{raw[err.start]:02x} at offset {err.start}",
            )
        ) from None
    return parse_text(text, file)


def parse_text(text: str, file: str) -> Located:
    """Parse YAML `text`; `file` is the name used in locations. Empty text gives ``None``."""
    try:
        return _parse(text, file)
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_yaml_problem(err, file)) from None
    except yaml.YAMLError as err:
        raise ConfigError(_reader_problem(err, text, file)) from None
    except RecursionError:
        raise ConfigError(
            Problem("invalid YAML: nested too deeply", location=Location(file))
        ) from None


def _parse(text: str, file: str) -> Located:
    loader = _Loader(text)  # checks the characters first: may raise a ReaderError
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {}, {(): Location(file, 1, 1)})
        return _TreeBuilder(loader, file).build(node)
    finally:
        loader.dispose()


def _yaml_problem(err: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = err.problem_mark or err.context_mark
    location = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
    message = f"invalid YAML: {err.problem or err.context}"
    if err.context and err.problem and err.context_mark:
        message += f" ({err.context} at line {err.context_mark.line + 1})"
    return Problem(message, location=location)


def _reader_problem(err: yaml.YAMLError, text: str, file: str) -> Problem:
    position = getattr(err, "position", None)
    if position is None:
        return Problem(f"invalid YAML: {err}", location=Location(file))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = getattr(err, "character", "")
    return Problem(
        "invalid YAML: character not allowed in YAML text",
        location=Location(file, line, column),
        found=f"{character!r}" if character != "" else "",
    )


class _TreeBuilder:
    """Walks a composed node graph once, producing plain data and the location tables."""

    def __init__(self, loader: _Loader, file: str):
        self.loader = loader
        self.file = file
        self.out = Located(None)
        self._active: set[int] = set()
        self._count = 0

    def build(self, node: Node) -> Located:
        self.out.data = self._value(node, (), in_list=False)
        if self.out.data is DELETE:
            raise self._error(node, "!delete can only remove a key, not a whole document")
        return self.out

    def _location(self, node: Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def _error(self, node: Node, message: str, path: KeyPath = (), **extra: str) -> ConfigError:
        return ConfigError(
            Problem(message, path=format_path(path), location=self._location(node), **extra)
        )

    def _value(self, node: Node, path: KeyPath, in_list: bool) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            raise self._error(node, f"config too large (over {_MAX_NODES} values after aliases)")
        if len(path) > MAX_NESTING:
            raise self._error(node, f"nested too deeply (over {MAX_NESTING} levels)")
        self.out.values[path] = self._location(node)
        if node.tag == DELETE_TAG:
            return self._delete_marker(node, path, in_list)
        if id(node) in self._active:
            raise self._error(node, "an alias refers to a value that contains it", path)
        self._active.add(id(node))
        try:
            if isinstance(node, ScalarNode):
                return self._scalar(node, path)
            if isinstance(node, SequenceNode):
                self._check_tag(node, _SEQ_TAG, path)
                return [self._value(item, (*path, i), True) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode), "YAML composes scalars, sequences, mappings"
            self._check_tag(node, _MAP_TAG, path)
            result = {}
            for key_node, value_node in self._pairs(node, path):
                key = key_node.value
                self.out.keys[(*path, key)] = self._location(key_node)
                result[key] = self._value(value_node, (*path, key), in_list)
            return result
        finally:
            self._active.discard(id(node))

    def _delete_marker(self, node: Node, path: KeyPath, in_list: bool) -> _Delete:
        if in_list or not path:
            raise self._error(
                node, "!delete can only remove a key of a mapping (lists are replaced whole)", path
            )
        if not isinstance(node, ScalarNode) or node.value != "":
            raise self._error(node, "!delete takes no value", path, expected="'key: !delete'")
        return DELETE

    def _check_tag(self, node: Node, tag: str, path: KeyPath) -> None:
        if node.tag != tag:
            raise self._error(
                node, f"unsupported YAML tag {_short(node.tag)}", path, expected="plain YAML data"
            )

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        if node.tag in _TEXT_SCALAR_TAGS:
            return node.value
        if node.tag not in _PLAIN_SCALAR_TAGS:
            raise self._error(
                node,
                f"unsupported YAML tag {_short(node.tag)}",
                path,
                expected="a string, number, boolean or null",
            )
        try:
            value = self.loader.construct_object(node)
        except ValueError as err:  # e.g. an integer with more digits than Python accepts
            raise self._error(node, f"invalid number: {err}", path) from None
        if isinstance(value, str) and "\0" in value:  # no name, path or option holds NUL
            raise self._error(node, 'a NUL character ("\\0") in a value', path)
        if isinstance(value, int) and abs(value) > _LARGEST_FLOAT:  # 10**400: not a setting
            raise self._error(node, "number too large", path, expected="at most ±1.8e308")
        return value

    def _pairs(self, node: MappingNode, path: KeyPath) -> list[tuple[ScalarNode, Node]]:
        """The key/value nodes of a mapping with YAML merge keys (``<<: *base``) applied.

        Own keys win over merged ones, earlier merge sources over later; a key written twice
        in the same mapping is an error.
        """
        own: dict[str, tuple[ScalarNode, Node]] = {}
        inherited: list[tuple[ScalarNode, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                inherited.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
                raise self._error(key_node, "a mapping key must be plain text", path)
            key = key_node.value
            if key in own:
                first = self._location(own[key][0])
                raise self._error(
                    key_node,
                    f"duplicate key {key!r} (first given at line {first.line})",
                    (*path, key),
                    expected="each key once per mapping",
                )
            own[key] = (key_node, value_node)
        pairs = list(own.values())
        for key_node, value_node in inherited:
            if isinstance(key_node, ScalarNode) and key_node.value not in own:
                own[key_node.value] = (key_node, value_node)
                pairs.append((key_node, value_node))
        return pairs

    def _merge_sources(self, node: Node, path: KeyPath) -> list[tuple[ScalarNode, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise self._error(source, "'<<' must name a mapping", path, expected="<<: *anchor")
            if id(source) in self._active:
                raise self._error(source, "'<<' merges a mapping into itself", path)
            self._active.add(id(source))
            try:
                pairs.extend(self._pairs(source, path))
            finally:
                self._active.discard(id(source))
        return pairs


def _short(tag: str) -> str:
    """``tag:yaml.org,2002:binary`` → ``!!binary``, as the user wrote it."""
    return tag.replace("tag:yaml.org,2002:", "!!", 1)
