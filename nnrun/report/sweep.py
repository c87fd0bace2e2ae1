"""The report of a sweep: its summary, the sortable trials table (each trial linked to its
own report), the metric against each swept parameter, every trial's metric curve, and the
sweep file."""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path
from typing import Any

from nnrun.errors import NnrunError
from nnrun.fileio import read_text_file
from nnrun.report.html import Section, page, table
from nnrun.report.svg import PALETTE, Point, Series, line_chart, scatter_chart
from nnrun.train.display import format_value

TRIAL_REPORT = "report.html"


def is_sweep_dir(path: Path) -> bool:
    from nnrun.sweep.ledger import LEDGER_FILE
    from nnrun.sweep.runner import SWEEP_FILE

    return (Path(path) / SWEEP_FILE).is_file() and (Path(path) / LEDGER_FILE).is_file()


def _note(text: str) -> str:
    return f'<p class="muted">{escape(text)}</p>'


def _cell(value: Any) -> tuple[str, str | None]:
    """(HTML text, sort key) of a parameter or metric value."""
    if isinstance(value, float):
        return format_value(value), repr(value)
    if value is None:
        return "", None
    return escape(str(value)), None


def _log_axis(param: Any, values: list[Any]) -> bool:
    """Log-sampled parameters, and numeric choices spanning a factor of ten or more."""
    if param.is_log:
        return True
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) < len(values) or not numbers or min(numbers) <= 0:
        return False
    return max(numbers) / min(numbers) >= 10


def _trial_reports(sweep_dir: Path, events: list[dict[str, Any]], out_dir: Path) -> dict[str, str]:
    """Write each finished or stopped trial's own report; returns trial id → link."""
    from nnrun.fileio import write_text_atomic
    from nnrun.report.run import build_run_report

    links = {}
    for event in events:
        run_dir = sweep_dir / event["run_dir"] if event.get("run_dir") else None
        if run_dir is None or not (run_dir / "summary.json").is_file():
            continue
        path = run_dir / TRIAL_REPORT
        write_text_atomic(path, build_run_report(run_dir))
        links[event["trial"]] = Path(os.path.relpath(path, out_dir)).as_posix()
    return links


def build_sweep_report(sweep_dir: Path, out_dir: Path) -> str:
    """The HTML of the report of `sweep_dir`; trial links are relative to `out_dir`."""
    from nnrun.sweep.ledger import LEDGER_FILE, latest_events, read_ledger
    from nnrun.sweep.report import aggregate
    from nnrun.sweep.runner import SWEEP_FILE, reopen_sweep

    sweep_dir = Path(sweep_dir)
    spec = reopen_sweep(sweep_dir)
    latest = latest_events(read_ledger(sweep_dir / LEDGER_FILE))
    if not latest:
        raise NnrunError(f"{sweep_dir} has no trials yet ({LEDGER_FILE} is empty)")
    events = list(latest.values())
    links = _trial_reports(sweep_dir, events, Path(out_dir))
    rows = aggregate(spec, latest)
    best_trial = _best_trial(spec, events)
    sections = [
        _summary(spec, events, rows, best_trial, links),
        _trials(spec, events, best_trial, links),
        _parameters(spec, events, best_trial, links),
        _curves(spec, events),
        Section(
            "config",
            "Sweep file",
            "<details><summary>the sweep file as given</summary>"
            f"<pre>{escape(read_text_file(sweep_dir / SWEEP_FILE, 'sweep file'))}</pre></details>",
        ),
    ]
    finished = sum(e["status"] == "finished" for e in events)
    subtitle = f"{escape(str(sweep_dir))} · {finished} of {len(events)} trials finished"
    # reopen_sweep names a sweep without `name:` after its original file, not the copy
    return page(f"nnrun sweep {spec.name}", subtitle, sections)


def _best_trial(spec: Any, events: list[dict[str, Any]]) -> str | None:
    scored = [e for e in events if e["status"] == "finished" and _finite(e.get("metric"))]
    if not scored:
        return None
    pick = max if spec.maximize else min
    return pick(scored, key=lambda e: e["metric"])["trial"]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _link(trial: str, links: dict[str, str]) -> str:
    href = links.get(trial)
    return f'<a href="{escape(href)}">{escape(trial)}</a>' if href else escape(trial)


