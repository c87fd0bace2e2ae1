"""Small inputs that would expand without bound are refused quickly (issue 12, root cause 4)
and sizes are checked before allocating (root cause 8)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.errors import ConfigError, DataError, NnrunError
from nnrun.experiment import build_experiment, resolve
from nnrun.limits import LimitExceeded, check_allocation, read_bounded
from nnrun.sweep.space import Param, grid_points
from nnrun.sweep.spec import load_sweep

TINY = """\
name: tiny
data: {dataset: iris, batch_size: 32}
model: {layers: [{type: linear, units: 3}]}
"""


def quickly(action) -> Exception:
    """Run `action`, which must raise an nnrun error within a second; return the error."""
    started = time.monotonic()
    with pytest.raises(NnrunError) as error:
        action()
    assert time.monotonic() - started < 1.0
    return error.value


def test_references_that_double_a_string_forty_times_are_refused(tmp_path):
    lines = ["a0: x"] + [f"a{i}: ${{a{i - 1}}}${{a{i - 1}}}" for i in range(1, 41)]
    path = tmp_path / "bomb.yaml"
    path.write_text(TINY + "\n".join(lines) + "\n")
    error = quickly(lambda: resolve_config(path))
    assert "characters" in str(error)


def test_a_diamond_of_extends_files_is_read_once_each(tmp_path):
    (tmp_path / "f0.yaml").write_text(TINY)
    for i in range(1, 31):
        (tmp_path / f"f{i}.yaml").write_text(
            f"extends: [f{i - 1}.yaml, f{i - 1}.yaml]\nk{i}: {i}\n"
        )
    started = time.monotonic()
    cfg = resolve_config(tmp_path / "f30.yaml")
    assert time.monotonic() - started < 1.0
    assert cfg.data["k1"] == 1 and cfg.data["k30"] == 30


def test_deep_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text(TINY + "x: " + "[" * 200 + "]" * 200 + "\n")
    error = quickly(lambda: resolve_config(path))
    assert "nested too deeply" in str(error)


def test_a_device_file_is_refused_as_a_config_and_as_data(tmp_path):
    error = quickly(lambda: resolve_config(Path("/dev/zero")))
    assert "regular file" in str(error)
    path = tmp_path / "c.yaml"
    path.write_text(TINY.replace("dataset: iris", "path: /dev/zero, format: csv"))
    error = quickly(lambda: build_experiment(resolve(path)))
    assert isinstance(error, DataError) and "regular file" in str(error)


def test_an_oversized_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as handle:
        handle.truncate(64 << 20)  # sparse: 64 MiB of nothing
    error = quickly(lambda: resolve_config(path))
    assert "bytes" in str(error)
    with pytest.raises(LimitExceeded):
        read_bounded(path, 1024)


def test_a_huge_grid_with_a_small_run_cap_is_enumerated_lazily(tmp_path):
    params = [Param(f"p{i}", "categorical", tuple(range(199))) for i in range(7)]
    started = time.monotonic()
    assert len(grid_points(params, 2)) == 2
    assert time.monotonic() - started < 1.0


def test_a_huge_grid_without_run_cap_is_refused_at_validation(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    values = "{values: [" + ", ".join(str(v) for v in range(199)) + "]}"
    body = "\n".join(f"  p{i}: {values}" for i in range(7))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        f"base: tiny.yaml\nmethod: grid\nmetric: {{name: val_loss}}\nparameters:\n{body}\n"
    )
    error = quickly(lambda: load_sweep(sweep))
    assert isinstance(error, ConfigError) and "run_cap" in str(error)


@pytest.mark.parametrize(
    "override, needle",
    [
        ("model.layers.0.units=1000000000000", "TiB"),
        ("data={dataset: xor, params: {n_samples: 100000000000}}", "n_samples"),
    ],
)
def test_sizes_are_refused_before_allocating_with_the_memory_needed(tmp_path, override, needle):
    path = tmp_path / "c.yaml"
    path.write_text(TINY)
    error = quickly(lambda: build_experiment(resolve(path, [override])))
    assert needle in str(error) and "memory" in str(error)


def test_check_allocation_names_the_size():
    check_allocation(1000, 8, "small")
    with pytest.raises(LimitExceeded, match=r"GiB|TiB"):
        check_allocation(10**12, 8, "huge")


def test_an_integer_beyond_float_range_is_refused_at_its_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TINY + "optimizer: {type: adam, lr: 1" + "0" * 400 + "}\n")
    error = quickly(lambda: build_experiment(resolve(path)))
    assert "c.yaml:4:" in str(error) and "number too large" in str(error)
