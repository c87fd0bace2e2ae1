"""Training progress reporters: a Rich live display, plain lines, JSON lines, or quiet.

The training loop drives one `Reporter`::

    start(info) → (epoch_start(e) → batch_end(...)* → epoch_end(row))* → end(summary)

with `message(text, style)` for warnings at any point. `end` must be called (in a
``finally``) so the live display gives the terminal back.

The `summary` passed to `end` (and written as ``summary.json``, which `nnrun runs` reads)
is a dict with these keys, all optional:

- ``status``: "finished", "stopped" (early stopping), "interrupted" or "failed"
- ``run_dir``: the run directory; ``name``: the config name; ``started``: ISO time
- ``epochs``: epochs completed; ``wall_time``: seconds
- ``best``: ``{"metric": "val_accuracy", "value": 0.97, "epoch": 7}``
- ``final``: last epoch's values by key (``train_loss``, ``val_accuracy``, ...)
- ``test``: test-split values by key (``test_loss``, ``test_accuracy``, ...)
- ``error``: one line saying why a failed run failed (in summary.json and the JSON end
  event; the command prints it as its error message)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.table import Column, Table
from rich.text import Text

from nnrun.fileio import dumps, json_safe
from nnrun.markup import make_console

ReporterMode = Literal["auto", "rich", "plain", "json", "quiet"]

# Message styles the loop may name; anything else is passed to Rich as a style string.
_MESSAGE_STYLES = {"warning": "yellow", "error": "bold red", "note": "dim", "info": ""}
_STATUS_STYLES = {
    "finished": "green",
    "stopped": "green",
    "interrupted": "yellow",
    "failed": "bold red",
    "running": "cyan",
}


@dataclass(frozen=True)
class RunInfo:
    """What the reporter shows when a run starts.

    `batches_per_epoch` / `samples_per_epoch` are None for data of unknown length;
    `resumed_from_epoch` is the last completed epoch of a resumed run (0 for a new run);
    `metrics` are the metric keys reported per batch and epoch (``accuracy``, ...).
    """

    run_dir: Path
    config_name: str
    epochs: int
    batches_per_epoch: int | None
    samples_per_epoch: int | None
    parameters: int
    resumed_from_epoch: int = 0
    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch: mean train loss/metrics, validation ones (empty without a
    validation split), learning rate, wall seconds, whether the monitored metric reached a
    new best, and early-stopping patience left (None without early stopping)."""

    epoch: int
    train_loss: float
    train_metrics: dict[str, float] = field(default_factory=dict)
    val_loss: float | None = None
    val_metrics: dict[str, float] = field(default_factory=dict)
    lr: float | None = None
    seconds: float = 0.0
    best: bool = False
    patience_left: int | None = None

    def values(self) -> dict[str, float | None]:
        """Loss and metric values keyed as in metrics.csv columns with a split prefix:
        ``train_loss``, ``train_<metric>``, ``val_loss``, ``val_<metric>``."""
        out: dict[str, float | None] = {"train_loss": self.train_loss}
        out.update({f"train_{key}": value for key, value in self.train_metrics.items()})
        if self.val_loss is not None or self.val_metrics:
            out["val_loss"] = self.val_loss
            out.update({f"val_{key}": value for key, value in self.val_metrics.items()})
        return out

    def to_json(self) -> dict[str, Any]:
        """The flat record JSON mode prints; non-finite numbers become null."""
        record: dict[str, Any] = {"event": "epoch", "epoch": self.epoch}
        record.update(self.values())
        record.update(lr=self.lr, seconds=self.seconds, best=self.best)
        if self.patience_left is not None:
            record["patience_left"] = self.patience_left
        return json_safe(record)


class Reporter(Protocol):
    """Receives training progress from the loop; see the module docstring for the order."""

    def start(self, info: RunInfo) -> None: ...

    def epoch_start(self, epoch: int) -> None: ...

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        """`batch` is 1-based within the epoch; `loss`/`metrics` are running means."""

    def epoch_end(self, row: EpochRow) -> None: ...

    def message(self, text: str, style: str = "") -> None: ...

    def end(self, summary: dict[str, Any]) -> None: ...