def _summary(spec, events, rows, best_trial, links) -> Section:
    statuses: dict[str, int] = {}
    for event in events:
        statuses[event["status"]] = statuses.get(event["status"], 0) + 1
    cards = [
        f'<div class="card">metric<b>{escape(spec.metric)}</b>{escape(spec.goal)}</div>',
        f'<div class="card">method<b>{escape(spec.method)}</b></div>',
        f'<div class="card">trials<b>{len(events)}</b>'
        + escape(", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
        + "</div>",
    ]
    body = f'<div class="cards">{"".join(cards)}</div>'
    if best_trial is not None:
        best = next(e for e in events if e["trial"] == best_trial)
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        body += (
            f"<p>best trial {_link(best_trial, links)}: {escape(spec.metric)} "
            f"<b>{format_value(best['metric'])}</b> with {escape(params)}</p>"
        )
    else:
        body += _note("no trial has finished with a value of the metric yet")
    if spec.repeats > 1 and rows:
        lines = [
            [str(r.rank or ""), escape(str(r.params)), format_value(r.mean), format_value(r.std)]
            for r in rows
        ]
        body += table(["rank", "point", "mean", "std"], lines)
    return Section("summary", "Summary", body)


def _trials(spec, events, best_trial, links) -> Section:
    keys = [p.key for p in spec.params if p.key in spec.varying] or [p.key for p in spec.params]
    others = sorted(
        {k for e in events for k in {**(e.get("final") or {}), **(e.get("test") or {})}}
        - {spec.metric}
    )
    headers = ["trial", "status", *keys, spec.metric, *others, "epochs", "seconds"]
    rows, values = [], []
    for event in events:
        metrics = {**(event.get("final") or {}), **(event.get("test") or {})}
        cells = [
            (
                _link(event["trial"], links) + (" ★" if event["trial"] == best_trial else ""),
                event["trial"],
            )
        ]
        cells.append((escape(event["status"]), None))
        cells += [_cell(event["params"].get(k)) for k in keys]
        cells.append(_cell(event.get("metric")))
        cells += [_cell(metrics.get(k)) for k in others]
        cells.append(_cell(event.get("epochs")))
        wall = event.get("wall_time")
        cells.append(
            (f"{wall:.1f}" if _finite(wall) else "", repr(wall) if _finite(wall) else None)
        )
        rows.append([c for c, _ in cells])
        values.append([k for _, k in cells])
    body = _note("click a column to sort; a trial's name opens its own report") + table(
        headers, rows, sortable=True, values=values
    )
    return Section("trials", "Trials", body)


def _parameters(spec, events, best_trial, links) -> Section:
    scored = [e for e in events if e["status"] == "finished" and _finite(e.get("metric"))]
    charts = []
    for param in spec.params:
        if param.key not in spec.varying:
            continue
        points = [
            Point(
                e["params"].get(param.key),
                e["metric"],
                f"trial {e['trial']}: {param.key}={e['params'].get(param.key)}, "
                f"{spec.metric} {format_value(e['metric'])}",
                links.get(e["trial"]),
                e["trial"] == best_trial,
            )
            for e in scored
        ]
        if points:
            log = _log_axis(param, [p.x for p in points])
            charts.append(
                scatter_chart(
                    points, f"{spec.metric} vs {param.key}", param.key, spec.metric, log_x=log
                )
            )
    body = (
        f'<div class="charts">{"".join(charts)}</div>'
        if charts
        else _note("no finished trials to plot")
    )
    return Section("parameters", "Metric against each parameter", body)


def _curves(spec, events) -> Section:
    series = []
    for index, event in enumerate(e for e in events if e.get("curve")):
        curve = event["curve"]
        series.append(
            Series(
                event["trial"], list(range(1, len(curve) + 1)), curve, PALETTE[index % len(PALETTE)]
            )
        )
    if not series:
        return Section("curves", "Curves", _note("no per-epoch values in the ledger"))
    # A legend for up to 7 trials; beyond that it would cover the lines.
    title = f"{spec.metric} per epoch ({len(series)} trials)"
    chart = line_chart(series, title, "epoch", spec.metric, legend=len(series) <= 7)
    return Section("curves", "Curves", f'<div class="charts">{chart}</div>')
