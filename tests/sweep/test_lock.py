"""One sweep per sweep directory: a second one is refused naming the holder's PID, and a
sweep that fails validation creates nothing (issue 12, root causes 3 and 12)."""

from __future__ import annotations

import subprocess
import sys

from tests.cli.conftest import ROOT, invoke

SWEEP = "method: grid\nmetric: {name: val_loss}\nparameters:\n  optimizer.lr: {values: [0.01]}\n"


def test_a_second_sweep_on_a_locked_directory_is_refused(write_sweep, tmp_path):
    sweep = write_sweep(SWEEP)
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from nnrun import locking; locking.acquire(sys.argv[1]); "
                "print('held', flush=True); time.sleep(60)"
            ),
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = invoke("sweep", sweep, "--out", out)
        assert result.exit_code == 2, result.output
        assert f"PID {holder.pid}" in result.output
        assert not (out / "ledger.jsonl").exists() and not (out / "sweep.yaml").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_sweep_whose_base_does_not_fit_creates_no_directory(write_sweep, tmp_path):
    body = SWEEP.replace("optimizer.lr", "optimizer.nope") + f"output_dir: {tmp_path / 'sweeps'}\n"
    result = invoke("sweep", write_sweep(body))
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "sweeps").exists()
