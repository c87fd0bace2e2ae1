"""What `nnrun validate`, `nnrun graph` and `nnrun gradcheck` show about a built model."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from nnrun import random
from nnrun.autograd.tensor import Tensor
from nnrun.config.resolve import ResolvedConfig
from nnrun.experiment import Experiment, as_input, loss_arguments, sample_batch
from nnrun.markup import make_console, safe
from nnrun.nn.model import TraceRecord
from nnrun.testing.gradcheck import gradcheck_report


def _shape_text(shape: Any, batched: bool = True) -> str:
    if isinstance(shape, tuple) and not batched:
        return str(shape)
    if isinstance(shape, tuple):
        return "(" + ", ".join(["N", *map(str, shape[1:])]) + ")" if shape else "()"
    return json.dumps(shape)


def _trace_by_label(exp: Experiment) -> dict[str, TraceRecord]:
    return {record.label: record for record in exp.trace}


def render_explain(cfg: ResolvedConfig, console: Console) -> None:
    table = Table(title="effective configuration")
    for column in ("key", "value", "from"):
        table.add_column(column)
    for path, value, source in cfg.explain():
        table.add_row(safe(path), safe(json.dumps(value)), safe(source))
    console.print(table)


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
    for record in exp.trace:
        table.add_row(
            safe(record.label),
            safe(record.type),
            safe(_shape_text(record.output_shape, record.batched)),
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


def render_graph(exp: Experiment, fmt: str, console: Console | None) -> str:
    """The computation graph as Rich text (printed), Graphviz DOT, or Mermaid."""
    traced = _trace_by_label(exp)
    nodes = []
    for name, kind, path in exp.view.nodes:
        record = traced.get(name)
        shape = _shape_text(record.output_shape, record.batched) if record else "?"
        params = record.parameters if record else 0
        nodes.append((name, kind, shape, params, path))
    inputs: dict[str, list[str]] = {}
    for source, target in exp.view.edges:
        inputs.setdefault(target, []).append(source)
    if fmt == "dot":
        lines = ["digraph model {", "  rankdir=TB;", '  node [shape=box, fontname="monospace"];']
        for name, kind, shape, params, _ in nodes:
            label = f"{name}\\n{kind}\\n{shape}" + (f"\\n{params:,} params" if params else "")
            lines.append(f'  "{name}" [label="{label}"];')
        lines += [f'  "{s}" -> "{t}";' for s, t in exp.view.edges]
        text = "\n".join(lines + ["}"]) + "\n"
    elif fmt == "mermaid":
        ids = {name: f"n{i}" for i, (name, *_rest) in enumerate(nodes)}
        lines = ["flowchart TD"]
        for name, kind, shape, params, _ in nodes:
            extra = f"<br/>{params:,} params" if params else ""
            lines.append(f'  {ids[name]}["{name}<br/>{kind}<br/>{shape}{extra}"]')
        lines += [f"  {ids[s]} --> {ids[t]}" for s, t in exp.view.edges]
        text = "\n".join(lines) + "\n"
    else:
        table = Table(title=f"computation graph of {safe(exp.name)}")
        for column in ("node", "op", "output shape", "parameters", "inputs"):
            table.add_column(column)
        for name, kind, shape, params, _ in nodes:
            table.add_row(
                safe(name),
                safe(kind),
                safe(shape),
                f"{params:,}" if params else "",
                safe(", ".join(inputs.get(name, []))),
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
