"""I/O failures: one paragraph naming the path and the OS error, exit 2, and the last good
checkpoint still loads (issue 12, root cause 11)."""

from __future__ import annotations

import json
import resource

import pytest

from nnrun.checkpoint import CheckpointManager
from nnrun.train.loop import _last_rows
from tests.cli.conftest import invoke, run_process
from tests.extras import need


def limit_file_size(size: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_full_disk_mid_run_names_the_file_and_keeps_the_last_checkpoint(tiny, tmp_path):
    run = tmp_path / "run"
    result = run_process(
        "train",
        tiny,
        "--out",
        run,
        "--quiet",
        "--set",
        "train.epochs=200",
        preexec_fn=limit_file_size(6000),  # metrics.jsonl outgrows it after some epochs
    )
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stdout
    assert "metrics.jsonl: File too large" in result.stdout
    last = CheckpointManager(run / "checkpoints").load("last")
    assert last.metadata.epoch >= 1
    resumed = run_process("train", "--resume", run, "--quiet", "--set", "train.epochs=5")
    assert resumed.returncode in (0, 2), resumed.stdout  # 2: already past 5 epochs
    assert "Traceback" not in resumed.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["schema", "--out", "DIR"], "Is a directory"),
        (["schema", "--out", "DIR/missing/s.json"], "No such file or directory"),
        (["graph", "CONFIG", "--format", "dot", "--out", "DIR"], "Is a directory"),
        (["train", "CONFIG", "--out", "/proc/nnrun-test/run"], "/proc/nnrun-test"),
        (["train", "CONFIG", "--quiet", "--set", "name=" + "n" * 300], "File name too long"),
    ],
)
def test_unwritable_outputs_are_one_paragraph_naming_the_path(tiny, tmp_path, args, needle):
    args = [str(tiny) if a == "CONFIG" else a.replace("DIR", str(tmp_path)) for a in args]
    if args[0] == "train":
        args += ["--set", f"output_dir={tmp_path}"]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert needle in result.output and "error:" in result.output


def test_a_nul_character_in_a_value_is_refused_at_its_source(tiny):
    result = invoke("train", tiny, "--set", 'name="a\\0b"')
    assert result.exit_code == 2 and "NUL" in result.output


def test_a_torn_last_metrics_line_does_not_break_the_summary(tmp_path):
    rows = [{"epoch": 1, "split": "train", "loss": 0.5}, {"epoch": 1, "split": "val", "loss": 0.7}]
    text = "".join(json.dumps(r) + "\n" for r in rows) + '{"epoch": 2, "split": "tr'
    (tmp_path / "metrics.jsonl").write_text(text)
    assert _last_rows(tmp_path) == {"train": {"loss": 0.5}, "val": {"loss": 0.7}}


@pytest.mark.parametrize("command", ["predict", "export"])
def test_an_out_that_is_a_directory_is_named_for_predict_and_export(tiny, tmp_path, command):
    if command == "export":
        need("onnx")
    run = tmp_path / "run"
    assert invoke("train", tiny, "--out", run, "--quiet").exit_code == 0
    (tmp_path / "in.csv").write_text("5.1,3.5,1.4,0.2\n")
    args = ["predict", run, tmp_path / "in.csv"] if command == "predict" else ["export", run]
    result = invoke(*args, "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert f"cannot use {tmp_path}: Is a directory" in result.output
