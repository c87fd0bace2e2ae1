"""Property-based CLI fuzzing (issue 12): mutated configs and corrupted run directories.

Whatever the input, a command ends with exit 0 (it worked), 2 (one paragraph about the
input) or 3 (a diverged run), never with a traceback. The default example counts keep CI
fast; the `slow` variants explore more."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import invoke
from tests.conftest import TINY


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


BASE = yaml.safe_load(TINY) | {"metrics": ["accuracy"]}
BASE["train"]["epochs"] = 1
SPECIAL: list[Any] = [
    "[/x]",
    ":x: [bold]b[/]",
    "a\0b",
    10**400,
    -(10**400),
    float("inf"),
    float("nan"),
    -1,
    0,
    10**12,
    "",
    None,
    [],
    {},
    True,
    "${data.batch_size}",
    "${nope.nothing}",
    "${name}${name}",
    "x" * 5000,
    {"type": "linear", "units": 3},
    nested(100),
]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a config (mapping keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def parent_of(config: Any, path: tuple) -> tuple[Any, Any]:
    for part in path[:-1]:
        config = config[part]
    return config, path[-1]


def mutate(config: dict, data: st.DataObject) -> dict:
    config = copy.deepcopy(config)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        keys = paths(config)
        if not keys:
            break
        path = data.draw(st.sampled_from(keys), label="path")
        kind = data.draw(st.sampled_from(["delete", "retype", "swap", "special_key"]))
        holder, last = parent_of(config, path)
        if kind == "delete":
            del holder[last]
        elif kind == "retype":
            holder[last] = copy.deepcopy(data.draw(st.sampled_from(SPECIAL), label="value"))
        elif kind == "swap":
            other = data.draw(st.sampled_from(keys), label="other")
            if other[: len(path)] == path or path[: len(other)] == other:
                continue
            other_holder, other_last = parent_of(config, other)
            holder[last], other_holder[other_last] = other_holder[other_last], holder[last]
        elif isinstance(holder, dict):
            key = data.draw(st.sampled_from(["[/x]", ":x:", "extends", "blocks", "share"]))
            holder[key] = copy.deepcopy(data.draw(st.sampled_from(SPECIAL), label="value"))
    return config


def as_yaml(config: dict, data: st.DataObject) -> str:
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=False)
    lines = text.splitlines()
    if lines and data.draw(st.booleans(), label="duplicate a line"):
        index = data.draw(st.integers(0, len(lines) - 1), label="line")
        lines.insert(index, lines[index])
    return "\n".join(lines) + "\n"


def assert_clean(result) -> None:
    assert result.exit_code in (0, 2, 3), result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def fresh_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="nnrun-fuzz-"))


def check_mutated_config(data: st.DataObject) -> None:
    folder = fresh_dir()
    try:
        path = folder / "c.yaml"
        path.write_text(as_yaml(mutate(BASE, data), data))
        command = data.draw(st.sampled_from(["validate", "train", "graph"]), label="command")
        if command == "train":  # epochs fixed so a mutated huge count cannot run for hours
            args = ["train", path, "--out", folder / "run", "--quiet", "--set", "train.epochs=1"]
        else:
            args = [command, path]
        assert_clean(invoke(*args))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(st.data())
def test_mutated_configs_never_crash(data):
    check_mutated_config(data)


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(st.data())
def test_mutated_configs_never_crash_many(data):
    check_mutated_config(data)


# ---------------------------------------------------------------- corrupted run directories


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-run")
    config = folder / "c.yaml"
    config.write_text(yaml.safe_dump(BASE | {"train": {"epochs": 2}}))
    result = invoke("train", config, "--out", folder / "run", "--quiet", "--diagnose")
    assert result.exit_code == 0, result.output
    (folder / "inputs.csv").write_text("5.1,3.5,1.4,0.2\n6.3,2.9,5.6,1.8\n")
    return folder


def run_files(run: Path) -> list[Path]:
    files = [p for p in sorted(run.rglob("*")) if p.name != ".lock"]
    return [p for p in files if p.is_file() or p.is_symlink()]


def corrupt(target: Path, data: st.DataObject, outside: Path) -> None:
    kind = data.draw(
        st.sampled_from(
            ["truncate", "flip", "garbage", "json", "delete", "directory", "device", "outside"]
        ),
        label="corruption",
    )
    content = target.read_bytes() if target.is_file() else b""
    if target.is_symlink() or kind in ("delete", "directory", "device", "outside"):
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    if kind == "truncate":
        target.write_bytes(content[: data.draw(st.integers(0, max(len(content) - 1, 0)))])
    elif kind == "flip" and content:
        index = data.draw(st.integers(0, len(content) - 1))
        target.write_bytes(content[:index] + bytes([content[index] ^ 0xFF]) + content[index + 1 :])
    elif kind == "garbage":
        target.write_bytes(data.draw(st.binary(max_size=64), label="bytes"))
    elif kind == "json":
        text = data.draw(
            st.sampled_from(["[]", '{"a": 1}', "null", '"x"', '{"files": {"../x": 1}}', "1e999"])
        )
        target.write_text(text)
    elif kind == "directory":
        target.mkdir()
    elif kind == "device":
        os.symlink("/dev/zero", target)
    elif kind == "outside":
        os.symlink(outside, target)


def check_corrupted_run(trained: Path, data: st.DataObject) -> None:
    folder = fresh_dir()
    try:
        run = folder / "run"
        shutil.copytree(trained / "run", run, symlinks=True)
        outside = folder / "outside"
        outside.mkdir()
        (outside / "keep").write_text("keep")
        for _ in range(data.draw(st.integers(1, 2), label="corruptions")):
            files = run_files(run)
            names = [str(p.relative_to(run)) for p in files]
            target = run / data.draw(st.sampled_from(names), label="file")
            corrupt(target, data, outside)
        command = data.draw(
            st.sampled_from(["eval", "resume", "runs", "predict", "report", "diagnose"]),
            label="cmd",
        )
        args = {
            "eval": ["eval", run],
            "resume": ["train", "--resume", run, "--quiet", "--set", "train.epochs=3"],
            "runs": ["runs", folder],
            "predict": ["predict", run, trained / "inputs.csv"],
            "report": ["report", run, "--out", folder / "report.html"],
            "diagnose": ["diagnose", run],
        }[command]
        assert_clean(invoke(*args))
        assert (outside / "keep").read_text() == "keep"  # nothing outside the run was touched
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@FUZZ
@given(st.data())
def test_corrupted_run_directories_never_crash(trained_run, data):
    check_corrupted_run(trained_run, data)


@pytest.mark.slow
@settings(FUZZ, max_examples=150)
@given(st.data())
def test_corrupted_run_directories_never_crash_many(trained_run, data):
    check_corrupted_run(trained_run, data)
