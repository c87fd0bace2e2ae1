"""A sweep under SIGKILL and SIGTERM: its workers exit promptly, SIGTERM is handled like
Ctrl-C, and the ledger survives a torn or edited line (issue 12, root cause 12)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from nnrun.errors import NnrunError
from nnrun.sweep.ledger import Ledger, read_ledger
from tests.cli.conftest import command, environment

SWEEP = """\
base: {base}
method: grid
metric: {{name: val_loss}}
workers: 2
parameters:
  optimizer.lr: {{values: [0.01, 0.02, 0.03, 0.04]}}
  train.epochs: {{value: 200}}
"""


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def spawned_worker(pid: int) -> bool:
    """A process-pool worker, not multiprocessing's resource tracker (also a child)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def training(out: Path, trial: str) -> bool:
    """Whether `trial` has logged an epoch: its worker is past start-up, in the loop."""
    metrics = out / "trials" / trial / "metrics.jsonl"
    return metrics.is_file() and metrics.read_text().count("\n") >= 1


def start_sweep(base_config: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path, list[int]]:
    """Start a two-worker sweep and return once two trials are training, with the sweep's
    child processes (both workers and the resource tracker).

    Not earlier: a signal while a trial is being submitted (its `running` event written,
    its worker not yet spawned) leaves that trial `running` in the ledger, and on a loaded
    machine two `running` events and two children (one being the resource tracker) can be
    seen in that window. Two trials with epochs logged leave the sweep in its polling loop,
    ~200 epochs from any trial's end."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP.format(base=base_config.name))
    out = tmp_path / "out"
    process = subprocess.Popen(
        command("sweep", sweep, "--out", out),
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        last = {e["trial"]: e["status"] for e in read_ledger(out / "ledger.jsonl")}
        running = [trial for trial, status in last.items() if status == "running"]
        processes = [p for p in children(process.pid) if alive(p)]
        workers = [p for p in processes if spawned_worker(p)]
        if len(workers) >= 2 and sum(training(out, trial) for trial in running) >= 2:
            return process, out, processes
        time.sleep(0.1)
    process.kill()
    pytest.fail("the sweep did not start two trials in time: " + process.communicate()[0])


def wait_gone(pids: list[int], seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def test_workers_exit_promptly_when_the_sweep_is_killed(base_config, tmp_path):
    process, _, processes = start_sweep(base_config, tmp_path)
    process.kill()
    process.wait()
    left = wait_gone(processes)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived the killed sweep"


def test_sigterm_stops_the_sweep_like_ctrl_c(base_config, tmp_path):
    process, out, processes = start_sweep(base_config, tmp_path)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 143, output
    assert "Traceback" not in output and "nnrun sweep --resume" in output
    assert not wait_gone(processes)
    last = {e["trial"]: e["status"] for e in read_ledger(out / "ledger.jsonl")}
    assert "running" not in last.values() and "interrupted" in last.values()


def test_a_torn_last_ledger_line_is_cut_before_appending(tmp_path):
    ledger = Ledger(tmp_path)
    event = {"trial": "0000-r0", "point": 0, "repeat": 0, "params": {}, "status": "running"}
    ledger.append(event)
    with open(ledger.path, "a") as handle:
        handle.write('{"trial": "0001-r0", "poi')
    ledger.repair()
    ledger.append({**event, "status": "finished"})
    assert [e["status"] for e in read_ledger(ledger.path)] == ["running", "finished"]


@pytest.mark.parametrize("line", ["not json", "[1, 2]", '{"trial": 5, "status": "running"}'])
def test_a_ledger_line_of_the_wrong_shape_names_its_line(tmp_path, line):
    path = tmp_path / "ledger.jsonl"
    good = {"trial": "0000-r0", "point": 0, "repeat": 0, "params": {}, "status": "running"}
    path.write_text(json.dumps(good) + "\n" + line + "\n")
    with pytest.raises(NnrunError, match="line 2"):
        read_ledger(path)
