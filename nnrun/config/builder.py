"""The model builder, in two steps: *parse* a `model:` section (list form, graph form,
blocks) into a `ModelPlan`, then *instantiate* the plan into a Module graph.

Parsing finds every structural problem at once, each at its YAML line: names, references,
cycles, unused nodes, `share` (to a node with a layer of its own), blocks (unknown, named
like a layer, using themselves), and every layer's arguments against the registry's
signatures — without constructing a layer. Instantiation, once the data's properties are
known (``${dataset.num_classes}``), builds each layer exactly once, in a fixed order, so a
seeded run initializes the same weights.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nnrun.config.expressions import expression_inputs, inside_string
from nnrun.config.paths import KeyPath, describe, format_path
from nnrun.config.resolve import ResolvedConfig
from nnrun.config.validate import validate_component
from nnrun.errors import ArgumentError, ConfigError, Problem
from nnrun.nn.container import Sequential
from nnrun.nn.expression import ExpressionError, parse_expression
from nnrun.nn.model import GraphModel, Node, SequentialModel
from nnrun.nn.module import Module
from nnrun.nn.tensor_nodes import is_nullary
from nnrun.registry import LAYERS, argument_registry, suggest

BUILDER_KEYS = ("in", "repeat", "share", "layers")
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAM_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
# Data properties a layer option may refer to as ${dataset.<key>}, e.g. an embedding's
# `num_embeddings: ${dataset.vocab_size}` or the output layer's `units: ${dataset.num_classes}`.
DATASET_KEYS = ("num_classes", "vocab_size", "num_features", "output_size")
MODEL_KEYS = ("layers", "inputs", "nodes", "output", "init_from")


@dataclass
class GraphView:
    """What `nnrun graph` draws: nodes (name, type, config path), edges (from, to) and the
    output nodes. A block's module carries the view of its own body as `block_view`."""

    nodes: list[tuple[str, str, str]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LayerPlan:
    """One registered layer: its canonical type and arguments (``${dataset.*}`` unresolved)."""

    type: str
    args: dict[str, Any]
    path: KeyPath


@dataclass(frozen=True)
class RepeatPlan:
    """`count` independent copies of one entry, in a Sequential."""

    body: Plan
    count: int


@dataclass(frozen=True)
class ChainPlan:
    """The list form: entries applied in order (a block's `type_name` is its name)."""

    entries: tuple[Plan, ...]
    paths: tuple[KeyPath, ...]
    type_name: str | None = None
    view: GraphView | None = field(default=None, compare=False)  # a block's own nodes


@dataclass(frozen=True)
class NodePlan:
    """A graph node: what it reads, and its own layer or the node whose layer it shares."""

    name: str
    inputs: list[str] | dict[str, str]
    path: KeyPath
    layer: Plan | None
    share: str | None = None


@dataclass(frozen=True)
class GraphPlan:
    """The graph form: inputs, nodes in topological order, outputs."""

    inputs: tuple[str, ...]
    nodes: tuple[NodePlan, ...]
    outputs: tuple[str, ...]
    type_name: str | None = None
    view: GraphView | None = field(default=None, compare=False)  # a block's own nodes


Plan = LayerPlan | RepeatPlan | ChainPlan | GraphPlan


@dataclass(frozen=True)
class ModelPlan:
    """A checked `model:` section: the structure to instantiate and what `nnrun graph` draws."""

    root: ChainPlan | GraphPlan
    view: GraphView = field(compare=False)


class _Problems:
    """Collects problems with their locations while the builder walks the section."""

    def __init__(self, cfg: ResolvedConfig):
        self.cfg = cfg
        self.items: list[Problem] = []

    def add(
        self,
        path: KeyPath,
        message: str,
        expected: str = "",
        found: str = "",
        at_key: bool = False,
        offset: tuple[int, int] | None = None,
    ) -> None:
        """`offset` is a (line, column) inside the string at `path` (an expression)."""
        where = self.cfg.where_key(path) if at_key else self.cfg.where(path)
        if offset is not None:
            where = inside_string(where, offset)
        self.items.append(Problem(message, format_path(path), where, expected, found))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)


