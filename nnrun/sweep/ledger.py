"""The sweep ledger: ``ledger.jsonl``, one JSON object per trial event, append-only.

Only the sweep's own process writes it (it holds the sweep directory's lock); each event is
one whole line, flushed and fsynced, so a killed sweep leaves at most a torn last line, cut
off by `Ledger.repair` before the next append. Event keys:

``time`` (ISO), ``trial`` (id), ``point``, ``repeat``, ``params``, ``seed``,
``status`` (``running`` | ``finished`` | ``failed`` | ``pruned`` | ``interrupted``),
``run_dir`` (relative to
the sweep directory), ``command`` (re-runs the trial alone), and when it ended: ``metric``
(the sweep metric's value), ``final``, ``test``, ``best``, ``epochs``, ``curve`` (the metric
after each epoch), ``wall_time``, ``error``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from nnrun.errors import NnrunError
from nnrun.fileio import append_line, dumps, json_safe

LEDGER_FILE = "ledger.jsonl"
DONE = ("finished", "pruned")  # a trial in one of these states is not run again


class Ledger:
    """Appends events to a sweep directory's ledger."""

    def __init__(self, sweep_dir: Path):
        self.path = Path(sweep_dir) / LEDGER_FILE

    def append(self, event: dict[str, Any]) -> dict[str, Any]:
        """Write one event (a ``time`` is added) durably; returns what was written."""
        record = json_safe({"time": datetime.now().isoformat(timespec="seconds"), **event})
        append_line(self.path, dumps(record) + "\n", sync=True)
        return record

    def read(self) -> list[dict[str, Any]]:
        return read_ledger(self.path)

    def repair(self) -> None:
        """Cut a torn last line (a crash mid-append) so the next event starts a line."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
                handle.flush()
                os.fsync(handle.fileno())


# The keys every event has, and their types: what the runner relies on when resuming.
_EVENT_KEYS = {"trial": str, "point": int, "repeat": int, "params": dict, "status": str}


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every complete event in order; a torn last line is skipped. A complete line that is
    not an event (edited or foreign) is an error naming its line number."""
    if not Path(path).exists():
        return []
    events = []
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith("\n"):
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError as error:
                raise NnrunError(f"{path}, line {number}: not a JSON event ({error})") from None
            problem = _event_problem(event)
            if problem:
                raise NnrunError(f"{path}, line {number}: {problem}; the ledger was edited?")
            events.append(event)
    return events


def _event_problem(event: Any) -> str:
    if not isinstance(event, dict):
        return f"expected a JSON object, found {type(event).__name__}"
    for key, kind in _EVENT_KEYS.items():
        value = event.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{key!r} must be {kind.__name__}, found {value!r}"
    return ""


def latest_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each trial's last event, by trial id, in the order trials first appeared."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        latest[event["trial"]] = event
    return latest
