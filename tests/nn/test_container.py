"""Sequential, ModuleList and ModuleDict: torch naming, indexing, chaining."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.nn.activation import ReLU, Tanh
from nnrun.nn.container import ModuleDict, ModuleList, Sequential
from nnrun.nn.linear import Linear
from nnrun.nn.module import Module
from nnrun.registry import LAYERS
from nnrun.testing.gradcheck import gradcheck
from tests.extras import need


class Holder(Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = Sequential(Linear(4, in_features=3), ReLU(), Linear(2, in_features=4))

    def forward(self, x):
        return self.layers(x)


def test_state_dict_keys_match_torch_sequential_and_outputs_agree():
    torch = need("torch")
    model = Holder().to(np.float64)
    assert list(model.state_dict()) == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    reference = torch.nn.Module()
    reference.layers = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    ).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3))
    expected = reference.layers(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(x.astype(np.float64)).data, expected, rtol=1e-6)


def test_chain_gradchecks_through_every_child():
    model = Sequential(Linear(4, activation="tanh"), Linear(3), Tanh())
    x = np.random.default_rng(1).uniform(-1, 1, (2, 5))
    model(x)
    model.to(np.float64)
    assert gradcheck(model, [x], params=list(model.parameters()))


def test_indexing_slicing_len_iteration_and_append():
    first, second, third = Linear(2), ReLU(), Linear(1)
    model = Sequential(first, second)
    model.append(third)
    assert len(model) == 3 and list(model) == [first, second, third]
    assert model[0] is first and model[-1] is third
    tail = model[1:]
    assert isinstance(tail, Sequential) and list(dict(tail.named_children())) == ["1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        model[3]


def test_mapping_argument_names_the_children():
    model = Sequential({"encoder": Linear(2, in_features=3), "act": ReLU()})
    assert list(model.state_dict()) == ["encoder.weight", "encoder.bias"]
    assert "(encoder): Linear(in_features=3" in repr(model)


def test_builder_constructs_sequential_from_built_children():
    model = LAYERS.build("sequential", Linear(2), ReLU())
    assert isinstance(model, Sequential) and len(model) == 2
    x = np.ones((1, 3))
    assert Sequential()(x) is x  # empty: the identity, as torch


def test_children_must_be_modules():
    with pytest.raises(TypeError, match="child '1' must be a Module"):
        Sequential(ReLU(), "relu")


def test_module_list_registers_children_by_position():
    class Stack(Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = ModuleList([Linear(2, in_features=2) for _ in range(2)])

    stack = Stack()
    assert list(stack.state_dict()) == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    replacement = Linear(2, in_features=2, bias=False)
    stack.blocks[-1] = replacement
    assert stack.blocks[1] is replacement and len(stack.blocks) == 2
    assert "blocks.1.bias" not in stack.state_dict()
    assert len(stack.blocks[:1]) == 1


def test_module_dict_registers_children_by_key():
    heads = ModuleDict({"a": Linear(1, in_features=2)})
    heads["b"] = Linear(1, in_features=2, bias=False)
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight"]
    del heads["a"]
    assert list(heads.keys()) == ["b"]
    with pytest.raises(KeyError, match=r"without '\.'"):
        heads["x.y"] = ReLU()