class ModelParser:
    """Parses the model of one config. `parse()` raises one ConfigError listing everything."""

    def __init__(self, cfg: ResolvedConfig):
        self.cfg = cfg
        self.problems = _Problems(cfg)
        # Arguments are checked with each `${dataset.*}` standing in as 1 (the data is not
        # loaded yet); the plan keeps the references for instantiation.
        self.placeholders = {f"dataset.{key}": 1 for key in DATASET_KEYS}
        self.active_blocks: list[str] = []
        self.blocks: dict[str, Any] = cfg.data.get("blocks") or {}
        if not isinstance(self.blocks, dict):
            self.problems.add(
                ("blocks",),
                "must be a mapping of block names to definitions",
                "a mapping",
                describe(self.blocks),
            )
            self.blocks = {}
        for name in self.blocks:
            if name in LAYERS:
                self.problems.add(
                    ("blocks", name),
                    f"block {name!r} shadows the layer type {name!r}",
                    "a new name",
                    repr(name),
                    at_key=True,
                )

    # ----------------------------------------------------------------- entry point
    def parse(self) -> ModelPlan:
        section = self.cfg.data.get("model")
        path: KeyPath = ("model",)
        if isinstance(section, list):
            section = {"layers": section}
            path = ("model",)
        if not isinstance(section, dict):
            self.problems.add(
                path,
                "the model section must be a mapping",
                "layers: [...] or inputs/nodes/output",
                describe(section),
            )
            raise ConfigError(self.problems.items)
        for key in section:
            if key not in MODEL_KEYS:
                close = suggest(str(key), MODEL_KEYS)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problems.add(
                    (*path, key),
                    f"unknown key {key!r} in model{hint}",
                    "one of " + ", ".join(MODEL_KEYS),
                    repr(key),
                    at_key=True,
                )
        view = GraphView()
        model: Plan | None
        if "layers" in section and "nodes" in section:
            self.problems.add(path, "give either layers (a chain) or nodes (a graph), not both")
            model = None
        elif "nodes" in section:
            model = self._graph(section, path, view, params={})
        elif "layers" in section:
            model = self._chain(section["layers"], (*path, "layers"), view, params={})
        else:
            self.problems.add(
                path, "the model has no layers", "a 'layers:' list or 'nodes:'", "neither"
            )
            model = None
        if self.problems.items or model is None:
            raise ConfigError(self.problems.items)
        return ModelPlan(model, view)

    # ----------------------------------------------------------------- list form
    def _chain(
        self, entries: Any, path: KeyPath, view: GraphView, params: dict[str, Any]
    ) -> ChainPlan | None:
        if not isinstance(entries, list) or not entries:
            self.problems.add(
                path, "layers must be a non-empty list", "a list of layers", describe(entries)
            )
            return None
        layers, paths = [], []
        previous = "input"
        if not view.nodes:
            view.nodes.append(("input", "input", ""))
        for i, entry in enumerate(entries):
            here = (*path, i)
            layer = self._layer(entry, here, view, params)
            label = f"layers.{i}"
            kind = _entry_type(entry)
            view.nodes.append((label, kind, format_path(here)))
            view.edges.append((previous, label))
            previous = label
            if layer is not None:
                layers.append(layer)
                paths.append(here)
        view.outputs = [previous]
        if len(layers) != len(entries):
            return None
        return ChainPlan(tuple(layers), tuple(paths))

    # ----------------------------------------------------------------- graph form
    def _graph(
        self, section: dict[str, Any], path: KeyPath, view: GraphView, params: dict[str, Any]
    ) -> GraphPlan | None:
        inputs = section.get("inputs", ["x"])
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(n, str) for n in inputs):
            self.problems.add(
                (*path, "inputs"), "inputs must be a list of names", "e.g. [x]", describe(inputs)
            )
            return None
        nodes = section.get("nodes")
        if not isinstance(nodes, dict) or not nodes:
            self.problems.add(
                (*path, "nodes"),
                "nodes must be a mapping of node names",
                "name: {type: ..., in: ...}",
                describe(nodes),
            )
            return None
        outputs = section.get("output")
        if isinstance(outputs, str):
            outputs = [outputs]
        if not isinstance(outputs, list) or not outputs:
            self.problems.add(
                (*path, "output"),
                "the graph needs an output node",
                "output: <node name> or a list of names",
                describe(outputs),
                at_key="output" in section,
            )
            return None
        known = set(inputs) | set(nodes)
        for name in set(inputs) & set(nodes):
            self.problems.add(
                (*path, "nodes", name),
                f"node {name!r} has the name of a model input",
                "node names distinct from the inputs " + ", ".join(inputs),
                repr(name),
                at_key=True,
            )
        for name in inputs:
            view.nodes.append((name, "input", format_path((*path, "inputs"))))
        view.outputs = list(outputs)
        for name in [*inputs, *nodes]:
            if not NODE_NAME.match(str(name)) or hasattr(GraphModel, str(name)):
                where = (*path, "nodes", name) if name in nodes else (*path, "inputs")
                self.problems.add(
                    where,
                    f"{name!r} cannot be a node name",
                    "an identifier that is not a Module attribute",
                    repr(name),
                    at_key=True,
                )
        edges: dict[str, list[str]] = {}
        specs: dict[str, tuple[KeyPath, Any, list[str] | dict[str, str], str | None]] = {}
        learned = [n for n, e in nodes.items() if is_nullary(_layer_class(e))]
        for name, entry in nodes.items():
            here = (*path, "nodes", name)
            if not isinstance(entry, dict):
                entry = {"type": entry} if isinstance(entry, str) else entry
            if not isinstance(entry, dict):
                self.problems.add(
                    here, "a node must be a mapping", "{type: ..., in: ...}", describe(entry)
                )
                continue
            refs = entry.get("in")
            if name in learned:
                if refs is not None:
                    self.problems.add(
                        (*here, "in"),
                        f"node {name!r} ({entry.get('type')}) takes no inputs",
                        "no 'in:'",
                        describe(refs),
                        at_key=True,
                    )
                refs = []
            elif refs is None and _layer_class(entry) is LAYERS.get("expr"):
                refs = []  # it may read learned tensors only (`expr: "A + transpose(A)"`)
            elif refs is None:
                self.problems.add(
                    here,
                    f"node {name!r} has no inputs",
                    "in: <node> or in: [<node>, ...]",
                    "nothing",
                )
                continue
            if isinstance(refs, str):
                refs = [refs]
            if isinstance(refs, dict):
                sources = list(refs.values())
            elif isinstance(refs, list):
                sources = refs
            else:
                self.problems.add(
                    (*here, "in"),
                    "in must name nodes",
                    "a name, a list of names or a mapping argument → name",
                    describe(refs),
                )
                continue
            if _layer_class(entry) is LAYERS.get("expr") and isinstance(refs, (list, dict)):
                named, found = expression_inputs(entry.get("expr"), refs, learned)
                for message, offset, expected in found:
                    where = (*here, "expr") if offset is not None else (*here, "in")
                    self.problems.add(where, message, expected, offset=offset)
                if named is not None and not found:
                    refs, sources = named, list(named.values())
                elif named is not None:  # keep `in:`, plus the tensors it reads (no echoes)
                    sources = list(dict.fromkeys([*sources, *named.values()]))
            for source in sources:
                if _node_of(source) not in known:
                    close = suggest(str(source), known)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.problems.add(
                        (*here, "in"),
                        f"node {name!r} reads {source!r}, which is not an input or node{hint}",
                        "one of " + ", ".join(sorted(known)),
                        repr(source),
                    )
            edges[name] = list(dict.fromkeys(_node_of(s) for s in sources if _node_of(s) in known))
            share = entry.get("share")
            if share is not None and (
                not isinstance(share, str) or share not in nodes or share == name
            ):
                self.problems.add(
                    (*here, "share"),
                    "share must name another layer node",
                    "one of " + ", ".join(n for n in nodes if n != name),
                    repr(share),
                )
                share = None
            specs[name] = (here, entry, refs, share)
        self._check_shares(specs)
        for name in outputs:
            if name not in known:
                close = suggest(str(name), known)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problems.add(
                    (*path, "output"),
                    f"output {name!r} is not a node{hint}",
                    "one of " + ", ".join(sorted(nodes)),
                    repr(name),
                )
        order = self._topological(edges, path)
        if order is None:
            return None
        dangling = any(
            _node_of(s) not in known
            for _, _, refs, _ in specs.values()
            for s in (refs.values() if isinstance(refs, dict) else refs)
        )
        dangling = dangling or any(name not in known for name in outputs)
        needed = _ancestors(outputs, edges)
        # With a reference to a missing node, "unused" nodes are only its echo: skip them.
        unused = [] if dangling else [n for n in nodes if n not in needed]
        if unused:
            self.problems.add(
                (*path, "nodes", unused[0]),
                "node(s) not used by the output: " + ", ".join(unused),
                "every node to feed the output",
                f"{len(unused)} unused",
                at_key=True,
            )
        idle = [] if dangling else [n for n in inputs if n not in needed]
        if idle:
            self.problems.add(
                (*path, "inputs"),
                "input(s) not used by any node: " + ", ".join(idle),
                "every input to be read",
                ", ".join(idle),
            )
        graph_nodes = []
        for name in order:
            if name not in specs:
                continue
            here, entry, refs, share = specs[name]
            kind = "shared " + share if share else _entry_type(entry)
            view.nodes.append((name, kind, format_path(here)))
            view.edges.extend((source, name) for source in edges[name])
            layer = None
            if share is None:
                layer = self._layer(
                    {k: v for k, v in entry.items() if k != "in"}, here, view, params
                )
            graph_nodes.append(NodePlan(name, refs, here, layer, share))
        if self.problems.items:
            return None
        return GraphPlan(tuple(inputs), tuple(graph_nodes), tuple(outputs))

    def _check_shares(self, specs: dict[str, tuple]) -> None:
        """A node that shares must name a node with its own layer of the same type: follow
        share chains to that node, and report cycles and type clashes at the YAML line."""
        owners: dict[str, str] = {}
        in_cycle: set[str] = set()
        for name, (here, entry, _, share) in specs.items():
            if share is None or name in in_cycle:
                continue
            seen = [name]
            while share is not None and share not in seen:
                seen.append(share)
                share = specs[share][3] if share in specs else None
            if share is not None:
                cycle = seen[seen.index(share) :]
                in_cycle.update(cycle)
                self.problems.add(
                    (*here, "share"),
                    "nodes share each other in a circle: " + " -> ".join([*cycle, share]),
                    "share to name a node with its own layer",
                    repr(entry.get("share")),
                )
                continue
            owners[name] = owner = seen[-1]
            owner_entry = specs[owner][1]
            owner_type = owner_entry.get("type") if isinstance(owner_entry, dict) else owner_entry
            own_type = entry.get("type")
            if own_type is not None and _layer_name(own_type) != _layer_name(owner_type):
                self.problems.add(
                    (*here, "type"),
                    f"node {name!r} shares the layer of {owner!r}, a {owner_type!r}, "
                    f"but says type {own_type!r}",
                    f"type {owner_type!r} (or no type)",
                    repr(own_type),
                )
        for name, (here, entry, refs, share) in specs.items():
            if share is not None:  # a node in a cycle keeps its name: no layer is built
                specs[name] = (here, entry, refs, owners.get(name, share))
        for name, (here, entry, _, share) in specs.items():
            extra = [key for key in entry if key not in ("in", "share", "type")]
            if share is not None and extra:
                self.problems.add(
                    (*here, extra[0]),
                    f"node {name!r} shares the layer of {share!r} and takes no layer options",
                    "only in, share",
                    repr(extra[0]),
                    at_key=True,
                )

    def _topological(self, edges: dict[str, list[str]], path: KeyPath) -> list[str] | None:
        """Kahn's order over the nodes; a cycle is reported with the nodes on it."""
        pending = {name: {s for s in sources if s in edges} for name, sources in edges.items()}
        order: list[str] = []
        ready = [n for n, deps in pending.items() if not deps]
        while ready:
            name = ready.pop(0)
            order.append(name)
            for other, deps in pending.items():
                if name in deps:
                    deps.discard(name)
                    if not deps and other not in order and other not in ready:
                        ready.append(other)
        stuck = [n for n in pending if n not in order]
        if stuck:
            cycle = _find_cycle(stuck, edges)
            self.problems.add(
                (*path, "nodes", cycle[0]),
                "the graph has a cycle: " + " -> ".join(cycle),
                "a directed acyclic graph",
                "a cycle through " + ", ".join(sorted(set(cycle))),
                at_key=True,
            )
            return None
        return order

    # ----------------------------------------------------------------- one entry
    def _layer(
        self, entry: Any, path: KeyPath, view: GraphView, params: dict[str, Any]
    ) -> Plan | None:
        if params:
            entry = _substitute(entry, params)
        if isinstance(entry, str):
            entry = {"type": entry}
        if not isinstance(entry, dict):
            self.problems.add(
                path,
                "a layer must be a name or a mapping with 'type'",
                "e.g. {type: linear, units: 64}",
                describe(entry),
            )
            return None
        repeat = _substitute(entry.get("repeat", 1), self.placeholders)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            self.problems.add(
                (*path, "repeat"), "repeat must be a positive integer", "int >= 1", describe(repeat)
            )
            return None
        if repeat > 1:
            single = {k: v for k, v in entry.items() if k != "repeat"}
            body = self._layer(single, path, view, params)
            return None if body is None else RepeatPlan(body, repeat)
        kind = entry.get("type")
        if isinstance(kind, str) and kind in self.blocks:
            return self._block(kind, entry, path)
        if kind == "sequential":
            return self._chain(entry.get("layers"), (*path, "layers"), GraphView(), params)
        args = {k: v for k, v in entry.items() if k not in BUILDER_KEYS}
        checked = _substitute(args, self.placeholders)
        name, _, problems = validate_component(checked, LAYERS, path, self.cfg)
        for key, value in checked.items():
            nested = argument_registry(key)
            if nested is not None and isinstance(value, (str, dict)):
                self.problems.extend(validate_component(value, nested, (*path, key), self.cfg)[2])
        if problems:
            if name and name not in LAYERS and self.blocks:
                problems = [_with_blocks(p, name, self.blocks) for p in problems]
            self.problems.extend(problems)
            return None
        if LAYERS.get(name) is LAYERS.get("expr"):
            try:  # the grammar, now: the layer is built only once the data is loaded
                parse_expression(checked["expr"])
            except ExpressionError as error:
                where = (*path, "expr")
                self.problems.add(
                    where, str(error), error.expected, error.found, offset=error.offset
                )
                return None
        arguments = {k: v for k, v in args.items() if k != "type"}
        return LayerPlan(name, arguments, path)

    def _block(self, kind: str, entry: dict[str, Any], path: KeyPath) -> Plan | None:
        definition = self.blocks[kind]
        where = ("blocks", kind)
        if kind in self.active_blocks:
            cycle = [*self.active_blocks[self.active_blocks.index(kind) :], kind]
            self.problems.add(
                (*path, "type"),
                f"block {kind!r} uses itself ({' -> '.join(cycle)}); a block cannot contain itself",
                "a layer type or another block",
                repr(kind),
            )
            return None
        if not isinstance(definition, dict):
            self.problems.add(
                where,
                f"block {kind!r} must be a mapping",
                "params/layers or params/inputs/nodes/output",
                describe(definition),
            )
            return None
        declared = definition.get("params") or {}
        values = dict(declared)
        for key, value in entry.items():
            if key in ("type", "repeat"):
                continue
            if key not in declared:
                close = suggest(key, declared)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problems.add(
                    (*path, key),
                    f"block {kind!r} has no parameter {key!r}{hint}",
                    "one of " + (", ".join(declared) or "(none)"),
                    repr(key),
                    at_key=True,
                )
                continue
            values[key] = value
        missing = [k for k, v in values.items() if v is None]
        if missing:
            self.problems.add(
                path,
                f"block {kind!r} needs parameter(s) " + ", ".join(missing),
                "a value for " + ", ".join(missing),
                "nothing",
            )
            return None
        body = {k: v for k, v in definition.items() if k != "params"}
        view = GraphView()
        self.active_blocks.append(kind)
        plan: Plan | None
        try:
            if "nodes" in body:
                plan = self._graph(body, where, view, values)
            elif "layers" in body:
                plan = self._chain(body["layers"], (*where, "layers"), view, values)
            else:
                plan = None
        finally:
            self.active_blocks.pop()
        if "nodes" not in body and "layers" not in body:
            self.problems.add(
                where,
                f"block {kind!r} has no layers or nodes",
                "layers: [...] or inputs/nodes/output",
                "neither",
            )
            return None
        return None if plan is None else dataclasses.replace(plan, type_name=kind, view=view)


