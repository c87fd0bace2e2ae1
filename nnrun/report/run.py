"""The report of one run: summary, training curves, config, model graph, confusion matrix of
the best checkpoint on the test split, and the diagnostics with their findings."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from nnrun.diagnose.findings import FindingTracker
from nnrun.diagnose.records import STATISTICS, read_records
from nnrun.errors import NnrunError
from nnrun.fileio import read_json_object, read_text_file
from nnrun.report.html import Section, page, table
from nnrun.report.svg import (
    PALETTE,
    GraphNode,
    Series,
    graph_diagram,
    heatmap,
    line_chart,
    sparkline,
)
from nnrun.train.display import format_value


def _read_json(path: Path) -> dict[str, Any]:
    return read_json_object(path, "run file") if path.exists() else {}


def _note(text: str) -> str:
    return f'<p class="muted">{escape(text)}</p>'


def summary_section(
    run_dir: Path, summary: dict[str, Any], findings: list[dict[str, Any]]
) -> Section:
    """Name, status, the key results as cards, the diagnostics' findings, and every final
    value in a table."""
    status = summary.get("status", "running or crashed (no summary.json)")
    best = summary.get("best") or {}
    cards = [
        f'<div class="card">status<b><span class="status {escape(status)}">'
        f"{escape(status)}</span></b></div>"
    ]
    if best.get("metric"):
        epoch = f" (epoch {best['epoch']})" if best.get("epoch") is not None else ""
        cards.append(
            f'<div class="card">best {escape(best["metric"])}<b>{format_value(best.get("value"))}'
            f"</b>{escape(epoch)}</div>"
        )
    for key, value in (summary.get("test") or {}).items():
        cards.append(f'<div class="card">{escape(key)}<b>{format_value(value)}</b></div>')
    if summary.get("epochs") is not None:
        cards.append(
            f'<div class="card">epochs<b>{summary["epochs"]} / '
            f"{summary.get('max_epochs', '?')}</b></div>"
        )
    if summary.get("wall_time") is not None:
        cards.append(f'<div class="card">wall time<b>{summary["wall_time"]:.1f} s</b></div>')
    if summary.get("parameters") is not None:
        cards.append(f'<div class="card">parameters<b>{summary["parameters"]:,}</b></div>')
    rows = [[escape(k), format_value(v)] for k, v in (summary.get("final") or {}).items()]
    body = f'<div class="cards">{"".join(cards)}</div>'
    if summary.get("error"):
        body += f'<p class="finding">{escape(summary["error"])}</p>'
    if findings:
        body += findings_html(findings)
        body += '<p><a href="#diagnostics">per-layer diagnostics below</a></p>'
    if rows:
        body += "<p>Values after the last epoch:</p>" + table(["metric", "value"], rows)
    body += _note(f"run directory: {run_dir}")
    return Section("summary", "Summary", body)


def curves_section(run_dir: Path, summary: dict[str, Any]) -> Section:
    """Loss and every metric per epoch, train against val, the best epoch marked."""
    from nnrun.train.history import read_metrics

    try:
        by_split = read_metrics(run_dir)
    except NnrunError as error:
        return Section("curves", "Training curves", _note(str(error)))
    columns: list[str] = []
    for split_columns in by_split.values():
        columns += [
            c
            for c in split_columns
            if c not in ("epoch", "step", "lr", "seconds") and c not in columns
        ]
    best_epoch = (summary.get("best") or {}).get("epoch")
    charts = []
    for column in columns:
        series = []
        for index, (split, values) in enumerate(by_split.items()):
            ys = [
                None if v is None or (isinstance(v, float) and math.isnan(v)) else v
                for v in values.get(column, [])
            ]
            if any(y is not None for y in ys):
                series.append(
                    Series(
                        split, values["epoch"], ys, PALETTE[index % len(PALETTE)], split != "train"
                    )
                )
        if series:
            charts.append(
                line_chart(series, column, "epoch", column, mark_x=best_epoch, mark_label="best")
            )
    lr = next(
        (v["lr"] for v in by_split.values() if any(x is not None for x in v.get("lr", []))), None
    )
    if lr:
        epochs = next(iter(by_split.values()))["epoch"]
        charts.append(
            line_chart([Series("lr", epochs, lr, PALETTE[3])], "learning rate", "epoch", "lr")
        )
    body = (
        f'<div class="charts">{"".join(charts)}</div>' if charts else _note("no epochs logged yet")
    )
    return Section("curves", "Training curves", body)


def config_section(run_dir: Path) -> Section:
    path = run_dir / "config.yaml"
    text = read_text_file(path, "config") if path.exists() else "(no config.yaml)"
    body = (
        "<details><summary>the resolved config (every default filled in)</summary>"
        f"<pre>{escape(text)}</pre></details>"
    )
    return Section("config", "Config", body)


def _shape_text(shape: Any) -> str:
    if isinstance(shape, tuple):
        return "(" + ", ".join(["N", *map(str, shape[1:])]) + ")" if shape else "()"
    return json.dumps(shape) if shape is not None else "?"


def graph_section(exp: Any) -> Section:
    traced = {record.label: record for record in exp.trace}
    nodes = []
    for name, kind, _path in exp.view.nodes:
        record = traced.get(name)
        shape = _shape_text(record.output_shape) if record else "?"
        nodes.append(GraphNode(name, kind, shape, record.parameters if record else 0))
    total = exp.model.num_parameters()
    body = graph_diagram(nodes, list(exp.view.edges)) + _note(f"{total:,} parameters in total")
    return Section("graph", "Model graph", body)


def confusion_section(opened: Any) -> Section:
    """The best checkpoint's confusion matrix on the test split (else val)."""
    from nnrun.metrics import confusion_matrix
    from nnrun.train.loop import evaluate_split

    exp = opened.experiment
    info = exp.data.info
    if not info.task.has_classes:
        return Section(
            "confusion", "Confusion matrix", _note(f"not a classification task ({info.task})")
        )
    split = next((s for s in ("test", "val") if s in exp.data.splits), None)
    if split is None:
        return Section("confusion", "Confusion matrix", _note("the run has no test or val split"))
    batch = exp.train.eval_batch_size or exp.data.batch_size
    metrics, outputs, targets = evaluate_split(exp, split, batch)
    if outputs is None or targets is None:
        return Section(
            "confusion", "Confusion matrix", _note("the model's outputs are not class scores")
        )
    matrix = confusion_matrix(outputs, targets, info.task, info.num_classes).tolist()
    names = [str(n) for n in (opened.preprocessor.classes or range(len(matrix)))][: len(matrix)]
    checkpoint = opened.checkpoint.path.name
    title = f"{split} split, checkpoint {checkpoint} ({len(targets)} examples)"
    pairs = ", ".join(f"{k} {format_value(v)}" for k, v in metrics.items())
    return Section("confusion", "Confusion matrix", heatmap(matrix, names, title) + _note(pairs))


