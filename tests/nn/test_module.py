"""The Module base: registration, names, state dicts, modes, freezing, lazy building."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.autograd.tensor import Tensor
from nnrun.errors import CheckpointError, ShapeError
from nnrun.nn.activation import ReLU
from nnrun.nn.container import Sequential
from nnrun.nn.dropout import Dropout
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module
from nnrun.nn.parameter import Parameter


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = Parameter(np.ones(2))
        self.encoder = Sequential(Linear(3, in_features=2), ReLU(), Dropout(0.5))
        self.head = Linear(1, in_features=3)
        self.register_buffer("steps", np.zeros(1))
        self.register_buffer("cache", np.zeros(4), persistent=False)

    def forward(self, x):
        return self.head(self.encoder(x * self.scale))


def test_parameters_and_children_register_on_assignment_with_dotted_names():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "head.weight",
        "head.bias",
    ]
    assert [name for name, _ in net.named_children()] == ["encoder", "head"]
    assert [name for name, _ in net.named_modules()][:3] == ["", "encoder", "encoder.0"]


def test_shared_parameter_appears_once():
    net = Net()
    net.head.weight = net.encoder[0].weight  # tie: same Parameter object
    assert sum(1 for p in net.parameters() if p is net.head.weight) == 1


def test_state_dict_holds_parameters_and_persistent_buffers_only():
    state = Net().state_dict()
    assert "steps" in state and "cache" not in state
    assert state["encoder.0.weight"].shape == (3, 2)


def test_state_dict_round_trip_restores_outputs():
    source, target = Net().eval(), Net().eval()
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    assert not np.allclose(source(x).data, target(x).data)
    copied = {k: v.copy() for k, v in source.state_dict().items()}
    assert target.load_state_dict(copied) == ([], [])
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_reports_missing_unexpected_and_mis_shaped_keys_together():
    net = Net()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    del state["head.bias"]
    state["extra.weight"] = np.zeros(1)
    state["encoder.0.weight"] = np.zeros((5, 2))
    with pytest.raises(CheckpointError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "shape mismatch for encoder.0.weight: checkpoint (5, 2), model (3, 2)" in message
    assert "missing keys: head.bias" in message
    assert "unexpected keys: extra.weight" in message


def test_non_strict_load_tolerates_missing_and_unexpected_keys():
    net = Net()
    missing, unexpected = net.load_state_dict({"head.bias": np.full(1, 7.0), "x": 1}, strict=False)
    assert "head.weight" in missing and unexpected == ["x"]
    assert net.head.bias.data[0] == 7.0


def test_train_and_eval_switch_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    x = np.ones((2, 2), dtype=np.float32)
    np.testing.assert_array_equal(net(x).data, net(x).data)  # dropout is off
    net.train()
    assert net.encoder[2].training


def test_zero_grad_clears_every_gradient():
    net = Net()
    net(np.ones((2, 2), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_num_parameters_counts_all_or_trainable():
    net = Net()
    assert net.num_parameters() == 2 + (6 + 3) + (3 + 1)
    net.freeze("encoder")
    assert net.num_parameters(trainable_only=True) == 2 + 4


def test_freeze_by_pattern_stops_gradients_and_unknown_pattern_lists_names():
    net = Net()
    assert net.freeze(["head.*"]) == ["head.weight", "head.bias"]
    assert not net.head.weight.requires_grad and net.encoder[0].weight.requires_grad
    with pytest.raises(CheckpointError, match=r"matches no parameter.*scale"):
        net.freeze("decoder")


def test_repr_nests_children_like_torch():
    text = repr(Net())
    assert text.startswith("Net(\n  (encoder): Sequential(\n    (0): Linear(in_features=2")
    assert "    (1): ReLU()\n    (2): Dropout(p=0.5)\n  )\n  (head): Linear(" in text


def test_lazy_layer_builds_once_then_keeps_its_sizes():
    model = Sequential(Linear(4), ReLU(), Linear(2))
    assert model.num_parameters() == 0
    model(np.ones((3, 5), dtype=np.float32))
    assert model.num_parameters() == (4 * 5 + 4) + (2 * 4 + 2)
    weight = model[0].weight
    model(np.ones((1, 5), dtype=np.float32))
    assert model[0].weight is weight
    with pytest.raises(ShapeError, match="in_features=5"):
        model(np.ones((3, 6), dtype=np.float32))


def test_to_float64_casts_parameters_and_buffers():
    net = Net().to(np.float64)
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.steps.dtype == np.float64
    out = net(Tensor(np.ones((1, 2)), dtype=np.float64))
    assert out.dtype == np.float64


def test_assigning_a_non_parameter_to_a_parameter_slot_is_refused():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign ndarray to parameter 'scale'"):
        net.scale = np.ones(2)


def test_forward_hook_sees_each_call_and_stops_after_remove():
    layer = Linear(3, in_features=2)
    seen = []
    handle = layer.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    layer(np.ones((4, 2), dtype=np.float32))
    layer(np.ones((1, 2), dtype=np.float32))
    handle.remove()
    layer(np.ones((5, 2), dtype=np.float32))
    assert seen == [(4, 3), (1, 3)]


def test_a_module_without_hooks_keeps_no_hook_table_of_its_own():
    plain, hooked = Linear(3, in_features=2), Linear(3, in_features=2)
    hooked.register_forward_hook(lambda *_: None).remove()
    assert "_forward_hooks" not in vars(plain)
    assert not hooked._forward_hooks and not plain._forward_hooks