def _check_selected_outputs(
    nodes: tuple[NodePlan, ...], layers: dict[str, Module], problems: _Problems
) -> None:
    """`in: att.weights` must name an output the node's layer gives (its `result_names`,
    which depend on the layer's options: checked on the built layers)."""
    shares = {node.name: node.share for node in nodes}
    for node_plan in nodes:
        refs = node_plan.inputs
        for ref in refs.values() if isinstance(refs, dict) else refs:
            node, _, output = str(ref).partition(".")
            layer = layers.get(shares[node] or node) if node in shares else None
            if not output or (node in shares and layer is None):
                continue
            given = getattr(layer, "result_names", ()) if layer is not None else ()
            if output not in given:
                problems.add(
                    (*node_plan.path, "in"),
                    f"node {node_plan.name!r} reads {ref!r}, but {node!r} has no output "
                    f"{output!r}"
                    + ("" if given else " (it gives one output; see its return options)"),
                    "one of " + ", ".join(f"{node}.{o}" for o in given) if given else node,
                    repr(ref),
                )


def _layer_name(kind: Any) -> Any:
    """A layer type with aliases resolved (``dense`` is ``linear``); other names as given."""
    try:
        return LAYERS.canonical(kind) if isinstance(kind, str) else kind
    except ArgumentError:
        return kind


