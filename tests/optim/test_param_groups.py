"""Parameter groups: torch-style dicts and YAML patterns on dotted parameter names."""

from types import SimpleNamespace

import numpy as np
import pytest

from nnrun.errors import ArgumentError
from nnrun.optim import SGD, AdamW
from nnrun.registry import OPTIMIZERS


def make_param(values):
    return SimpleNamespace(data=np.array(values, dtype=np.float64), grad=None, requires_grad=True)


def named_model():
    """Names as `module.named_parameters()` yields them for a small MLP with a norm."""
    return [
        ("layers.0.weight", make_param([1.0, 2.0])),
        ("layers.0.bias", make_param([1.0])),
        ("norm.weight", make_param([1.0])),
        ("norm.bias", make_param([1.0])),
        ("layers.2.weight", make_param([3.0])),
        ("layers.2.bias", make_param([1.0])),
    ]


def test_bias_pattern_is_excluded_from_weight_decay():
    named = named_model()
    optimizer = SGD(
        named, lr=0.5, weight_decay=0.1, param_groups=[{"match": "*.bias", "weight_decay": 0.0}]
    )
    for _, param in named:
        param.grad = np.zeros_like(param.data)
    optimizer.step()
    params = dict(named)
    # zero gradient: only L2 decay moves a parameter, θ ← θ − lr·wd·θ
    np.testing.assert_allclose(params["layers.0.weight"].data, [0.95, 1.9])
    np.testing.assert_allclose(params["norm.weight"].data, [0.95])
    for bias in ("layers.0.bias", "norm.bias", "layers.2.bias"):
        np.testing.assert_array_equal(params[bias].data, [1.0])


def test_first_matching_entry_wins_and_unmatched_use_defaults():
    named = named_model()
    optimizer = AdamW(
        named,
        lr=0.01,
        param_groups=[
            {"match": ["*.bias", "norm.*"], "weight_decay": 0.0},
            {"match": "layers.*", "lr": 0.1},
        ],
    )
    groups = optimizer.param_groups
    names = {id(p): n for n, p in named}
    assert [[names[id(p)] for p in g["params"]] for g in groups] == [
        ["layers.0.bias", "norm.weight", "norm.bias", "layers.2.bias"],
        ["layers.0.weight", "layers.2.weight"],
    ]
    assert groups[0]["weight_decay"] == 0.0 and groups[0]["lr"] == 0.01
    assert groups[1]["weight_decay"] == 0.01 and groups[1]["lr"] == 0.1


def test_unmatched_parameters_form_the_first_group():
    optimizer = SGD(named_model(), lr=0.1, param_groups=[{"match": "norm.*", "lr": 0.2}])
    assert [len(g["params"]) for g in optimizer.param_groups] == [4, 2]
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.2]


def test_pattern_matching_nothing_is_an_error_naming_the_pattern():
    with pytest.raises(ArgumentError, match=r"'\*\.gamma' matches no parameter") as info:
        SGD(named_model(), param_groups=[{"match": "*.gamma", "weight_decay": 0.0}])
    assert info.value.key == "param_groups"
    assert "layers.0.weight" in str(info.value)


def test_pattern_shadowed_by_an_earlier_entry_is_an_error():
    with pytest.raises(ArgumentError, match=r"layers\.0\.bias"):
        SGD(
            named_model(),
            param_groups=[{"match": "*.bias", "lr": 0.1}, {"match": "layers.0.bias", "lr": 0.2}],
        )


def test_unknown_option_in_an_entry_lists_the_accepted_ones():
    with pytest.raises(ArgumentError, match=r"unknown option 'decay'.*weight_decay") as info:
        SGD(named_model(), param_groups=[{"match": "*.bias", "decay": 0.0}])
    assert info.value.key == "param_groups"


@pytest.mark.parametrize(
    "entry",
    [
        {"weight_decay": 0.0},
        {"match": 3, "lr": 0.1},
        {"match": [], "lr": 0.1},
        {"match": "*.bias", "lr": "big"},
        {"match": "*.bias", "lr": -1.0},
        "*.bias",
    ],
)
def test_malformed_entries_are_argument_errors(entry):
    with pytest.raises(ArgumentError):
        SGD(named_model(), param_groups=[entry])


def test_patterns_need_names():
    with pytest.raises(ArgumentError, match="named_parameters"):
        SGD([make_param([1.0])], param_groups=[{"match": "*", "lr": 0.1}])


def test_registry_build_passes_param_groups():
    optimizer = OPTIMIZERS.build(
        "adam", named_model(), lr=0.01, param_groups=[{"match": "*.bias", "betas": [0.5, 0.9]}]
    )
    assert optimizer.param_groups[1]["betas"] == (0.5, 0.9)


def test_torch_style_group_dicts_override_defaults():
    first, second = make_param([1.0]), make_param([1.0])
    optimizer = SGD([{"params": [first]}, {"params": [second], "lr": 1.0}], lr=0.5)
    first.grad = np.array([1.0])
    second.grad = np.array([1.0])
    optimizer.step()
    assert first.data[0] == 0.5 and second.data[0] == 0.0


def test_parameter_in_two_groups_is_an_error():
    param = make_param([1.0])
    with pytest.raises(ArgumentError, match="more than one parameter group"):
        SGD([{"params": [param]}, {"params": [param]}])


def test_group_lr_written_by_a_schedule_is_used_by_the_next_step():
    param = make_param([1.0])
    optimizer = SGD([param], lr=0.1)
    optimizer.param_groups[0]["lr"] = 1.0
    param.grad = np.array([0.25])
    optimizer.step()
    assert param.data[0] == 0.75
