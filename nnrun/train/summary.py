"""What `nnrun validate`, `nnrun graph` and `nnrun gradcheck` show about a built model."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from nnrun import random
from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor
from nnrun.config.builder import GraphView
from nnrun.config.paths import format_path
from nnrun.config.resolve import ResolvedConfig
from nnrun.experiment import Experiment, as_input, loss_arguments, sample_batch
from nnrun.markup import make_console, safe
from nnrun.nn.model import TracedModel, TraceRecord
from nnrun.nn.module import Module
from nnrun.testing.gradcheck import gradcheck_report


def _shape_text(
    shape: Any, rows: int | None = None, edges: int | None = None, batched: bool = True
) -> str:
    """``(N, 64)``: the leading (example or node) dimension as N; for graph data, the
    edge count as E (``edge_index`` is ``(2, E)``). Without `rows` the first dim is N; a
    parameter or constant node (not `batched`) shows its plain shape."""
    if isinstance(shape, tuple) and not batched:
        return str(shape)
    if isinstance(shape, tuple):
        if not shape:
            return "()"
        dims = [
            "N"
            if i == 0 and (rows is None or size == rows)
            else "E"
            if size == edges
            else str(size)
            for i, size in enumerate(shape)
        ]
        return "(" + ", ".join(dims) + ")"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s, rows, edges) for s in shape) + "]"
    return json.dumps(shape)


def render_explain(cfg: ResolvedConfig, console: Console) -> None:
    """Every effective value, its source and what it may be (from its declaration); key
    paths (what --set takes) are never cut."""
    from nnrun.spec import declared
    from nnrun.tables import Col, fitted_table

    columns = [
        Col("key"),
        Col("value", priority=2, wrap=True, min_width=12),
        Col("from", priority=1, wrap=True, min_width=30),
        Col("allowed", priority=0.5, wrap=True, min_width=12),
    ]
    rows = [
        [format_path(path), json.dumps(value), source, declared(cfg, path)]
        for path, value, source in cfg.sources()
    ]
    console.print(fitted_table(columns, rows, console.width, title="effective configuration"))


def _shape_texts(exp: Experiment) -> Any:
    """A trace record → its shape text, for this experiment's sample batch (its rows, and
    edges for graphs)."""
    inputs = sample_batch(exp.data.splits["train"])[0]
    rows = len(next(iter(inputs.values())) if isinstance(inputs, dict) else inputs)
    edge_index = inputs.get("edge_index") if isinstance(inputs, dict) else None
    edges = int(np.shape(edge_index)[-1]) if edge_index is not None else None
    return lambda record: _shape_text(record.output_shape, rows, edges, record.batched)


def _numel(shape: Any) -> int:
    if isinstance(shape, tuple):
        return int(np.prod(shape)) if shape else 1
    if isinstance(shape, list):
        return sum(_numel(s) for s in shape)
    if isinstance(shape, dict):
        return sum(_numel(s) for s in shape.values())
    return 0


def render_model_summary(exp: Experiment, console: Console) -> None:
    """Layer/node, type, output shape and parameters, with totals and memory estimates."""
    table = Table(title=f"model {safe(exp.name)}")
    table.add_column("layer / node")
    table.add_column("type")
    table.add_column("output shape")
    table.add_column("parameters", justify="right")
    activations = 0
    shape_text = _shape_texts(exp)
    for record in exp.trace:
        table.add_row(
            safe(record.label),
            safe(record.type),
            safe(shape_text(record)),
            f"{record.parameters:,}" if record.parameters else "",
        )
        if record.type != "input":
            activations += _numel(record.output_shape)
    console.print(table)
    total = exp.model.num_parameters()
    trainable = exp.model.num_parameters(trainable_only=True)
    itemsize = next((p.data.itemsize for p in exp.model.parameters()), 4)
    sample = sample_batch(exp.data.splits["train"])[1]
    per_example = activations / max(len(sample), 1)
    batch = exp.data.batch_size
    split = exp.data.splits["train"]
    per_batch: float
    if split.is_graph:
        per_batch = activations * itemsize
        batch_text = "the whole graph"
    else:
        per_batch = per_example * batch * itemsize
        batch_text = f"a batch of {batch}"
    console.print(
        f"parameters: {total:,} ({trainable:,} trainable), "
        f"{total * itemsize / 2**20:.2f} MiB; activations: ≈{per_batch / 2**20:.2f} MiB for "
        f"{batch_text} (forward; backprop keeps about as much again)",
        highlight=False,
    )
    console.print(
        f"data: {safe(exp.data.info.name)} ({exp.task}); "
        + ", ".join(f"{k} {len(v)}" for k, v in exp.data.splits.items()),
        highlight=False,
    )


# Graphs of up to this many nodes with blocks opened up are shown opened by default.
EXPAND_LIMIT = 40


@dataclass(frozen=True)
class GraphNode:
    """One node as `nnrun graph` lists it: dotted name, op, output shape text, parameters
    and the names of the nodes it reads."""

    name: str
    op: str
    shape: str
    parameters: int
    inputs: list[str]


def _child(module: Module | None, dotted: str) -> Module | None:
    for part in dotted.split("."):
        module = module._modules.get(part) if module is not None else None
    return module


def _block_copies(module: Module | None) -> list[Module]:
    """The block modules behind a node: one, or its `repeat` copies; [] for a plain layer."""
    if module is None:
        return []
    if hasattr(module, "block_view"):
        return [module]
    children = list(module._modules.values())
    if children and all(hasattr(child, "block_view") for child in children):
        return children
    return []


class _GraphWalk:
    """Flattens a GraphView, opening blocks (and their copies) into their own nodes."""

    def __init__(self, records: dict[int, dict[str, TraceRecord]], shape_text: Any, expand: bool):
        self.records = records
        self.shape_text = shape_text
        self.expand = expand
        self.nodes: list[GraphNode] = []

    def walk(
        self, view: GraphView, owner: Module, prefix: str, sources: dict[str, list[str]]
    ) -> list[str]:
        """Add `view`'s nodes under `prefix`; `sources` maps its input nodes to the outer
        nodes they stand for. Returns the full names of the view's outputs."""
        names: dict[str, list[str]] = dict(sources)  # node → the full names it stands for
        for name, kind, _ in view.nodes:  # in topological order: sources come first
            if name in sources:
                continue
            inputs = [full for s, t in view.edges if t == name for full in names[s]]
            module = _child(owner, name) if kind != "input" else None
            copies = _block_copies(module) if self.expand else []
            if copies:
                current = inputs
                for index, block in enumerate(copies):
                    inner = f"{prefix}{name}." + (f"{index}." if len(copies) > 1 else "")
                    block_inputs = [n for n, k, _ in block.block_view.nodes if k == "input"]
                    mapping = {
                        n: [current[i]] for i, n in enumerate(block_inputs) if i < len(current)
                    }
                    current = self.walk(block.block_view, block, inner, mapping)
                names[name] = current
                continue
            record = self.records.get(id(owner), {}).get(name)
            self.nodes.append(
                GraphNode(
                    prefix + name,
                    kind,
                    self.shape_text(record) if record else "?",
                    record.parameters if record else 0,
                    inputs,
                )
            )
            names[name] = [prefix + name]
        return [full for output in view.outputs for full in names.get(output, [prefix + output])]


