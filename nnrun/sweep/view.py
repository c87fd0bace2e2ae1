"""What a running sweep shows: a Rich live view on a terminal (progress bar and a table of
running and recent trials, the best highlighted), one plain line per event otherwise.

The runner drives a view: ``start(total, done, earlier_events)``, then
``trial_started(event)``, ``trial_progress(trial_id, epoch, value)``,
``trial_ended(event)``, and ``stop()`` (always, in a ``finally``).
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group, JustifyMethod
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from nnrun.markup import safe
from nnrun.sweep.report import format_params
from nnrun.sweep.spec import SweepSpec
from nnrun.train.display import format_duration, format_value

RECENT_ROWS = 8
_STATUS_STYLES = {"running": "cyan", "finished": "green", "failed": "bold red", "pruned": "yellow"}


def _first_line(text: str | None) -> str:
    return (text or "").splitlines()[0] if text else ""


class PlainView:
    """One line per trial start and end, for logs and pipes."""

    def __init__(self, spec: SweepSpec, console: Console):
        self.spec = spec
        self.console = console
        self.total = 0
        self.ended = 0

    def _line(self, text: str) -> None:
        self.console.out(text, highlight=False)

    def start(self, total: int, done: int, earlier: list[dict[str, Any]]) -> None:
        self.total, self.ended = total, done
        if done:
            self._line(f"resuming: {done} of {total} trials already done")

    def trial_started(self, event: dict[str, Any]) -> None:
        params = format_params(event["params"], self.spec.varying)
        self._line(f"[{self.ended}/{self.total}] start {event['trial']} {params}")

    def trial_progress(self, trial_id: str, epoch: int, value: float | None) -> None:
        pass

    def trial_ended(self, event: dict[str, Any]) -> None:
        self.ended += 1
        text = f"[{self.ended}/{self.total}] {event['status']} {event['trial']}"
        if event.get("metric") is not None:
            text += f" {self.spec.metric} {format_value(event['metric'])}"
        if event.get("wall_time") is not None:
            text += f" ({format_duration(event['wall_time'])})"
        if event["status"] != "finished" and event.get("error"):
            text += f": {_first_line(event['error'])}"
        self._line(text)

    def stop(self) -> None:
        pass


class RichView:
    """A live progress bar over all trials and a table of running and recent trials."""

    def __init__(self, spec: SweepSpec, console: Console):
        self.spec = spec
        self.console = console
        self.progress = Progress(
            TextColumn("trials"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task("trials", total=None)
        self.rows: dict[str, dict[str, Any]] = {}
        self.best: dict[str, Any] | None = None
        self.live = Live(
            console=console, get_renderable=self._render, refresh_per_second=4, transient=True
        )

    def start(self, total: int, done: int, earlier: list[dict[str, Any]]) -> None:
        self.progress.update(self.task, total=total, completed=done)
        for event in earlier:
            self._consider_best(event)
        self.live.start()

    def trial_started(self, event: dict[str, Any]) -> None:
        self.rows[event["trial"]] = {**event, "started": time.monotonic(), "epoch": 0}

    def trial_progress(self, trial_id: str, epoch: int, value: float | None) -> None:
        row = self.rows.get(trial_id)
        if row is not None:
            row.update(epoch=epoch, metric=value)

    def trial_ended(self, event: dict[str, Any]) -> None:
        row = self.rows.pop(event["trial"], {})
        self.rows[event["trial"]] = {**row, **event}  # move to the end: most recent
        self.progress.advance(self.task)
        self._consider_best(event)
        if event["status"] == "failed":
            self.console.print(
                f"[bold red]failed[/] {safe(event['trial'])}: "
                f"{safe(_first_line(event.get('error')))}",
                highlight=False,
            )

    def _consider_best(self, event: dict[str, Any]) -> None:
        value = event.get("metric")
        if event.get("status") != "finished" or value is None:
            return
        current = None if self.best is None else self.best["metric"]
        if current is None or (value > current if self.spec.maximize else value < current):
            self.best = event

    def _render(self) -> Group:
        table = Table(box=None, padding=(0, 1), header_style="bold")
        columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("trial", "left"),
            ("parameters", "left"),
            ("status", "left"),
            ("epoch", "right"),
            (self.spec.metric, "right"),
            ("time", "right"),
        )
        for name, justify in columns:
            table.add_column(safe(name), justify=justify)
        running = [r for r in self.rows.values() if r["status"] == "running"]
        ended = [r for r in self.rows.values() if r["status"] != "running"][-RECENT_ROWS:]
        shown = running + ended
        if self.best is not None and all(r["trial"] != self.best["trial"] for r in shown):
            shown.append(self.best)
        for row in shown:
            best = self.best is not None and row["trial"] == self.best["trial"]
            seconds = row.get("wall_time")
            if row["status"] == "running" and "started" in row:
                seconds = time.monotonic() - row["started"]
            status = row["status"] + (" ★" if best else "")
            table.add_row(
                safe(row["trial"]),
                safe(format_params(row["params"], self.spec.varying)),
                Text(status, style=_STATUS_STYLES.get(row["status"], "")),
                str(row.get("epoch") or ""),
                format_value(row.get("metric")),
                format_duration(seconds),
                style="bold" if best else "",
            )
        return Group(self.progress, table)

    def stop(self) -> None:
        self.live.stop()


def make_view(spec: SweepSpec, console: Console) -> PlainView | RichView:
    """The Rich live view on an interactive terminal, plain lines otherwise."""
    if console.is_terminal and not console.is_dumb_terminal:
        return RichView(spec, console)
    return PlainView(spec, console)
