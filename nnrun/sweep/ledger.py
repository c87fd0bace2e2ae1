"""The sweep ledger: ``ledger.jsonl``, one JSON object per trial event, append-only.

Only the sweep's own process writes it; each event is one whole line, flushed and fsynced,
so a killed sweep leaves at most a torn last line (ignored when read). Event keys:

``time`` (ISO), ``trial`` (id), ``point``, ``repeat``, ``params``, ``seed``,
``status`` (``running`` | ``finished`` | ``failed`` | ``pruned``), ``run_dir`` (relative to
the sweep directory), ``command`` (re-runs the trial alone), and when it ended: ``metric``
(the sweep metric's value), ``final``, ``test``, ``best``, ``epochs``, ``curve`` (the metric
after each epoch), ``wall_time``, ``error``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

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


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every complete event in order; a torn or unreadable last line is skipped."""
    if not Path(path).exists():
        return []
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def latest_events(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each trial's last event, by trial id, in the order trials first appeared."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        latest[event["trial"]] = event
    return latest