def make_reporter(mode: ReporterMode = "auto", console: Console | None = None) -> Reporter:
    """The reporter for `mode`; "auto" is the Rich live display when `console` (default:
    stdout) is an interactive terminal, plain lines otherwise. "quiet" prints only the
    start and end lines and messages."""
    console = console or make_console()
    if mode == "auto":
        mode = "rich" if console.is_terminal and not console.is_dumb_terminal else "plain"
    if mode == "rich":
        return RichReporter(console)
    if mode == "plain":
        return PlainReporter(console)
    if mode == "quiet":
        return PlainReporter(console, per_epoch=False)
    if mode == "json":
        return JsonReporter(console)
    raise ValueError(f"unknown reporter mode {mode!r}: expected auto, rich, plain, json or quiet")


# ---------------------------------------------------------------- formatting


def format_value(value: float | None) -> str:
    """A loss or metric in at most ~10 characters: 4 decimals, scientific when tiny/huge."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    return f"{value:.4f}"


def format_lr(lr: float | None) -> str:
    return "-" if lr is None else f"{lr:.2e}"


def format_duration(seconds: float | None) -> str:
    """``85ms``, ``1.23s``, ``12.3s``, ``2m03s`` or ``1h02m``: three significant digits
    below a minute, so fast epochs still show how long they took."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 9.995:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _start_lines(info: RunInfo) -> list[str]:
    """The start announcement: run path first, then the run's size."""
    parts = [info.config_name, f"{info.epochs} epochs"]
    if info.batches_per_epoch is not None:
        parts.append(f"{info.batches_per_epoch:,} batches/epoch")
    if info.samples_per_epoch is not None:
        parts.append(f"{info.samples_per_epoch:,} samples/epoch")
    parts.append(f"{info.parameters:,} parameters")
    lines = [f"run {info.run_dir}", "    " + ", ".join(parts)]
    if info.resumed_from_epoch:
        lines.append(f"    resuming after epoch {info.resumed_from_epoch}")
    return lines


def _end_lines(summary: dict[str, Any]) -> list[str]:
    """The end announcement: status and duration, best/test values, run path last."""
    status = summary.get("status", "finished")
    head = status
    if summary.get("epochs") is not None:
        head += f" after {summary['epochs']} epochs"
    if summary.get("wall_time") is not None:
        head += f" in {format_duration(summary['wall_time'])}"
    # The error itself is not repeated: the command prints it once, as every error.
    lines = [head]
    best = summary.get("best")
    if best and best.get("metric") and best.get("value") is not None:
        epoch = f" (epoch {best['epoch']})" if best.get("epoch") is not None else ""
        lines.append(f"    best {best['metric']} {format_value(best.get('value'))}{epoch}")
    if summary.get("test"):
        lines.append("    " + _pairs(summary["test"]))
    if summary.get("run_dir"):
        lines.append(f"run {summary['run_dir']}")
    return lines


def _message(text: str, style: str) -> tuple[str, str]:
    """A message line (``warning: ...`` for warnings and errors) and its Rich style."""
    prefix = f"{style}: " if style in ("warning", "error") else ""
    return prefix + text, _MESSAGE_STYLES.get(style, style)


def _pairs(values: dict[str, float | None]) -> str:
    return "  ".join(f"{key} {format_value(value)}" for key, value in values.items())


# ---------------------------------------------------------------- plain and quiet


class PlainReporter:
    """One line per epoch, for CI logs and pipes; `per_epoch=False` is ``--quiet``."""

    def __init__(self, console: Console, per_epoch: bool = True):
        self.console = console
        self.per_epoch = per_epoch
        self.epochs = 0

    def _line(self, text: str, style: str = "") -> None:
        self.console.out(text, style=style or None, highlight=False)

    def start(self, info: RunInfo) -> None:
        self.epochs = info.epochs
        for line in _start_lines(info):
            self._line(line)

    def epoch_start(self, epoch: int) -> None:
        pass

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        pass

    def epoch_end(self, row: EpochRow) -> None:
        if not self.per_epoch:
            return
        parts = [f"epoch {row.epoch}/{self.epochs}", _pairs(row.values())]
        if row.lr is not None:
            parts.append(f"lr {format_lr(row.lr)}")
        parts.append(format_duration(row.seconds))
        if row.best:
            parts.append("*best")
        elif row.patience_left is not None:
            parts.append(f"patience {row.patience_left} left")
        self._line("  ".join(parts))

    def message(self, text: str, style: str = "") -> None:
        self._line(*_message(text, style))

    def end(self, summary: dict[str, Any]) -> None:
        for line in _end_lines(summary):
            self._line(line)


