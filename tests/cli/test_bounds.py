"""Empty and out-of-range numbers on the command line and in configs are usage errors, exit 2
(issue 12, root cause 8)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import invoke


@pytest.mark.parametrize("batch", ["0", "-3"])
def test_gradcheck_refuses_an_empty_or_negative_batch(tiny, batch):
    result = invoke("gradcheck", tiny, "--batch", batch)
    assert result.exit_code == 2 and "--batch" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "RUN", "--batch-size", "0"],
        ["predict", "RUN", "x.csv", "--batch-size", "0"],
        ["predict", "RUN", "--generate", "-5"],
        ["predict", "RUN", "--generate", "5", "--temperature", "nan"],
        ["predict", "RUN", "--generate", "5", "--temperature", "inf"],
        ["train", "CONFIG", "--seed", "-1"],
    ],
)
def test_out_of_range_options_are_usage_errors(tiny, tmp_path, args):
    args = [str(tiny) if a == "CONFIG" else str(tmp_path) if a == "RUN" else a for a in args]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{args[-2]}'" in result.output, result.output


def test_a_negative_seed_in_the_config_is_refused(tiny):
    result = invoke("validate", tiny, "--set", "seed=-1")
    assert result.exit_code == 2 and "seed" in result.output


@pytest.mark.parametrize("bound", [".nan", ".inf", "-.inf", "1e400"])
def test_sweep_bounds_must_be_finite(tiny, tmp_path, bound):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        f"base: {tiny.name}\nmethod: random\nrun_cap: 2\nmetric: {{name: val_loss}}\n"
        f"parameters:\n  optimizer.lr: {{distribution: uniform, min: 0.001, max: {bound}}}\n"
    )
    result = invoke("sweep", sweep, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "finite" in result.output
    assert not (tmp_path / "out").exists()  # a sweep that fails validation creates nothing