def _entry_type(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        kind = str(entry.get("type", "?"))
        if _layer_class(entry) is LAYERS.get("expr"):
            return f"expr: {entry.get('expr')}"
        repeat = entry.get("repeat", 1)
        return f"{kind} ×{repeat}" if isinstance(repeat, int) and repeat > 1 else kind
    return "?"


def _layer_class(entry: Any) -> Any:
    """The registered class of a layer entry, or None (unknown names are reported later)."""
    kind = (
        entry if isinstance(entry, str) else entry.get("type") if isinstance(entry, dict) else None
    )
    return LAYERS.get(kind) if isinstance(kind, str) and kind in LAYERS else None


def _node_of(ref: Any) -> Any:
    """The node a reference reads: `att` for `att.weights` (a selected output)."""
    return ref.partition(".")[0] if isinstance(ref, str) else ref


def _with_blocks(problem: Problem, name: str, blocks: dict[str, Any]) -> Problem:
    """Add block names to an unknown-layer suggestion."""
    close = suggest(name, list(blocks))
    if not close:
        return problem
    return Problem(
        f"{problem.message} (or the block {close[0]!r}?)",
        problem.path,
        problem.location,
        problem.expected,
        problem.found,
    )


def _substitute(value: Any, params: dict[str, Any]) -> Any:
    """Replace `${param}` by a block parameter's value (typed when it is the whole string)."""
    if isinstance(value, str):
        whole = PARAM_REF.fullmatch(value)
        if whole and whole.group(1) in params:
            return copy.deepcopy(params[whole.group(1)])
        return PARAM_REF.sub(
            lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), value
        )
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, params) for k, v in value.items()}
    return value