# ---------------------------------------------------------------- JSON lines


class JsonReporter:
    """Exactly one JSON object per epoch on `console` and a final ``{"event": "end", ...}``;
    the start announcement and messages go to `err_console` (default: stderr)."""

    def __init__(self, console: Console, err_console: Console | None = None):
        self.console = console
        self.err_console = err_console or make_console(stderr=True)

    def _emit(self, record: dict[str, Any]) -> None:
        self.console.out(dumps(record), highlight=False)

    def start(self, info: RunInfo) -> None:
        for line in _start_lines(info):
            self.err_console.out(line, highlight=False)

    def epoch_start(self, epoch: int) -> None:
        pass

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        pass

    def epoch_end(self, row: EpochRow) -> None:
        self._emit(row.to_json())

    def message(self, text: str, style: str = "") -> None:
        line, rich_style = _message(text, style)
        self.err_console.out(line, style=rich_style or None, highlight=False)

    def end(self, summary: dict[str, Any]) -> None:
        self._emit({"event": "end", **summary})


# ---------------------------------------------------------------- Rich live display


class _LiveValues(ProgressColumn):
    """The right-hand text of a bar, formatted at render time (a few times a second) so
    `batch_end` only stores numbers: running loss, metrics and samples/s on the batch bar,
    elapsed time on the epoch bar. Cut with an ellipsis rather than wrapped or squeezing
    the bars when the terminal is narrow."""

    def __init__(self, console: Console, used_width: int):
        super().__init__()
        self.console = console
        self.used_width = used_width

    def get_table_column(self) -> Column:
        width = max(self.console.width - self.used_width, 8)
        return Column(no_wrap=True, overflow="ellipsis", max_width=width)

    def render(self, task: Task) -> Text:
        if task.fields.get("kind") == "epoch":
            return Text(f"elapsed {format_duration(task.elapsed)}", style="dim")
        loss = task.fields.get("loss")
        if loss is None:
            return Text("")
        parts = [f"loss {format_value(loss)}"]
        parts += [f"{key} {format_value(v)}" for key, v in task.fields["metrics"].items()]
        if task.elapsed:
            parts.append(f"{task.fields['samples'] / task.elapsed:,.0f} samples/s")
        return Text(" ".join(parts), style="cyan")


class _Count(ProgressColumn):
    def __init__(self):
        super().__init__(table_column=Column(justify="right", no_wrap=True))

    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else f"{int(task.total)}"
        return Text(f"{int(task.completed):>{len(total)}}/{total}", style="progress.download")


class _Eta(ProgressColumn):
    """Time left: of this epoch on the batch bar, of the whole run on the epoch bar."""

    def __init__(self, run_eta: Callable[[], float | None]):
        super().__init__(table_column=Column(no_wrap=True))
        self.run_eta = run_eta

    def render(self, task: Task) -> Text:
        seconds = self.run_eta() if task.fields.get("kind") == "epoch" else task.time_remaining
        if seconds is None:
            return Text("eta -:--:--", style="dim")
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"eta {hours}:{minutes:02d}:{secs:02d}", style="progress.remaining")


