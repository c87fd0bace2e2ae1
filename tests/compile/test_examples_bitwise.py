"""Compiled training steps are bitwise equal to eager ones on every example config."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from nnrun import compile_step, random
from nnrun.checkpoint import CheckpointManager
from nnrun.experiment import as_input, build_experiment, loss_arguments, resolve

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
STEPS = 6


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained cnn_digits checkpoint: what transfer.yaml initializes from."""
    exp = build_experiment(resolve(CONFIGS[0].with_name("cnn_digits.yaml"), []))
    run = tmp_path_factory.mktemp("cnn_digits")
    metadata = {"config": exp.config_text, "epoch": 0, "step": 0, "metrics": {}}
    CheckpointManager(run / "checkpoints").save("last", exp.model.state_dict(), metadata)
    return run


def train_steps(
    config: Path, compiled: bool, overrides: list[str]
) -> tuple[dict[str, np.ndarray], list[float], bool]:
    """Weights and losses after STEPS training steps, and whether the steps replayed."""
    exp = build_experiment(resolve(config, overrides))
    random.seed(exp.seed)
    exp.model.train()

    def loss_fn(outputs, targets):
        return exp.loss(*loss_arguments(outputs, targets, exp.loss))

    if compiled:
        step = compile_step(exp.model, loss_fn, exp.optimizer)
    else:

        def step(inputs, targets):
            outputs = exp.model(inputs)
            loss = loss_fn(outputs, targets)
            loss = loss if loss.data.size == 1 else loss.mean()
            loss.backward()
            exp.optimizer.step()
            exp.optimizer.zero_grad()
            return float(loss.data)

    batches = itertools.cycle(list(exp.data.loader("train", exp.seed).batches(0))[:2])
    losses = [step(as_input(x), y) for x, y in itertools.islice(batches, STEPS)]
    replayed = compiled and step.compiled.replaying
    return exp.model.state_dict(), losses, replayed


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_compiled_steps_are_bitwise_equal_to_eager_steps(config, pretrained):
    overrides = [f"model.init_from.checkpoint={pretrained}"] if config.stem == "transfer" else []
    eager_weights, eager_losses, _ = train_steps(config, False, overrides)
    weights, losses, replayed = train_steps(config, True, overrides)
    assert replayed, "the compiled step never replayed a plan"
    assert losses == eager_losses
    assert weights.keys() == eager_weights.keys()
    for name, value in eager_weights.items():
        assert np.array_equal(weights[name], value), name
