"""The training loop: reproducibility, resume, interruption, NaN handling, early stopping."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from safetensors.numpy import load_file

from nnrun.experiment import build_experiment, resolve
from nnrun.train.display import make_reporter
from nnrun.train.loop import NonFiniteLoss, Trainer, TrainingInterrupted
from nnrun.train.session import resume_run, start_run
from tests.extras import need


def quiet():
    return make_reporter("quiet", Console(file=io.StringIO()))


def train(config: Path, out: Path, *overrides: str, reporter=None) -> dict:
    exp = build_experiment(resolve(config, list(overrides)))
    run_dir = start_run(exp, out)
    return Trainer(exp, run_dir, reporter or quiet()).fit()


def weights(run_dir: Path, tag: str = "last") -> dict[str, np.ndarray]:
    return load_file(run_dir / "checkpoints" / tag / "model.safetensors")


def metric_rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("seconds")
    return rows


def assert_same_run(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key])
    assert metric_rows(a) == metric_rows(b)


def test_same_config_and_seed_give_bitwise_identical_runs(small_config, tmp_path):
    train(small_config, tmp_path / "a")
    train(small_config, tmp_path / "b")
    assert_same_run(tmp_path / "a", tmp_path / "b")


def test_run_directory_layout(small_config, tmp_path):
    summary = train(small_config, tmp_path / "run")
    run = tmp_path / "run"
    for name in ("config.yaml", "run.json", "metrics.csv", "metrics.jsonl", "summary.json"):
        assert (run / name).is_file(), name
    assert (run / "checkpoints" / "last" / "model.safetensors").is_file()
    assert (run / "checkpoints" / "best" / "model.safetensors").is_file()
    header = (run / "metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,step,split,loss,accuracy,f1,lr,seconds"
    saved = json.loads((run / "summary.json").read_text())
    assert saved["status"] == "finished" and saved["epochs"] == 4
    assert set(saved["test"]) == {"test_loss", "test_accuracy", "test_f1"}
    assert saved["parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert summary["config_hash"] == saved["config_hash"]


def test_resume_continues_bitwise_identical(small_config, tmp_path):
    train(small_config, tmp_path / "straight")
    train(small_config, tmp_path / "split", "train.epochs=2")
    exp, run_dir, checkpoint = resume_run(
        tmp_path / "split", None, ["train.epochs=4"], force=False, seed=None
    )
    Trainer(exp, run_dir, quiet(), resume=checkpoint).fit()
    assert_same_run(tmp_path / "straight", tmp_path / "split")


class InterruptAt:
    """A reporter that asks the trainer to stop after a given batch of a given epoch."""

    def __init__(self, epoch: int, batch: int):
        self.target, self.epoch, self.trainer = (epoch, batch), 0, None
        self.inner = quiet()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def epoch_start(self, epoch):
        self.epoch = epoch

    def batch_end(self, batch, loss, metrics, samples):
        if (self.epoch, batch) == self.target:
            self.trainer.stop_requested = True


def test_interrupt_mid_epoch_saves_and_resume_is_bitwise_identical(small_config, tmp_path):
    train(small_config, tmp_path / "straight")
    exp = build_experiment(resolve(small_config))
    run_dir = start_run(exp, tmp_path / "cut")
    reporter = InterruptAt(epoch=2, batch=5)
    trainer = Trainer(exp, run_dir, reporter)
    reporter.trainer = trainer
    with pytest.raises(TrainingInterrupted, match="nnrun train --resume"):
        trainer.fit()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "interrupted"
    exp, run_dir, checkpoint = resume_run(run_dir, None, [], force=False, seed=None)
    assert checkpoint.state["progress"]["batch"] == 5
    Trainer(exp, run_dir, quiet(), resume=checkpoint).fit()
    assert_same_run(tmp_path / "straight", tmp_path / "cut")


def test_resume_refuses_a_changed_config_unless_forced(small_config, tmp_path):
    from nnrun.errors import ConfigError

    train(small_config, tmp_path / "run", "train.epochs=1")
    with pytest.raises(ConfigError, match=r"optimizer.lr: 0.003 -> 0.1"):
        resume_run(tmp_path / "run", None, ["optimizer.lr=0.1"], force=False, seed=None)
    exp, _, _ = resume_run(tmp_path / "run", None, ["optimizer.lr=0.1"], force=True, seed=None)
    assert exp.spec.optimizer.args["lr"] == 0.1


def test_nan_loss_stops_naming_epoch_step_and_keeps_last_good_checkpoint(small_config, tmp_path):
    with pytest.raises(NonFiniteLoss) as error:
        train(small_config, tmp_path / "run", "optimizer={type: sgd, lr: 1.0e+30}", "schedule=null")
    message = str(error.value)
    assert "epoch 1" in message and "step" in message and "last finite loss" in message
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "diverged"


@pytest.mark.filterwarnings(  # the run diverges on purpose: NumPy reports inf and NaN
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)
def test_nan_loss_can_skip_the_batch(small_config, tmp_path):
    summary = train(
        small_config,
        tmp_path / "run",
        "optimizer={type: sgd, lr: 1.0e+30}",
        "schedule=null",
        "train.on_nan=skip_batch",
        "train.epochs=1",
    )
    assert summary["skipped_batches"] > 0 and summary["status"] == "finished"


def test_early_stopping_stops_and_restores_best(small_config, tmp_path):
    summary = train(
        small_config,
        tmp_path / "run",
        "train.epochs=40",
        "train.early_stopping={monitor: val_loss, patience: 0, min_delta: 10}",
    )
    assert summary["status"] == "stopped" and summary["epochs"] == 2
    assert summary["best"]["epoch"] == 1


def test_periodic_checkpoints_keep_a_limited_number(small_config, tmp_path):
    train(small_config, tmp_path / "run", "train.checkpoint={every: 1, keep: 2}")
    tags = sorted(
        p.name for p in (tmp_path / "run" / "checkpoints").iterdir() if not p.name.startswith(".")
    )
    assert tags == ["best", "epoch-0003", "epoch-0004", "last"]


def test_checkpoint_weights_load_into_torch(small_config, tmp_path):
    torch = need("torch")
    from safetensors.torch import load_file as torch_load

    train(small_config, tmp_path / "run", "train.epochs=1")
    exp = build_experiment(resolve(small_config))
    exp.model.load_state_dict(weights(tmp_path / "run"))

    class Net(torch.nn.Module):
        """The same architecture written for torch (relu applied in forward, as nnrun's
        `activation: relu` option does inside layer 0)."""

        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(64, 16), torch.nn.Dropout(0.2), torch.nn.Linear(16, 10)
            )

        def forward(self, x):
            x = torch.relu(self.layers[0](x))
            return self.layers[2](self.layers[1](x))

    net = Net()
    path = tmp_path / "run" / "checkpoints" / "last" / "model.safetensors"
    net.load_state_dict(torch_load(str(path)))  # unchanged names and layouts
    net.eval()
    exp.model.eval()
    x = exp.data.splits["test"].inputs[:8]
    expected = exp.model(x).data
    got = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_running_accuracy_counts_ignored_targets_out():
    from nnrun.tasks import TASKS

    outputs = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert TASKS["classification"].batch_correct(outputs, np.array([1, 1, -100])) == (1, 2)
    assert TASKS["binary"].batch_correct(np.array([[2.0], [-1.0]]), np.array([[1.0], [1.0]])) == (
        1,
        2,
    )
    assert TASKS["regression"].batch_correct(outputs, np.ones((3, 2))) == (0, 0)


def test_best_is_a_second_name_for_the_files_of_the_epoch_that_improved(small_config, tmp_path):
    summary = train(small_config, tmp_path / "run")
    checkpoints = tmp_path / "run" / "checkpoints"
    best_epoch = summary["best"]["epoch"]
    versions = {os.readlink(checkpoints / tag) for tag in ("best", "last")}
    assert len(versions) == (1 if best_epoch == 4 else 2)
    assert sorted(p.name for p in checkpoints.iterdir() if p.name.startswith(".")) == sorted(
        versions
    )
    best_weights, last_weights = weights(tmp_path / "run", "best"), weights(tmp_path / "run")
    same = all(np.array_equal(best_weights[k], last_weights[k]) for k in best_weights)
    assert same == (best_epoch == 4)


def test_compiled_and_eager_runs_are_bitwise_identical(small_config, tmp_path):
    exp = build_experiment(resolve(small_config, ["train.compile=on"]))
    trainer = Trainer(exp, start_run(exp, tmp_path / "on"), quiet())
    trainer.fit()
    assert trainer.forward.replaying
    train(small_config, tmp_path / "off", "train.compile=off")
    assert_same_run(tmp_path / "on", tmp_path / "off")
    for tag in ("best", "last"):
        on, off = weights(tmp_path / "on", tag), weights(tmp_path / "off", tag)
        assert all(np.array_equal(on[k], off[k]) for k in on)
