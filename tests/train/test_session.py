"""Resuming and restarting runs: validate everything, commit last, one process per run
(issue 12, root causes 2, 3, 9 and 10)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from safetensors.numpy import load_file, save_file

from nnrun import locking
from nnrun.errors import ArgumentError, CheckpointError, ConfigError
from nnrun.experiment import build_experiment, resolve
from nnrun.train.display import make_reporter
from nnrun.train.loop import Trainer
from nnrun.train.session import resume_run, start_run

ROOT = Path(__file__).resolve().parents[2]


def quiet():
    return make_reporter("quiet", Console(file=io.StringIO()))


def train(config: Path, out: Path, *overrides: str) -> Path:
    exp = build_experiment(resolve(config, list(overrides)))
    run_dir = start_run(exp, out)
    Trainer(exp, run_dir, quiet()).fit()
    return run_dir


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_a_refused_forced_resume_leaves_the_run_exactly_as_it_was(small_config, tmp_path):
    run = train(small_config, tmp_path / "run", "train.epochs=1")
    before = snapshot(run)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        resume_run(run, None, ["model.layers.0.units=32"], force=True, seed=None)
    assert snapshot(run) == before
    exp, _, checkpoint = resume_run(run, None, [], force=False, seed=None)  # still resumable
    Trainer(exp, run, quiet(), resume=checkpoint).fit()


def test_raising_epochs_on_resume_updates_config_and_summary_together(small_config, tmp_path):
    run = train(small_config, tmp_path / "run", "train.epochs=1")
    resume_run(run, None, ["train.epochs=3"], force=False, seed=None)
    assert "epochs: 3" in (run / "config.yaml").read_text()
    assert json.loads((run / "summary.json").read_text())["max_epochs"] == 3


def test_lowering_epochs_below_those_done_is_refused_and_changes_nothing(small_config, tmp_path):
    run = train(small_config, tmp_path / "run", "train.epochs=2")
    before = snapshot(run)
    with pytest.raises(ConfigError, match="already trained 2 epochs"):
        resume_run(run, None, ["train.epochs=1"], force=False, seed=None)
    assert snapshot(run) == before


def test_a_run_killed_before_its_first_checkpoint_restarts_in_place(small_config, tmp_path):
    exp = build_experiment(resolve(small_config))
    run = start_run(exp, tmp_path / "run")  # as if killed during epoch 1
    (run / "metrics.jsonl").write_text('{"epoch": 1, "split": "train", "loss": 1.0}\n')
    locking.release(run)
    exp, run_dir, checkpoint = resume_run(run, None, [], force=False, seed=None)
    assert checkpoint is None
    summary = Trainer(exp, run_dir, quiet()).fit()
    assert summary["status"] == "finished" and summary["epochs"] == 4
    lines = (run / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line)["epoch"] for line in lines]
    assert epochs == sorted(epochs) and epochs.count(1) == 2  # train + val, once each


def test_corrupt_run_json_is_named_not_a_traceback(small_config, tmp_path):
    run = train(small_config, tmp_path / "run", "train.epochs=1")
    for text in ("\x00\x01garbage", '{"base_dir": 5}', "[]"):
        (run / "run.json").write_text(text)
        with pytest.raises(CheckpointError, match=r"run\.json"):
            resume_run(run, None, [], force=False, seed=None)


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\xff", b"name: x\nseed: 0\n" * 50])
def test_resume_pointed_at_a_file_is_refused_without_echoing_it(tmp_path, content):
    target = tmp_path / "thing"
    target.write_bytes(content)
    with pytest.raises(ArgumentError) as error:
        resume_run(target, None, [], force=False, seed=None)
    assert "not a run directory" in str(error.value) and "seed" not in str(error.value)


def test_weights_of_another_dtype_are_refused(small_config, tmp_path):
    run = train(small_config, tmp_path / "run", "train.epochs=1")
    version = (run / "checkpoints" / "last").resolve()
    weights = {k: v.astype(np.float64) for k, v in load_file(version / "model.safetensors").items()}
    save_file(weights, version / "model.safetensors")
    manifest = json.loads((version / "manifest.json").read_text())
    import hashlib

    data = (version / "model.safetensors").read_bytes()
    manifest["files"]["model.safetensors"] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="float64"):
        resume_run(run, None, [], force=False, seed=None)


def test_a_training_state_of_the_wrong_shape_is_refused_before_any_write(small_config, tmp_path):
    import hashlib

    run = train(small_config, tmp_path / "run", "train.epochs=1")
    version = (run / "checkpoints" / "last").resolve()
    data = b'{"optimizer": [], "rng": 3, "progress": {"epoch": "x"}}'
    (version / "state.json").write_bytes(data)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["files"]["state.json"] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (version / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(run)
    with pytest.raises(CheckpointError, match="training state"):
        resume_run(run, None, ["train.epochs=2"], force=False, seed=None)
    assert snapshot(run) == before


def test_a_second_process_on_the_same_run_is_refused_naming_the_holder(small_config, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from nnrun import locking; locking.acquire(sys.argv[1]); "
                "print('held', flush=True); time.sleep(60)"
            ),
            str(run),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        exp = build_experiment(resolve(small_config))
        with pytest.raises(locking.DirectoryBusy, match=f"PID {holder.pid}"):
            start_run(exp, run)
        assert not (run / "config.yaml").exists()
    finally:
        holder.kill()
        holder.wait()
    start_run(exp, run)  # the kernel dropped the dead holder's lock
    locking.release(run)
