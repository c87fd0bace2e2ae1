"""Atomic writes and strict JSON."""

import json
import math

import numpy as np
import pytest

from nnrun.fileio import append_line, dumps, write_json_atomic


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
