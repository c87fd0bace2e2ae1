"""Atomic writes and strict JSON."""

import json
import math
import os

import numpy as np
import pytest

from nnrun.fileio import append_line, dumps, fsync_together, write_json_atomic, write_new


def test_write_json_atomic_replaces_whole_file_and_converts_numpy(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"old": True})
    write_json_atomic(path, {"best": np.float32(0.5), "shape": np.array([2, 3]), "dir": tmp_path})
    assert json.loads(path.read_text()) == {"best": 0.5, "shape": [2, 3], "dir": str(tmp_path)}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    with pytest.raises(TypeError, match="set"):
        write_json_atomic(path, {"bad": {1, 2}})
    assert json.loads(path.read_text())["best"] == 0.5  # the failed write changed nothing


def test_dumps_writes_nan_and_inf_as_null_so_strict_parsers_accept_it():
    text = dumps({"loss": float("nan"), "lr": np.float32("inf"), "acc": [1.0, -math.inf]})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) == {
        "loss": None,
        "lr": None,
        "acc": [1.0, None],
    }


def test_append_line_adds_whole_lines(tmp_path):
    path = tmp_path / "log.jsonl"
    append_line(path, dumps({"a": 1}) + "\n", sync=True)
    append_line(path, dumps({"a": 2}) + "\n")
    assert [json.loads(line)["a"] for line in path.read_text().splitlines()] == [1, 2]


def test_fsync_together_syncs_every_path_and_names_a_failure(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in ("a", "b", "c")]
    for path in paths:
        write_new(path, b"x")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: synced.append(os.fstat(fd).st_ino) or real_fsync(fd)
    )
    fsync_together([*paths, tmp_path])
    assert sorted(synced) == sorted(p.stat().st_ino for p in [*paths, tmp_path])
    with pytest.raises(FileNotFoundError) as raised:
        fsync_together([paths[0], tmp_path / "missing"])
    assert raised.value.filename == str(tmp_path / "missing")