def _traces(exp: Experiment) -> dict[int, dict[str, TraceRecord]]:
    """Each traced model's (the whole model's and every block's) records of one forward
    pass over a few examples, by module and label."""
    model = exp.model
    traced = [m for m in model.modules() if isinstance(m, TracedModel)]
    for module in traced:
        module.trace = []
    model.eval()
    try:
        with no_grad():
            model(as_input(sample_batch(exp.data.splits["train"])[0]))
        return {id(m): {r.label: r for r in m.trace or ()} for m in traced}
    finally:
        for module in traced:
            module.trace = None
        model.train()


def graph_nodes(exp: Experiment, expand: bool | None = None) -> list[GraphNode]:
    """The graph's nodes in order; blocks opened up when `expand` (None: when the opened
    graph has at most `EXPAND_LIMIT` nodes)."""
    shape_text = _shape_texts(exp)
    records = _traces(exp)
    walk = _GraphWalk(records, shape_text, expand is not False)
    walk.walk(exp.view, exp.model, "", {})
    if expand is None and len(walk.nodes) > EXPAND_LIMIT:
        walk = _GraphWalk(records, shape_text, False)
        walk.walk(exp.view, exp.model, "", {})
    return walk.nodes


def render_graph(
    exp: Experiment, fmt: str, console: Console | None, expand: bool | None = None
) -> str:
    """The computation graph as Rich text (printed), Graphviz DOT, or Mermaid."""
    nodes = graph_nodes(exp, expand)
    edges = [(source, node.name) for node in nodes for source in node.inputs]
    if fmt == "dot":
        lines = ["digraph model {", "  rankdir=TB;", '  node [shape=box, fontname="monospace"];']
        for node in nodes:
            extra = f"\\n{node.parameters:,} params" if node.parameters else ""
            label = f"{node.name}\\n{node.op}\\n{node.shape}{extra}"
            lines.append(f'  "{node.name}" [label="{label}"];')
        lines += [f'  "{s}" -> "{t}";' for s, t in edges]
        text = "\n".join([*lines, "}"]) + "\n"
    elif fmt == "mermaid":
        ids = {node.name: f"n{i}" for i, node in enumerate(nodes)}
        lines = ["flowchart TD"]
        for node in nodes:
            extra = f"<br/>{node.parameters:,} params" if node.parameters else ""
            lines.append(f'  {ids[node.name]}["{node.name}<br/>{node.op}<br/>{node.shape}{extra}"]')
        lines += [f"  {ids[s]} --> {ids[t]}" for s, t in edges]
        text = "\n".join(lines) + "\n"
    else:
        table = Table(title=f"computation graph of {safe(exp.name)}")
        for column in ("node", "op", "output shape", "parameters", "inputs"):
            table.add_column(column, no_wrap=column in ("node", "op"))
        for node in nodes:
            table.add_row(
                safe(node.name),
                safe(node.op),
                safe(node.shape),
                f"{node.parameters:,}" if node.parameters else "",
                safe(", ".join(node.inputs)),
            )
        if console is not None:
            console.print(table)
        text_console = make_console(width=120, record=True, file=io.StringIO())
        text_console.print(table)
        text = text_console.export_text()
    if console is not None and fmt != "text":
        console.print(text, markup=False, highlight=False)
    return text