def findings_html(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return '<p class="ok">no findings: gradients, updates and activations look healthy</p>'
    items = []
    for f in findings:
        since = f" since epoch {f['since_epoch']}" if f.get("since_epoch") is not None else ""
        items.append(
            f'<div class="finding" data-code="{escape(f["code"])}"><code>{escape(f["code"])}</code>'
            f"{escape(since)}: {escape(f['message'])} "
            f'<span class="muted">(threshold: {escape(f["threshold"])})</span></div>'
        )
    return "".join(items)


def run_findings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of the records, as the current detectors see them."""
    tracker = FindingTracker()
    for record in records:
        tracker.add(record)
    return tracker.summary()


def diagnostics_section(records: list[dict[str, Any]]) -> Section:
    """Findings first, then one row per layer with a sparkline per statistic over the run."""
    if not records:
        return Section(
            "diagnostics",
            "Diagnostics",
            _note("not recorded: train with --diagnose (or train.diagnose: true) to see inside"),
        )
    names = [entry["name"] for entry in records[-1]["layers"]]
    panels = [
        s for s in STATISTICS if any(e.get(s.key) is not None for r in records for e in r["layers"])
    ]
    # One vertical scale per column, shared by all layers, so they compare at a glance.
    bounds = {}
    for statistic in panels:
        values = [e.get(statistic.key) for r in records for e in r["layers"]]
        values = [v for v in values if v is not None and (v > 0 or not statistic.log)]
        bounds[statistic.key] = (min(values), max(values)) if values else None
    rows = []
    for name in names:
        entries: list[dict[str, Any]] = [
            next((e for e in r["layers"] if e["name"] == name), {}) for r in records
        ]
        last = entries[-1]
        kind = last.get("type", "") + (f"→{last['activation']}" if last.get("activation") else "")
        cells = [f'<b>{escape(name)}</b><br><span class="muted">{escape(kind)}</span>']
        for statistic in panels:
            values = [e.get(statistic.key) for e in entries]
            cells.append(sparkline(values, statistic.log, bounds[statistic.key]))
        rows.append(cells)
    span = (
        f"epochs {records[0]['epoch']}–{records[-1]['epoch']}, "
        f"steps {records[0]['step']}–{records[-1]['step']}"
    )
    body = (
        findings_html(run_findings(records))
        + _note(
            f"{len(records)} records on one fixed training batch ({span}); each cell: the "
            "statistic over the run on the column's shared scale, last value below"
        )
        + table(["layer", *(s.title for s in panels)], rows).replace("<td>", '<td class="spark">')
    )
    return Section("diagnostics", "Diagnostics", body)


def build_run_report(run_dir: Path) -> str:
    """The HTML of the report of `run_dir`."""
    from nnrun.train.session import open_run

    summary = _read_json(run_dir / "summary.json")
    records = read_records(run_dir)
    sections = [
        summary_section(run_dir, summary, run_findings(records)),
        curves_section(run_dir, summary),
        config_section(run_dir),
    ]
    try:
        opened = open_run(run_dir)
    except NnrunError as error:
        reason = f"the model could not be rebuilt from the run: {error}"
        sections += [
            Section("graph", "Model graph", _note(reason)),
            Section("confusion", "Confusion matrix", _note(reason)),
        ]
    else:
        sections += [graph_section(opened.experiment), confusion_section(opened)]
    sections.append(diagnostics_section(records))
    name = summary.get("name") or run_dir.name
    status = summary.get("status", "unknown")
    subtitle = (
        f'{escape(str(run_dir))} · <span class="status {escape(status)}">{escape(status)}</span>'
    )
    return page(f"nnrun run {name}", subtitle, sections)
