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


def start_sweep(base_config: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path, list[int]]:
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # two trials running: both workers exist
        events = read_ledger(out / "ledger.jsonl")
        workers = [p for p in children(process.pid) if alive(p)]
        if sum(e["status"] == "running" for e in events) >= 2 and len(workers) >= 2:
            return process, out, workers
        time.sleep(0.1)
    process.kill()
    pytest.fail("the sweep did not start two trials in time: " + process.communicate()[0])


def wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def test_workers_exit_promptly_when_the_sweep_is_killed(base_config, tmp_path):
    process, _, workers = start_sweep(base_config, tmp_path)
    process.kill()
    process.wait()
    left = wait_gone([p for p in workers if p != process.pid])
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived the killed sweep"


def test_sigterm_stops_the_sweep_like_ctrl_c(base_config, tmp_path):
    process, out, workers = start_sweep(base_config, tmp_path)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 143, output
    assert "Traceback" not in output and "nnrun sweep --resume" in output
    assert not wait_gone(workers)
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