class RichReporter:
    """Epoch and batch progress bars in a live display, with one table row per epoch
    printed above them. `batch_end` only updates the batch task's numbers; Rich redraws
    from its own thread at most `refresh_per_second` times a second."""

    shows_batch_metrics = True  # the loop computes a running accuracy only for this view
    _epoch_task: TaskID  # the two progress bars, added by start()
    _batch_task: TaskID

    def __init__(self, console: Console, refresh_per_second: float = 5):
        self.console = console
        # Widths before the values column: 11 + 16 + 7 ("469/469") + 11 + 4 separators.
        self.progress = Progress(
            TextColumn("{task.description}", table_column=Column(width=11, no_wrap=True)),
            BarColumn(bar_width=16),
            _Count(),
            _Eta(self._run_eta),
            _LiveValues(console, used_width=49),
            console=console,
            transient=True,
            refresh_per_second=refresh_per_second,
        )
        self.info: RunInfo | None = None
        self._columns: list[str] | None = None
        self._epoch_samples = 0
        self._session_start = 0.0
        self._epochs_this_session = 0

    def start(self, info: RunInfo) -> None:
        self.info = info
        lines = _start_lines(info)
        self.console.print(Text(lines[0], style="bold"), soft_wrap=True)
        for line in lines[1:]:
            self.console.print(Text(line, style="dim"), soft_wrap=True)
        self._epoch_task = self.progress.add_task(
            "epochs", total=info.epochs, completed=info.resumed_from_epoch, kind="epoch"
        )
        self._batch_task = self.progress.add_task(
            "", total=info.batches_per_epoch, start=False, kind="batch"
        )
        self._session_start = time.monotonic()
        self.progress.start()

    def _started(self) -> RunInfo:
        assert self.info is not None, "start() comes first"
        return self.info

    def _run_eta(self) -> float | None:
        """Seconds left in the run, from this session's pace (resumed epochs excluded)."""
        info = self._started()
        elapsed = time.monotonic() - self._session_start
        batch_task = self.progress.tasks[self._batch_task]
        epochs_left = info.epochs - info.resumed_from_epoch - self._epochs_this_session
        if info.batches_per_epoch:
            per_epoch = info.batches_per_epoch
            done = self._epochs_this_session * per_epoch + batch_task.completed
            left = epochs_left * per_epoch - batch_task.completed
        else:
            done, left = self._epochs_this_session, epochs_left
        return elapsed / done * left if done else None

    def epoch_start(self, epoch: int) -> None:
        self._epoch_samples = 0
        self.progress.update(
            self._epoch_task, description=f"epoch {epoch}/{self._started().epochs}"
        )
        self.progress.reset(
            self._batch_task,
            total=self._started().batches_per_epoch,
            start=True,
            loss=None,
            metrics={},
            samples=0,
        )

    def batch_end(self, batch: int, loss: float, metrics: dict[str, float], samples: int) -> None:
        self._epoch_samples += samples
        # A copy: the render thread iterates the dict while the loop may refill its own.
        self.progress.update(
            self._batch_task,
            completed=batch,
            loss=loss,
            metrics=dict(metrics),
            samples=self._epoch_samples,
        )

    def epoch_end(self, row: EpochRow) -> None:
        values = row.values()
        if self._columns is None:
            self._columns = list(values)
            self.progress.console.print(self._table(header=True))
        table = self._table(header=False)
        cells: list[str | Text] = [f"{row.epoch}/{self._started().epochs}"]
        cells += [format_value(values.get(key)) for key in self._columns]
        cells += [format_lr(row.lr), format_duration(row.seconds)]
        if row.best:
            cells.append(Text("★", style="bold yellow"))
        elif row.patience_left is not None:
            cells.append(Text(f"{row.patience_left} left", style="dim"))
        else:
            cells.append("")
        table.add_row(*cells)
        self.progress.console.print(table)
        self._epochs_this_session += 1
        self.progress.advance(self._epoch_task)

    def _table(self, header: bool) -> Table:
        """A borderless table with fixed column widths, so separately printed rows align.

        Headers take two lines, the split above the first column of its group
        (``train`` over ``loss``), to keep 4 value columns within 80 characters."""
        epoch_width = max(5, 2 * len(str(self._started().epochs)) + 1)
        columns = [Column("\nepoch", width=epoch_width, justify="right")]
        previous_split = None
        for key in self._columns or ():
            split, _, name = key.partition("_")
            title = f"{split if split != previous_split else ''}\n{name}"
            previous_split = split
            columns.append(Column(title, width=max(len(name), 10), justify="right"))
        columns += [
            Column("\nlr", width=8, justify="right"),
            Column("\ntime", width=6, justify="right"),
            Column("", width=6),
        ]
        return Table(
            *columns,
            box=None,
            show_header=header,
            header_style="bold",
            padding=(0, 1),
            pad_edge=False,
        )

    def message(self, text: str, style: str = "") -> None:
        self.progress.console.print(Text(*_message(text, style)), soft_wrap=True)

    def end(self, summary: dict[str, Any]) -> None:
        self.progress.stop()
        lines = _end_lines(summary)
        status = summary.get("status", "finished")
        self.console.print(Text(lines[0], style=_STATUS_STYLES.get(status, "")), soft_wrap=True)
        for line in lines[1:]:
            style = "bold" if line.startswith("run ") else ""
            self.console.print(Text(line, style=style), soft_wrap=True)
