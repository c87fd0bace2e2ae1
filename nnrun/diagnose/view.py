"""What `nnrun diagnose` shows: one record as a table per layer, and the findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from nnrun.diagnose.findings import FindingTracker
from nnrun.diagnose.records import STATISTICS, read_records, select_record
from nnrun.markup import make_console, safe


def diagnose_run(run_dir: Path, epoch: int | None = None) -> dict[str, Any]:
    """The chosen record (the last, or the last of `epoch`) and the findings of the run up
    to and including it, as `nnrun diagnose --json` prints them."""
    records = read_records(run_dir)
    record = select_record(records, epoch)
    tracker = FindingTracker()
    for earlier in records[: records.index(record) + 1]:
        tracker.add(earlier)
    return {
        "run": str(run_dir),
        "epoch": record["epoch"],
        "step": record["step"],
        "records": len(records),
        "record": record,
        "findings": tracker.summary(),
    }


def _cell(value: Any, share: bool) -> str:
    if value is None:
        return ""
    return f"{value:.0%}" if share else f"{value:.3g}"


def render_diagnosis(result: dict[str, Any], console: Console) -> None:
    record = result["record"]
    table = Table(
        title=f"diagnostics at epoch {record['epoch']}, step {record['step']} "
        f"(fixed batch, loss {_cell(record['loss'], False) or 'NaN'})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    table.add_column("layer", no_wrap=True)
    for statistic in STATISTICS:
        table.add_column(statistic.title, justify="right", no_wrap=True)
    for entry in record["layers"]:
        kind = entry["type"] + (f"→{entry['activation']}" if entry.get("activation") else "")
        table.add_row(
            safe(f"{entry['name']} {kind}"),
            *(_cell(entry.get(s.key), s.share) for s in STATISTICS),
        )
    if not console.is_terminal:  # a pipe's default 80 columns would cut the numbers
        console = make_console(width=130, file=console.file, no_color=console.no_color)
    console.print(table)
    findings = result["findings"]
    if not findings:
        console.print("no findings: gradients, updates and activations look healthy")
    for finding in findings:
        since = f" (since epoch {finding['since_epoch']})" if finding.get("since_epoch") else ""
        console.print(
            f"[bold yellow]{safe(finding['code'])}[/]{since}: {safe(finding['message'])} "
            f"[dim]threshold: {safe(finding['threshold'])}[/]",
            soft_wrap=True,
            highlight=False,
        )
