"""Search spaces: grid expansion, seeded sampling, run_cap, repeats and trial seeds."""

from __future__ import annotations

import math

from nnrun.config.loader import parse_text
from nnrun.sweep.space import (
    Param,
    as_override,
    grid_points,
    make_trials,
    random_points,
    trial_seed,
)


def test_grid_is_the_product_with_the_first_parameter_slowest():
    params = [
        Param("optimizer.lr", "categorical", (0.1, 0.01)),
        Param("model.layers.0.units", "categorical", (8, 16, 32)),
        Param("train.epochs", "constant", (2,)),
    ]
    points = grid_points(params)
    assert len(points) == 6
    assert points[0] == {"optimizer.lr": 0.1, "model.layers.0.units": 8, "train.epochs": 2}
    assert [p["model.layers.0.units"] for p in points[:3]] == [8, 16, 32]
    assert [p["optimizer.lr"] for p in points] == [0.1] * 3 + [0.01] * 3


def test_random_points_are_reproducible_and_stable_when_run_cap_grows():
    params = [
        Param("lr", "log_uniform", args={"min": 1e-5, "max": 1e-1}),
        Param("units", "int_uniform", args={"min": 4, "max": 9}),
        Param("wd", "q_uniform", args={"min": 0.0, "max": 1.0, "q": 0.25}),
        Param("act", "categorical", ("relu", "tanh")),
        Param("noise", "normal", args={"mu": 1.0, "sigma": 0.1}),
    ]
    first = random_points(params, 20, seed=3)
    assert first == random_points(params, 20, seed=3)
    assert random_points(params, 50, seed=3)[:20] == first
    assert random_points(params, 20, seed=4) != first
    for point in first:
        assert 1e-5 <= point["lr"] <= 1e-1
        assert isinstance(point["units"], int) and 4 <= point["units"] <= 9
        assert point["wd"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert point["act"] in ("relu", "tanh")
    # log_uniform spreads over decades rather than piling up near max
    decades = {math.floor(math.log10(p["lr"])) for p in random_points(params, 200, seed=0)}
    assert decades == {-5, -4, -3, -2}


def test_trial_seed_depends_on_parameters_repeat_and_sweep_seed_only():
    params = {"optimizer.lr": 0.01, "model.layers.0.units": 64}
    reordered = {"model.layers.0.units": 64, "optimizer.lr": 0.01}
    seed = trial_seed(params, 0, 0)
    assert seed == trial_seed(reordered, 0, 0)
    assert 0 <= seed < 2**31
    assert (
        len(
            {
                seed,
                trial_seed(params, 1, 0),
                trial_seed(params, 0, 1),
                trial_seed({**params, "optimizer.lr": 0.02}, 0, 0),
            }
        )
        == 4
    )


def test_repeats_give_one_trial_per_seed():
    trials = make_trials(3, {"lr": 0.1}, repeats=3, sweep_seed=0)
    assert [t.id for t in trials] == ["0003-r0", "0003-r1", "0003-r2"]
    assert len({t.seed for t in trials}) == 3


def test_overrides_read_back_as_the_same_value():
    for value in (
        0.001,
        1e-6,
        64,
        True,
        "relu",
        "1e-3",
        "yes",
        [16, 32],
        {"type": "sgd", "lr": 0.1},
    ):
        key, _, text = as_override("a.b", value).partition("=")
        assert key == "a.b"
        assert parse_text(text, "--set").data == value