def _ancestors(outputs: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(edges.get(name, []))
    return seen


def _find_cycle(stuck: list[str], edges: dict[str, list[str]]) -> list[str]:
    """Walk backwards along inputs among the stuck nodes until a node repeats."""
    stuck_set = set(stuck)
    path = [stuck[0]]
    while True:
        nxt = next(s for s in edges[path[-1]] if s in stuck_set)
        if nxt in path:
            cycle = [*path[path.index(nxt) :], nxt]
            return list(reversed(cycle))
        path.append(nxt)


def parse_model(cfg: ResolvedConfig) -> ModelPlan:
    """Check `cfg`'s model section and return its plan (ConfigError with every problem)."""
    return ModelParser(cfg).parse()


def instantiate(plan: ModelPlan, cfg: ResolvedConfig, dataset: dict[str, Any]) -> Module:
    """Build the model a plan describes, each layer once; `dataset` gives the values of
    ``${dataset.<key>}`` references (see DATASET_KEYS). A constructor's refusal of an
    argument (a check beyond the declared constraints) is a ConfigError at its entry."""
    values = {f"dataset.{key}": dataset.get(key) for key in DATASET_KEYS}
    problems = _Problems(cfg)
    model = _instantiate(plan.root, values, problems)
    if problems.items or model is None:
        raise ConfigError(problems.items)
    return model


def _instantiate(plan: Plan, values: dict[str, Any], problems: _Problems) -> Module | None:
    if isinstance(plan, LayerPlan):
        try:
            layer = LAYERS.build(plan.type, **_substitute(plan.args, values))
        except ArgumentError as error:
            key_path = (*plan.path, error.key) if error.key else plan.path
            offset = getattr(error, "offset", None)  # inside an expression
            problems.add(key_path, str(error), error.expected, error.found, offset=offset)
            return None
        layer.type_name = plan.type
        return layer
    if isinstance(plan, RepeatPlan):
        copies = [_instantiate(plan.body, values, problems) for _ in range(plan.count)]
        built = [body for body in copies if body is not None]
        return Sequential(*built) if len(built) == len(copies) else None
    if isinstance(plan, ChainPlan):
        layers = [_instantiate(entry, values, problems) for entry in plan.entries]
        chain = [layer for layer in layers if layer is not None]
        if len(chain) < len(layers):
            return None
        module: Module = SequentialModel(chain, plan.paths)
    else:
        instances = {
            node.name: _instantiate(node.layer, values, problems)
            for node in plan.nodes
            if node.layer is not None
        }
        owned = {name: layer for name, layer in instances.items() if layer is not None}
        if len(owned) < len(instances):
            return None
        _check_selected_outputs(plan.nodes, owned, problems)
        if problems.items:
            return None
        nodes = [Node(n.name, n.inputs, n.path, n.share or n.name) for n in plan.nodes]
        module = GraphModel(plan.inputs, nodes, owned, plan.outputs)
    if plan.type_name is not None:
        module.type_name = plan.type_name
        module.block_view = plan.view  # for `nnrun graph --expand`
    return module