def check_gradients(exp: Experiment, batch: int, console: Console) -> bool:
    """Backprop vs central differences (float64) for every parameter, on real examples.

    Dropout and other train-time noise are off (eval mode) so the loss is a function of the
    parameters alone. Prints a table per parameter; True when every check passes.
    """
    model, loss = exp.model.to(np.float64), exp.loss
    inputs, targets = sample_batch(exp.data.splits["train"], batch)
    x = as_input(inputs, np.float64)
    if isinstance(targets, np.ndarray) and targets.dtype.kind == "f":
        targets = targets.astype(np.float64)
    model.eval()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    state = random.get_state()

    # Without parameters (a pure computation) the gradients checked are the inputs'.
    inputs_checked = not named and isinstance(x, Tensor) and x.dtype.kind == "f"

    def objective(*inputs: Any) -> Any:
        random.set_state(state)
        value = loss(*loss_arguments(model(*inputs or (x,)), targets, loss))
        return value if value.data.size == 1 else value.mean()

    results = gradcheck_report(
        objective,
        [x.data] if inputs_checked else [],
        params=[p for _, p in named],
        names=["input"] if inputs_checked else [n for n, _ in named],
    )
    table = Table(title=f"gradient check of {safe(exp.name)} (float64, {len(targets)} examples)")
    table.add_column("input" if inputs_checked else "parameter", no_wrap=True)
    for column in ("shape", "checked", "max abs error", "max rel error", "ok"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            safe(r.name),
            str(r.shape),
            r.method,
            f"{r.max_abs_error:.2e}",
            f"{r.max_rel_error:.2e}",
            "[green]ok[/]" if r.ok else "[red]MISMATCH[/]",
        )
    console.print(table)
    bad = [r for r in results if not r.ok]
    for r in bad:
        console.print(f"[red]{safe(r.describe())}[/]", highlight=False)
    if not bad:
        what = "input" if inputs_checked else "parameter"
        console.print(f"[green]all {len(results)} {what} gradients match[/]")
    return not bad
