"""Update rules of every optimizer against PyTorch: recorded numbers and a live cross-check."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from nnrun.errors import ArgumentError
from nnrun.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nnrun.registry import OPTIMIZERS
from tests.extras import need
from tests.optim.samples import EVERY_TERM, NAMES

START = [0.5, -1.0, 2.0]
GRADS = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.2, 0.1, -0.3]]

# Parameter values after each of three steps, recorded once from torch 2.13 (float64).
RECORDED = [
    ("sgd", {"lr": 0.1}, [[0.49, -0.98, 1.97], [0.53, -1.03, 1.965], [0.51, -1.04, 1.995]]),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9},
        [[0.49, -0.98, 1.97], [0.521, -1.012, 1.938], [0.5289, -1.0508, 1.9392]],
    ),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1},
        [
            [0.485, -0.97, 1.95],
            [0.489075, -0.96315, 1.89275],
            [0.480297125, -0.95716925, 1.84676125],
        ],
    ),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        [
            [0.48005, -0.9601, 1.9392],
            [0.546632905, -1.03626581, 1.90009552],
            [0.5319509619805, -1.077710223961, 1.924536586512],
        ],
    ),
    (
        "sgd",
        {"lr": 0.1, "momentum": 0.5, "maximize": True},
        [[0.51, -1.02, 2.03], [0.475, -0.98, 2.05], [0.4775, -0.95, 2.03]],
    ),
    (
        "adam",
        {"lr": 0.1},
        [
            [0.400000009999999, -0.9000000049999998, 1.9000000033333333],
            [0.4559503574851284, -0.944221530217233, 1.821667272150606],
            [0.4669677234642677, -0.9894992139945569, 1.8234625889543132],
        ],
    ),
    (
        "adam",
        {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True},
        [
            [0.40000000666666624, -0.9000000033333332, 1.900000002],
            [0.4429341513610014, -0.9205098564205757, 1.8073841626213918],
            [0.43713025893369384, -0.9373558018846193, 1.7508359179856088],
        ],
    ),
    (
        "adam",
        {"lr": 0.1, "betas": [0.8, 0.9], "eps": 0.001},
        [
            [0.400990099009901, -0.900497512437811, 1.9003322259136213],
            [0.4603997728633322, -0.9490579123375456, 1.823844398747763],
            [0.4689877529085835, -0.9974391172396736, 1.8350880855048137],
        ],
    ),
    (
        "adamw",
        {"lr": 0.1},
        [
            [0.399500009999999, -0.8990000049999998, 1.8980000033333333],
            [0.4550508574751284, -0.942322530212233, 1.8177692721472727],
            [0.4656131725967926, -0.9866578914593447, 1.8177468196788327],
        ],
    ),
    (
        "adamw",
        {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True},
        [
            [0.395000009999999, -0.8900000049999998, 1.8800000033333333],
            [0.4470003573851284, -0.925321530167233, 1.7828672721172727],
            [0.45354771979041636, -0.9613459986428845, 1.7668339161998072],
        ],
    ),
    (
        "rmsprop",
        {"lr": 0.01},
        [
            [0.40000009999990005, -0.9000000499999751, 1.9000000333333222],
            [0.49704287266865177, -0.9929118010156807, 1.8834795737804584],
            [0.4532111545062486, -1.0112703443780078, 1.954056266696947],
        ],
    ),
    (
        "rmsprop",
        {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1},
        [
            [0.39949628581410107, -0.8994962521441012, 1.899496238676095],
            [0.40155723334021726, -0.8899105029206417, 1.765210455033241],
            [0.35076174764860324, -0.8834649699859224, 1.6664022684332238],
        ],
    ),
    (
        "rmsprop",
        {"lr": 0.01, "alpha": 0.9, "centered": True},
        [
            [0.4666666777777741, -0.9666666722222212, 1.96666667037037],
            [0.4983499057029904, -0.996776227639464, 1.960825007409264],
            [0.4838964097723746, -1.0030713199706314, 1.9841703830596695],
        ],
    ),
    (
        "adagrad",
        {"lr": 0.1},
        [
            [0.4000000001, -0.90000000005, 1.9000000000333332],
            [0.49701425009100375, -0.9928476691212845, 1.8835601013082028],
            [0.4533706720533291, -1.0111050877014567, 1.953784789609443],
        ],
    ),
    (
        "adagrad",
        {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
        [
            [0.4792485660868886, -0.9609433267108376, 1.9422649730877042],
            [0.5190567980905377, -1.0032539541627337, 1.9175902463203365],
            [0.49414219152369276, -1.0032227083116678, 1.9275429933366242],
        ],
    ),
]


def make_param(values, dtype=np.float64, requires_grad=True):
    return SimpleNamespace(
        data=np.array(values, dtype=dtype), grad=None, requires_grad=requires_grad
    )


@pytest.mark.parametrize(("name", "options", "expected"), RECORDED)
def test_three_steps_match_recorded_torch_values(name, options, expected):
    param = make_param(START)
    optimizer = OPTIMIZERS.build(name, [param], **options)
    for grad, want in zip(GRADS, expected, strict=True):
        param.grad = np.array(grad)
        optimizer.step()
        np.testing.assert_allclose(param.data, want, rtol=1e-12, atol=1e-15)


def test_sgd_first_momentum_step_uses_the_gradient_itself():
    param = make_param([1.0])
    optimizer = SGD([param], lr=1.0, momentum=0.9, dampening=0.5)
    param.grad = np.array([2.0])
    optimizer.step()
    # torch seeds the buffer with the gradient, undamped: 1 - 1.0·2
    assert param.data[0] == -1.0
    np.testing.assert_array_equal(optimizer.state_dict()["state"][0]["momentum_buffer"], [2.0])


def _grid(**options):
    keys = list(options)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*options.values())]


LIVE_CASES = (
    [
        ("sgd", o)
        for o in _grid(
            lr=[0.05],
            momentum=[0.0, 0.9],
            dampening=[0.0, 0.3],
            nesterov=[False, True],
            weight_decay=[0.0, 0.05],
            maximize=[False, True],
        )
        if not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)
    ]
    + [
        (name, o)
        for name in ("adam", "adamw")
        for o in _grid(
            lr=[0.01],
            betas=[(0.9, 0.999), (0.5, 0.9)],
            weight_decay=[0.0, 0.05],
            amsgrad=[False, True],
            maximize=[False, True],
        )
    ]
    + [
        ("rmsprop", o)
        for o in _grid(
            lr=[0.01],
            alpha=[0.99, 0.8],
            momentum=[0.0, 0.8],
            centered=[False, True],
            weight_decay=[0.0, 0.05],
            maximize=[False, True],
        )
    ]
    + [
        ("adagrad", o)
        for o in _grid(
            lr=[0.05],
            lr_decay=[0.0, 0.05],
            initial_accumulator_value=[0.0, 0.3],
            weight_decay=[0.0, 0.05],
            maximize=[False, True],
        )
    ]
)


@pytest.mark.parametrize(("name", "options"), LIVE_CASES, ids=lambda v: str(v))
def test_twenty_random_steps_match_live_torch(name, options):
    torch = need("torch")
    torch_classes = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
        "adagrad": torch.optim.Adagrad,
    }
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    ours = [make_param(start) for start in starts]
    theirs = [torch.nn.Parameter(torch.tensor(start)) for start in starts]
    optimizer = OPTIMIZERS.build(name, ours, **options)
    reference = torch_classes[name](theirs, **options)
    for _ in range(20):
        for mine, other in zip(ours, theirs, strict=True):
            grad = rng.normal(size=mine.data.shape)
            mine.grad = grad.copy()
            other.grad = torch.tensor(grad)
        optimizer.step()
        reference.step()
    for mine, other in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.data, other.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_and_state_stay_float32_and_update_in_place(name):
    options = EVERY_TERM[name]
    param = make_param([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    array = param.data
    optimizer = OPTIMIZERS.build(name, [param], **options)
    for _ in range(3):
        param.grad = np.array([[0.1, -0.2], [0.3, 0.4]], dtype=np.float32)
        optimizer.step()
    assert param.data is array and array.dtype == np.float32
    assert not np.array_equal(array, [[0.5, -1.0], [2.0, 0.25]])
    buffers = [v for v in optimizer.state[id(param)].values() if isinstance(v, np.ndarray)]
    assert buffers and all(buffer.dtype == np.float32 for buffer in buffers)


@pytest.mark.parametrize("name", NAMES)
def test_frozen_parameters_and_missing_grads_are_left_untouched(name):
    options = EVERY_TERM[name]
    frozen = make_param([1.0, 2.0], requires_grad=False)
    frozen.grad = np.array([5.0, 5.0])
    no_grad = make_param([3.0, 4.0])
    trained = make_param([1.0, 1.0])
    trained.grad = np.array([1.0, -1.0])
    optimizer = OPTIMIZERS.build(name, [frozen, no_grad, trained], **options)
    optimizer.step()
    np.testing.assert_array_equal(frozen.data, [1.0, 2.0])
    np.testing.assert_array_equal(no_grad.data, [3.0, 4.0])
    assert not np.array_equal(trained.data, [1.0, 1.0])
    assert id(frozen) not in optimizer.state and id(no_grad) not in optimizer.state


def test_zero_grad_drops_gradients_or_zeroes_them():
    param = make_param([1.0])
    optimizer = SGD([param])
    param.grad = np.array([3.0])
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(param.grad, [0.0])
    optimizer.zero_grad()
    assert param.grad is None


def test_defaults_follow_torch():
    param = make_param([1.0])
    assert SGD([param]).defaults["lr"] == 1e-3
    assert Adam([param]).defaults == {
        "lr": 1e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "maximize": False,
    }
    assert AdamW([param]).defaults["weight_decay"] == 0.01
    assert RMSprop([param]).defaults["alpha"] == 0.99
    assert Adagrad([param]).defaults["eps"] == 1e-10


def test_registry_build_accepts_yaml_lists_and_learning_rate_alias():
    optimizer = OPTIMIZERS.build("adam", [make_param([1.0])], learning_rate=0.01, betas=[0.9, 0.99])
    assert optimizer.param_groups[0]["lr"] == 0.01
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.99)


@pytest.mark.parametrize(
    ("name", "options", "key"),
    [
        ("sgd", {"lr": -0.1}, "lr"),
        ("sgd", {"momentum": -0.5}, "momentum"),
        ("sgd", {"nesterov": True}, "nesterov"),
        ("sgd", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "nesterov"),
        ("adam", {"betas": [1.0, 0.9]}, "betas"),
        ("adam", {"betas": [0.9, 0.99, 0.5]}, "betas"),
        ("adamw", {"eps": -1e-8}, "eps"),
        ("adam", {"lr": float("nan")}, "lr"),
        ("rmsprop", {"alpha": -0.1}, "alpha"),
        ("adagrad", {"lr_decay": -1.0}, "lr_decay"),
        ("adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
        ("adam", {"betas": "0.9"}, "betas"),
        ("sgd", {"lr": "fast"}, "lr"),
    ],
)
def test_out_of_range_or_mistyped_options_raise_argument_error_naming_the_key(name, options, key):
    with pytest.raises(ArgumentError) as info:
        OPTIMIZERS.build(name, [make_param([1.0])], **options)
    assert info.value.key == key
    assert key in str(info.value)


def test_empty_parameter_list_is_an_argument_error():
    with pytest.raises(ArgumentError, match="empty parameter list"):
        SGD([])
