"""Learning-rate schedules against torch.optim.lr_scheduler: recorded numbers, live checks."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from nnrun.errors import ArgumentError, CheckpointError
from nnrun.optim import SGD, Adagrad, Adam
from nnrun.registry import SCHEDULES
from nnrun.schedules import ReduceOnPlateauSchedule, Schedule
from tests.extras import need


def make_optimizer(lr=0.1, momentum=0.9):
    param = SimpleNamespace(data=np.zeros(1), grad=None, requires_grad=True)
    return SGD([param], lr=lr, momentum=momentum)


def lr_sequence(schedule, steps, metrics=None):
    """The lr at construction, then after each of `steps` calls to `step()`."""
    lrs = [schedule.optimizer.param_groups[0]["lr"]]
    for i in range(steps):
        schedule.step(metrics[i]) if metrics else schedule.step()
        lrs.append(schedule.optimizer.param_groups[0]["lr"])
    return lrs


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.5, 0.6, 0.7, 0.8, 0.9]

# (nnrun name, options, epochs, steps_per_epoch, torch scheduler name, torch options) and the lr
# sequence torch 2.13 produced (base lr 0.1), recorded once.
RECORDED = [
    (
        ("step", {"step_size": 3, "gamma": 0.5}, 8, 1),
        ("StepLR", {"step_size": 3, "gamma": 0.5}),
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025],
    ),
    (
        ("multistep", {"milestones": [5, 2], "gamma": 0.1}, 7, 1),
        ("MultiStepLR", {"milestones": [2, 5], "gamma": 0.1}),
        [0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001],
    ),
    (
        ("exponential", {"gamma": 0.9}, 5, 1),
        ("ExponentialLR", {"gamma": 0.9}),
        [0.1, 0.09, 0.081, 0.0729, 0.06561, 0.059049],
    ),
    (
        ("cosine", {"eta_min": 0.001}, 3, 4),
        ("CosineAnnealingLR", {"T_max": 12, "eta_min": 0.001}),
        [
            0.1,
            0.09831332840130888,
            0.09336825748732973,
            0.0855017856687341,
            0.07525,
            0.06331154273257479,
            0.0505,
            0.037688457267425236,
            0.025750000000000016,
            0.015498214331265903,
            0.007631742512670285,
            0.0026866715986911243,
            0.001,
        ],
    ),
    (
        ("one_cycle", {"max_lr": 0.1}, 2, 5),
        ("OneCycleLR", {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": 5}),
        [
            0.004,
            0.052,
            0.1,
            0.09504846320134738,
            0.0811745653949763,
            0.06112620219362893,
            0.03887419780637107,
            0.0188258346050237,
            0.004951936798652629,
            4e-07,
        ],
    ),
    (
        (
            "one_cycle",
            {"max_lr": 0.1, "three_phase": True, "anneal_strategy": "linear", "pct_start": 0.25},
            2,
            5,
        ),
        (
            "OneCycleLR",
            {
                "max_lr": 0.1,
                "epochs": 2,
                "steps_per_epoch": 5,
                "three_phase": True,
                "anneal_strategy": "linear",
                "pct_start": 0.25,
            },
        ),
        [0.004, 0.068, 0.068, 0.004, 0.0033334, 0.0026668, 0.0020002, 0.0013336, 0.000667, 4e-07],
    ),
    (
        ("reduce_on_plateau", {"factor": 0.5, "patience": 1, "cooldown": 1}, 12, 1),
        ("ReduceLROnPlateau", {"factor": 0.5, "patience": 1, "cooldown": 1}),
        [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125],
    ),
    (
        (
            "reduce_on_plateau",
            {
                "mode": "max",
                "factor": 0.5,
                "patience": 0,
                "threshold": 0.05,
                "threshold_mode": "abs",
                "min_lr": 0.03,
            },
            12,
            1,
        ),
        (
            "ReduceLROnPlateau",
            {
                "mode": "max",
                "factor": 0.5,
                "patience": 0,
                "threshold": 0.05,
                "threshold_mode": "abs",
                "min_lr": 0.03,
            },
        ),
        [0.1, 0.1, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03],
    ),
]
IDS = [f"{case[0][0]}-{i}" for i, case in enumerate(RECORDED)]


def build(ours, optimizer=None):
    name, options, epochs, steps_per_epoch = ours
    return SCHEDULES.build(name, optimizer or make_optimizer(), epochs, steps_per_epoch, **options)


def steps_of(ours, expected):
    metrics = PLATEAU_METRICS if ours[0] == "reduce_on_plateau" else None
    return len(expected) - 1, metrics


@pytest.mark.parametrize(("ours", "theirs", "expected"), RECORDED, ids=IDS)
def test_lr_sequence_matches_recorded_torch_values(ours, theirs, expected):
    steps, metrics = steps_of(ours, expected)
    np.testing.assert_allclose(lr_sequence(build(ours), steps, metrics), expected, rtol=1e-12)


@pytest.mark.parametrize(("ours", "theirs", "expected"), RECORDED, ids=IDS)
def test_lr_sequence_matches_live_torch(ours, theirs, expected):
    torch = need("torch")
    steps, metrics = steps_of(ours, expected)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    name, options = theirs
    reference = getattr(torch.optim.lr_scheduler, name)(optimizer, **options)
    torch_lrs = [optimizer.param_groups[0]["lr"]]
    for i in range(steps):
        optimizer.step()
        reference.step(metrics[i]) if metrics else reference.step()
        torch_lrs.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(lr_sequence(build(ours), steps, metrics), torch_lrs, rtol=1e-10)


def test_one_cycle_cycles_momentum_like_torch():
    schedule = SCHEDULES.build("one_cycle", make_optimizer(), 2, 5, max_lr=0.1)
    momenta = [schedule.optimizer.param_groups[0]["momentum"]]
    for _ in range(9):
        schedule.step()
        momenta.append(schedule.optimizer.param_groups[0]["momentum"])
    np.testing.assert_allclose(
        momenta,
        [
            0.95,
            0.9,
            0.85,
            0.854951556604879,
            0.8688255099070633,
            0.8888739533021842,
            0.9111260466978157,
            0.9311744900929366,
            0.945048443395121,
            0.95,
        ],
        rtol=1e-12,
    )


def test_one_cycle_cycles_adam_beta1_and_keeps_beta2():
    param = SimpleNamespace(data=np.zeros(1), grad=None, requires_grad=True)
    optimizer = Adam([param], lr=0.01, betas=(0.9, 0.99))
    SCHEDULES.build("one_cycle", optimizer, 1, 10)
    assert optimizer.param_groups[0]["betas"] == (0.95, 0.99)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01 / 25)


def test_one_cycle_holds_the_final_lr_past_the_end():
    schedule = SCHEDULES.build("one_cycle", make_optimizer(), 1, 4, max_lr=1.0)
    lrs = lr_sequence(schedule, 6)
    assert lrs[3] == lrs[4] == lrs[6] == pytest.approx(1.0 / 25 / 1e4)


def test_one_cycle_on_an_optimizer_without_momentum_needs_cycle_momentum_false():
    param = SimpleNamespace(data=np.zeros(1), grad=None, requires_grad=True)
    with pytest.raises(ArgumentError, match="cycle_momentum"):
        SCHEDULES.build("one_cycle", Adagrad([param]), 1, 10)
    SCHEDULES.build("one_cycle", Adagrad([param]), 1, 10, cycle_momentum=False)


def test_cosine_warmup_rises_linearly_then_decays_continuously_to_min_lr():
    schedule = SCHEDULES.build(
        "cosine",
        make_optimizer(lr=1.0),
        3,
        10,
        warmup_epochs=1,
        warmup_start_factor=0.1,
        min_lr=0.01,
    )
    lrs = lr_sequence(schedule, 30)
    np.testing.assert_allclose(lrs[:11], np.linspace(0.1, 1.0, 11), rtol=1e-12)
    decay = np.array(lrs[10:])
    assert np.all(np.diff(decay) < 0)
    # continuity: no jump at the end of the warmup bigger than the steps around it
    assert lrs[10] - lrs[11] < lrs[11] - lrs[12] + 1e-3
    assert lrs[-1] == pytest.approx(0.01, rel=1e-12)
    # the decay part is the cosine over the remaining 20 steps
    t = np.arange(21)
    np.testing.assert_allclose(decay, 0.01 + 0.99 * (1 + np.cos(np.pi * t / 20)) / 2, rtol=1e-12)


def test_linear_schedule_warms_up_then_decays_to_end_factor():
    schedule = SCHEDULES.build(
        "linear", make_optimizer(lr=1.0), 2, 5, warmup_steps=2, end_factor=0.1
    )
    np.testing.assert_allclose(
        lr_sequence(schedule, 10),
        [0.0, 0.5, 1.0, 0.8875, 0.775, 0.6625, 0.55, 0.4375, 0.325, 0.2125, 0.1],
        rtol=1e-12,
    )


def test_constant_schedule_keeps_the_lr_after_its_warmup():
    schedule = SCHEDULES.build(
        "constant", make_optimizer(lr=0.2), 2, 2, warmup_steps=2, warmup_start_factor=0.5
    )
    np.testing.assert_allclose(lr_sequence(schedule, 4), [0.1, 0.15, 0.2, 0.2, 0.2])
    assert lr_sequence(SCHEDULES.build("constant", make_optimizer(), 3, 1), 3) == [0.1] * 4


def test_each_schedule_declares_its_interval():
    intervals = {name: SCHEDULES.get(name).interval for name in SCHEDULES.names()}
    assert intervals == {
        "constant": "step",
        "cosine": "step",
        "exponential": "epoch",
        "linear": "step",
        "multistep": "epoch",
        "one_cycle": "step",
        "reduce_on_plateau": "epoch",
        "step": "epoch",
    }
    assert issubclass(SCHEDULES.get("reduce_on_plateau"), ReduceOnPlateauSchedule)
    assert SCHEDULES.build("plateau", make_optimizer(), 5, 1).monitor == "val_loss"


def test_lr_is_set_per_group_and_reported_by_get_last_lr():
    first = SimpleNamespace(data=np.zeros(1), grad=None, requires_grad=True)
    second = SimpleNamespace(data=np.zeros(1), grad=None, requires_grad=True)
    optimizer = SGD([{"params": [first]}, {"params": [second], "lr": 1.0}], lr=0.1)
    schedule = SCHEDULES.build("exponential", optimizer, 3, 1, gamma=0.5)
    schedule.step()
    assert schedule.get_last_lr() == [0.05, 0.5]
    assert [g["lr"] for g in optimizer.param_groups] == [0.05, 0.5]


RESUMABLE = [case[0] for case in RECORDED] + [
    ("cosine", {"warmup_steps": 3, "min_lr": 0.01}, 2, 5),
    ("linear", {"warmup_epochs": 1, "end_factor": 0.2}, 2, 5),
]


@pytest.mark.parametrize("ours", RESUMABLE, ids=[f"{c[0]}-{i}" for i, c in enumerate(RESUMABLE)])
def test_resume_from_state_dict_continues_the_same_lr_sequence(ours):
    metrics = PLATEAU_METRICS if ours[0] == "reduce_on_plateau" else None
    straight = lr_sequence(build(ours), 8, metrics)

    first = build(ours)
    lr_sequence(first, 4, metrics)
    optimizer_state = first.optimizer.state_dict()
    saved = first.state_dict()
    saved = json.loads(json.dumps(saved, allow_nan=False))
    optimizer = make_optimizer()
    second = build(ours, optimizer)
    optimizer.load_state_dict(optimizer_state)
    second.load_state_dict(saved)
    rest = lr_sequence(second, 4, metrics[4:] if metrics else None)
    np.testing.assert_array_equal(rest, straight[4:])


def test_loading_a_state_for_another_group_count_is_a_checkpoint_error():
    state = build(("cosine", {}, 1, 5)).state_dict()
    state["base_lrs"] = [0.1, 0.2]
    with pytest.raises(CheckpointError):
        build(("cosine", {}, 1, 5)).load_state_dict(state)


@pytest.mark.parametrize(
    ("name", "options", "key"),
    [
        ("step", {"step_size": 0}, "step_size"),
        ("multistep", {"milestones": []}, "milestones"),
        ("exponential", {"gamma": -0.5}, "gamma"),
        ("cosine", {"warmup_steps": 2, "warmup_epochs": 1}, "warmup_epochs"),
        ("cosine", {"warmup_steps": 50}, "warmup_steps"),
        ("cosine", {"min_lr": -1.0}, "min_lr"),
        ("cosine", {"T_max": 10}, "T_max"),
        ("linear", {"warmup_start_factor": 2.0}, "warmup_start_factor"),
        ("one_cycle", {"pct_start": 1.5}, "pct_start"),
        ("one_cycle", {"max_lr": [0.1, 0.2]}, "max_lr"),
        ("one_cycle", {"anneal_strategy": "cosine"}, "anneal_strategy"),
        ("reduce_on_plateau", {"factor": 1.5}, "factor"),
        ("reduce_on_plateau", {"mode": "minimum"}, "mode"),
    ],
)
def test_invalid_options_raise_argument_error_naming_the_key(name, options, key):
    with pytest.raises(ArgumentError) as info:
        SCHEDULES.build(name, make_optimizer(), 2, 5, **options)
    assert info.value.key == key


def test_run_length_must_be_positive():
    with pytest.raises(ArgumentError) as info:
        SCHEDULES.build("cosine", make_optimizer(), 0, 5)
    assert info.value.key == "epochs"


REQUIRED_OPTIONS = {
    "exponential": {"gamma": 0.5},
    "step": {"step_size": 1},
    "multistep": {"milestones": [1]},
}


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_registered_schedule_sets_the_start_lr_when_built(name):
    optimizer = make_optimizer()
    schedule = SCHEDULES.build(name, optimizer, 2, 3, **REQUIRED_OPTIONS.get(name, {}))
    assert isinstance(schedule, Schedule)
    assert schedule.get_last_lr() == [optimizer.param_groups[0]["lr"]]
    assert math.isfinite(schedule.get_last_lr()[0])


def test_plateau_state_before_any_metric_is_strict_json():
    schedule = build(("reduce_on_plateau", {"mode": "max"}, 5, 1))
    saved = json.loads(json.dumps(schedule.state_dict(), allow_nan=False))
    fresh = build(("reduce_on_plateau", {"mode": "max"}, 5, 1))
    fresh.load_state_dict(saved)
    assert fresh.best == -math.inf
