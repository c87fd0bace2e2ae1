"""Random SIGKILLs during `train` and `sweep` (seeded): afterwards every checkpoint that
`last`/`best` point to loads, resuming completes, and no process of the killed command is
left (issue 12). Tiny configs keep the whole test around a minute on 2 cores."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from nnrun.checkpoint import CheckpointManager
from nnrun.sweep.ledger import read_ledger
from tests.cli.conftest import command, environment, invoke
from tests.conftest import TINY

KILLS = 10
SWEEP = """\
base: tiny.yaml
method: grid
metric: {name: val_loss}
workers: 2
parameters:
  optimizer.lr: {values: [0.01, 0.03]}
  train.epochs: {value: 15}
"""


def session_members(session: int) -> list[int]:
    """Live processes of session `session` (the killed command and anything it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def kill_after(args: list, delay: float, cwd: Path, started: Path | None = None) -> None:
    """Start `nnrun ARGS` in its own session and SIGKILL it `delay` seconds after it starts
    (or, with `started`, after that file appears: the work has begun, whatever the speed
    of the machine); check that nothing of its session outlives it."""
    process = subprocess.Popen(
        command(*args),
        cwd=cwd,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while started is not None and not started.exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the command never started its work"
        time.sleep(0.01)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 30  # generous: a worker may still be starting on a busy CI
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {pid: command_line(pid) for pid in session_members(process.pid)}
    assert not left, f"processes of the killed command are left: {left}"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def assert_tagged_checkpoints_load(checkpoints: Path) -> None:
    manager = CheckpointManager(checkpoints)
    for tag in ("last", "best"):
        if (checkpoints / tag).is_symlink():
            manager.load(tag)  # raises on a missing, torn or mixed checkpoint


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY.replace("epochs: 2", "epochs: 400"))
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    return tmp_path


def test_random_kills_during_train_lose_nothing_and_resume_completes(tiny_dir):
    rng = random.Random(12)
    for kill in range(KILLS):
        run = tiny_dir / f"run{kill}"
        # Odd kills land anywhere from start-up on; even ones while epochs are being saved.
        started = None if kill % 2 else run / "metrics.jsonl"
        delay = rng.uniform(0.2, 2.5) if kill % 2 else rng.uniform(0.0, 0.6)
        kill_after(["train", "tiny.yaml", "--out", run, "--quiet"], delay, tiny_dir, started)
        assert_tagged_checkpoints_load(run / "checkpoints")
        if (run / "config.yaml").exists():  # two more epochs than saved: a quick resume
            manager = CheckpointManager(run / "checkpoints")
            done = manager.load("last").metadata.epoch if manager.exists("last") else 0
            epochs = f"train.epochs={done + 2}"
            result = invoke("train", "--resume", run, "--quiet", "--set", epochs)
        else:  # killed before the run directory held anything
            result = invoke("train", tiny_dir / "tiny.yaml", "--out", run, "--quiet")
        assert result.exit_code == 0, result.output
        assert_tagged_checkpoints_load(run / "checkpoints")


def test_random_kills_during_sweep_lose_nothing_and_resume_completes(tiny_dir):
    rng = random.Random(34)
    for kill in range(KILLS):
        out = tiny_dir / f"sweep{kill}"
        started = None if kill % 2 else out / "trials" / "0000-r0" / "metrics.jsonl"
        delay = rng.uniform(0.3, 4.0) if kill % 2 else rng.uniform(0.0, 0.4)
        kill_after(["sweep", "sweep.yaml", "--out", out], delay, tiny_dir, started)
        read_ledger(out / "ledger.jsonl")  # readable, whatever the kill tore
        for trial in sorted((out / "trials").glob("*")):
            assert_tagged_checkpoints_load(trial / "checkpoints")
        result = invoke("sweep", tiny_dir / "sweep.yaml", "--out", out, "--workers", "2")
        assert result.exit_code == 0, result.output
        last = {e["trial"]: e for e in read_ledger(out / "ledger.jsonl")}
        assert sorted(e["status"] for e in last.values()) == ["finished", "finished"], last
