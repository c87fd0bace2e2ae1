"""The training loop: mini-batches, forward, loss, backprop, update — with evaluation,
early stopping, checkpoints, resume, interruption and NaN handling around it."""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nnrun import locking, random
from nnrun.autograd.grad_mode import no_grad
from nnrun.autograd.tensor import Tensor
from nnrun.checkpoint import Checkpoint, CheckpointManager, nnrun_version, periodic_tag
from nnrun.compile import Compiled, Eager, compiled_call
from nnrun.data import BatchLoader
from nnrun.diagnose.recorder import Diagnostics
from nnrun.errors import CheckpointError, NnrunError
from nnrun.experiment import Experiment, as_input, loss_arguments
from nnrun.fileio import write_json_atomic
from nnrun.metrics import compute_metrics, metric_mode
from nnrun.optim.clip import clip_grad_norm, clip_grad_value
from nnrun.optim.optimizer import Optimizer
from nnrun.schedules import ReduceOnPlateauSchedule
from nnrun.tasks import Task
from nnrun.train.display import EpochRow, Reporter, RunInfo
from nnrun.train.rundir import MetricsLogger, complete_lines

# Whole-epoch outputs are kept for exact train metrics up to this many numbers; beyond it
# (e.g. a language model's (N, T, vocab) logits) train metrics are batch-size-weighted means.
KEEP_OUTPUTS_LIMIT = 4_000_000


class TrainingInterrupted(NnrunError):
    """Ctrl-C / SIGTERM: the current step finished and `last` was written."""

    exit_code = 130


class NonFiniteLoss(NnrunError):
    """The loss became NaN or Inf and `train.on_nan` is `stop`."""

    exit_code = 3


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint so resume continues exactly."""

    epoch: int = 0  # completed epochs
    step: int = 0  # optimizer steps taken
    batch: int = 0  # batches done in the current (unfinished) epoch
    best_value: float | None = None
    best_epoch: int | None = None
    bad_epochs: int = 0
    last_finite_loss: float | None = None
    skipped_batches: int = 0
    stopped_early: bool = False
    partial: dict[str, Any] = field(default_factory=dict)  # the unfinished epoch's sums

    def to_state(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Progress:
        return cls(**state)


def restore_state(exp: Experiment, checkpoint: Checkpoint) -> Progress:
    """Put a checkpoint's weights and training state into `exp`; returns the progress.

    A state of the wrong shape (edited or foreign ``state.json``) is a `CheckpointError`
    naming the checkpoint, found before the resumed run changes anything on disk."""
    state = checkpoint.state
    try:
        if not isinstance(state, dict):
            raise TypeError("it holds no training state")
        exp.model.load_state_dict(checkpoint.weights)
        if exp.optimizer is None:
            raise TypeError("the model has no parameters to train")
        exp.optimizer.load_state_dict(state["optimizer"])
        if exp.schedule is not None and state.get("schedule") is not None:
            exp.schedule.load_state_dict(state["schedule"])
        random.set_state(state["rng"])
        progress = Progress.from_state(state["progress"])
        if progress.partial:  # the unfinished epoch's sums must read back too
            EpochAccumulator.from_state(progress.partial)
        numbers = (progress.epoch, progress.step, progress.batch, progress.bad_epochs)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise TypeError(f"progress counters must be non-negative integers, got {numbers}")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, CheckpointError) as error:
        detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise CheckpointError(
            f"the training state of checkpoint {checkpoint.path} is unusable ({detail}); "
            "it was edited or not written by this nnrun"
        ) from None
    return progress


class EpochAccumulator:
    """Running loss and the outputs/targets of one split's epoch, for its metrics."""

    def __init__(self, keep_outputs: bool = True):
        self.loss_sum = 0.0
        self.count = 0
        self.outputs: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.kept = 0
        self.keep_outputs = keep_outputs
        self.metric_sums: dict[str, float] = {}

    def add(
        self,
        loss: float,
        weight: int,
        outputs: Any,
        targets: np.ndarray,
        specs: list,
        task: Task,
        num_classes: int | None,
    ) -> None:
        self.loss_sum += loss * weight
        self.count += weight
        outputs = task.metric_outputs(outputs)
        if outputs is None:
            return  # several outputs (e.g. triplet embeddings): the loss only
        if self.keep_outputs and self.kept + outputs.size <= KEEP_OUTPUTS_LIMIT:
            self.outputs.append(outputs)
            self.targets.append(targets)
            self.kept += outputs.size
            return
        if self.keep_outputs:  # too big to keep: fold what we have into running means
            self.keep_outputs = False
            for kept_out, kept_target in zip(self.outputs, self.targets, strict=True):
                self._fold(kept_out, kept_target, specs, task, num_classes)
            self.outputs, self.targets = [], []
        self._fold(outputs, targets, specs, task, num_classes)

    def _fold(
        self,
        outputs: np.ndarray,
        targets: np.ndarray,
        specs: list,
        task: Task,
        num_classes: int | None,
    ) -> None:
        size = len(targets)
        for key, value in compute_metrics(specs, outputs, targets, task, num_classes).items():
            self.metric_sums[key] = self.metric_sums.get(key, 0.0) + value * size
        self.metric_sums["_examples"] = self.metric_sums.get("_examples", 0.0) + size

    @property
    def loss(self) -> float:
        return self.loss_sum / max(self.count, 1)

    def metrics(self, specs: list, task: Task, num_classes: int | None) -> dict[str, float]:
        if self.outputs:
            return compute_metrics(
                specs, np.concatenate(self.outputs), np.concatenate(self.targets), task, num_classes
            )
        examples = self.metric_sums.get("_examples", 0.0)
        return {k: v / examples for k, v in self.metric_sums.items() if k != "_examples"}

    def to_state(self) -> dict[str, Any]:
        return {
            "loss_sum": self.loss_sum,
            "count": self.count,
            "kept": self.kept,
            "keep_outputs": self.keep_outputs,
            "metric_sums": dict(self.metric_sums),
            "outputs": list(self.outputs),
            "targets": list(self.targets),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EpochAccumulator:
        acc = cls(state["keep_outputs"])
        acc.loss_sum, acc.count, acc.kept = state["loss_sum"], state["count"], state["kept"]
        acc.metric_sums = dict(state["metric_sums"])
        acc.outputs, acc.targets = list(state["outputs"]), list(state["targets"])
        return acc


def _numpy_outputs(outputs: Any) -> Any:
    if isinstance(outputs, tuple):
        return tuple(o.data for o in outputs)
    return outputs.data


class Trainer:
    """Runs one experiment into one run directory."""

    def __init__(
        self,
        experiment: Experiment,
        run_dir: Path,
        reporter: Reporter,
        resume: Checkpoint | None = None,
    ):
        if experiment.optimizer is None:  # start_run refuses such a model first
            raise ValueError("a Trainer needs a model with parameters to train")
        self.exp = experiment
        self.optimizer: Optimizer = experiment.optimizer
        self.run_dir = Path(run_dir)
        self.reporter = reporter
        train = experiment.train
        self.epochs = train.epochs
        self.early = train.early_stopping
        has_val = "val" in experiment.data.splits
        self.monitor = (
            train.monitor
            or (self.early.monitor if self.early else None)
            or ("val_loss" if has_val else "train_loss")
        )
        mode = self.early.mode if self.early else "auto"
        self.mode = metric_mode(self.monitor, experiment.metrics) if mode == "auto" else mode
        self.every = train.checkpoint.every
        self.checkpoints = CheckpointManager(
            self.run_dir / "checkpoints", train.checkpoint.keep, train.checkpoint.background
        )
        self.info = experiment.data.info
        self.train_loader = experiment.data.loader("train", experiment.seed)
        self.eval_batch = train.eval_batch_size or experiment.data.batch_size
        self.progress = Progress()
        self.stop_requested = False
        self.stop_status: str | None = None
        self.started = time.time()
        self.logger = MetricsLogger(self.run_dir, experiment.metric_keys)
        self.forward = compiled_call(
            model_forward(experiment, reduce=True),
            train.compile,
            key=lambda: experiment.model.training,
            note=lambda message: reporter.message(message, "yellow"),
        )
        self.eval_forward = replayed(experiment, model_forward(experiment, reduce=False))
        if resume is not None:
            self._restore(resume)
        else:  # a run restarted in place drops rows of its first, never-saved epoch
            self.logger.truncate_after(0)
        self.diagnostics = Diagnostics.create(
            experiment, self.run_dir, reporter, self.progress.step
        )

    # ----------------------------------------------------------------- setup
    def _restore(self, checkpoint: Checkpoint) -> None:
        self.progress = restore_state(self.exp, checkpoint)
        self.logger.truncate_after(self.progress.epoch)

    def _state(self, partial: EpochAccumulator | None) -> dict[str, Any]:
        arrays, meta = self.exp.data.preprocessor.state()
        self.progress.partial = partial.to_state() if partial is not None else {}
        return {
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.exp.schedule.state_dict() if self.exp.schedule else None,
            "rng": random.get_state(),
            "progress": self.progress.to_state(),
            "preprocessor": {"arrays": arrays, "meta": meta},
            "data_info": self.info.to_json(),
        }

    def _save(
        self,
        tag: str,
        metrics: dict[str, float],
        partial: EpochAccumulator | None = None,
        also: tuple[str, ...] = (),
    ) -> None:
        metadata = {
            "config": self.exp.config_text,
            "epoch": self.progress.epoch,
            "step": self.progress.step,
            "metrics": metrics,
        }
        state = self._state(partial)
        self.checkpoints.save(tag, self.exp.model.state_dict(), metadata, state, also)

    # ----------------------------------------------------------------- signals
    @contextmanager
    def _interruptible(self) -> Iterator[None]:
        """First Ctrl-C/SIGTERM: finish the step, save, stop. A second one aborts at once."""

        def handler(signum: int, frame: Any) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True
            self.reporter.message(
                "interrupt received: finishing the current step and saving"
                " (press Ctrl-C again to abort without saving)",
                "yellow",
            )

        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not the main thread (e.g. a sweep worker thread): no handler to install.
            with suppress(ValueError):
                previous[sig] = signal.signal(sig, handler)
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    # ----------------------------------------------------------------- the loop
    def fit(self) -> dict[str, Any]:
        exp = self.exp
        self.reporter.start(
            RunInfo(
                run_dir=self.run_dir,
                config_name=exp.name,
                epochs=self.epochs,
                batches_per_epoch=len(self.train_loader),
                samples_per_epoch=len(exp.data.splits["train"]),
                parameters=exp.model.num_parameters(),
                resumed_from_epoch=self.progress.epoch,
                metrics=tuple(self.logger.columns),
            )
        )
        summary: dict[str, Any] = {"status": "failed", "run_dir": str(self.run_dir)}
        try:
            # A diverging step overflows before the loss check names it: no numpy warnings.
            with self._interruptible(), np.errstate(over="ignore", invalid="ignore"):
                while (
                    self.progress.epoch < self.epochs
                    and not self.progress.stopped_early
                    and self.stop_status is None
                ):
                    self._run_epoch()
            test_metrics = self._finish()
            status = self.stop_status or ("stopped" if self.progress.stopped_early else "finished")
            summary = self._write_summary(status, test_metrics)
        except TrainingInterrupted as error:
            summary = self._write_summary("interrupted", {}, str(error))
            raise
        except NonFiniteLoss as error:
            summary = self._write_summary("diverged", {}, str(error))
            raise
        except BaseException as error:
            summary = self._write_summary("failed", {}, f"{type(error).__name__}: {error}")
            raise
        finally:
            self.checkpoints.wait()
            self.reporter.end(summary)
            locking.release(self.run_dir)  # taken by start_run / resume_run
        return summary

    def request_stop(self, status: str = "stopped") -> None:
        """End the run cleanly after the current epoch, recording `status` (e.g. a sweep
        pruning a trial). Unlike Ctrl-C this is a normal end: test metrics, summary."""
        self.stop_status = status

    def _run_epoch(self) -> None:
        exp, progress = self.exp, self.progress
        epoch = progress.epoch + 1
        self.reporter.epoch_start(epoch)
        started = time.perf_counter()
        exp.model.train()
        partial = progress.partial
        acc = EpochAccumulator.from_state(partial) if partial else EpochAccumulator()
        skip = progress.batch
        params = [p for p in exp.model.parameters() if p.requires_grad]
        clip_norm, clip_value = exp.train.clip_grad_norm, exp.train.clip_grad_value
        on_nan = exp.train.on_nan
        step_schedule = exp.schedule if exp.schedule and exp.schedule.interval == "step" else None
        live = getattr(self.reporter, "shows_batch_metrics", False)
        correct = counted = 0
        for index, (inputs, targets) in enumerate(self.train_loader.batches(progress.epoch)):
            if index < skip:
                continue
            outputs, loss = self.forward(inputs, targets)
            value = float(loss.data)
            if not math.isfinite(value):
                if on_nan == "stop":
                    raise NonFiniteLoss(
                        f"the loss became {value} at epoch {epoch}, step {progress.step + 1} "
                        f"(batch {index + 1}); the last finite loss was "
                        f"{progress.last_finite_loss}. {self._kept_checkpoint()} Lower the "
                        "learning rate, clip gradients (train.clip_grad_norm), or set "
                        "train.on_nan: skip_batch."
                    )
                progress.skipped_batches += 1
                progress.batch = index + 1
                self.optimizer.zero_grad()
                self.reporter.message(
                    f"non-finite loss at epoch {epoch}, batch {index + 1}: batch skipped", "yellow"
                )
                continue
            progress.last_finite_loss = value
            self.forward.backward(loss)
            if clip_norm is not None:
                clip_grad_norm(params, clip_norm)
            if clip_value is not None:
                clip_grad_value(params, clip_value)
            self.optimizer.step()
            self.optimizer.zero_grad()
            if step_schedule is not None:
                step_schedule.step()
            progress.step += 1
            progress.batch = index + 1
            if self.diagnostics:
                self.diagnostics.after_step(epoch, progress.step)
            numpy_outputs = _numpy_outputs(outputs)
            acc.add(
                value,
                self.info.task.batch_weight(targets),
                numpy_outputs,
                targets,
                exp.metrics,
                self.info.task,
                self.info.num_classes,
            )
            running: dict[str, float] = {}
            if live:
                hits, seen = self.info.task.batch_correct(numpy_outputs, targets)
                correct, counted = correct + hits, counted + seen
                running = {"accuracy": correct / counted} if counted else {}
            self.reporter.batch_end(index + 1, acc.loss, running, len(targets))
            if self.stop_requested:
                self._save("last", {}, partial=acc)
                raise TrainingInterrupted(self._resume_hint())
        if self.diagnostics:
            self.diagnostics.end_epoch(epoch, progress.step)
        self._end_epoch(epoch, acc, time.perf_counter() - started)

    def _end_epoch(self, epoch: int, acc: EpochAccumulator, seconds: float) -> None:
        exp, progress = self.exp, self.progress
        train = {
            "loss": acc.loss,
            **acc.metrics(exp.metrics, self.info.task, self.info.num_classes),
        }
        val = self.evaluate("val") if "val" in exp.data.splits else {}
        lr = float(self.optimizer.param_groups[0]["lr"])
        if exp.schedule is not None and exp.schedule.interval == "epoch":
            if isinstance(exp.schedule, ReduceOnPlateauSchedule):  # stepped with the metric
                exp.schedule.step(self._lookup(exp.schedule.monitor, train, val))
            else:
                exp.schedule.step()
        progress.epoch, progress.batch, progress.partial = epoch, 0, {}
        metrics = {f"train_{k}": v for k, v in train.items()}
        metrics.update({f"val_{k}": v for k, v in val.items()})
        improved = self._track_best(self._lookup(self.monitor, train, val), epoch)
        for split, values in (("train", train), ("val", val)):
            if values:
                self.logger.log(
                    epoch,
                    split,
                    step=progress.step,
                    loss=values["loss"],
                    metrics={k: v for k, v in values.items() if k != "loss"},
                    lr=lr,
                    seconds=seconds,
                )
        # One write per epoch; `best` and the periodic tag are second names for its files.
        periodic = (periodic_tag(epoch),) if self.every and epoch % self.every == 0 else ()
        self._save("last", metrics, also=(("best",) if improved else ()) + periodic)
        patience_left = None
        if self.early:
            # Keras/Lightning: stop once `patience` epochs in a row brought no improvement.
            patience_left = max(self.early.patience - progress.bad_epochs, 0)
            if not improved and progress.bad_epochs >= self.early.patience:
                progress.stopped_early = True
        self.reporter.epoch_end(
            EpochRow(
                epoch=epoch,
                train_loss=train["loss"],
                train_metrics={k: v for k, v in train.items() if k != "loss"},
                val_loss=val.get("loss"),
                val_metrics={k: v for k, v in val.items() if k != "loss"},
                lr=lr,
                seconds=seconds,
                best=improved,
                patience_left=patience_left,
            )
        )
        if self.diagnostics:
            self.diagnostics.report()
        if progress.stopped_early:
            self.reporter.message(
                f"early stopping: {self.monitor} has not improved for "
                f"{progress.bad_epochs} epochs (best {progress.best_value:.6g} at epoch "
                f"{progress.best_epoch})"
            )

    def _lookup(self, name: str, train: dict[str, float], val: dict[str, float]) -> float:
        split, _, key = name.partition("_")
        source = {"train": train, "val": val}.get(split)
        if source is None or key not in source:
            available = [f"train_{k}" for k in train] + [f"val_{k}" for k in val]
            raise NnrunError(f"cannot monitor {name!r}: this run logs {', '.join(available)}")
        return float(source[key])

    def _track_best(self, value: float, epoch: int) -> bool:
        progress = self.progress
        delta = self.early.min_delta if self.early else 0.0
        best = progress.best_value
        better = best is None or (
            value < best - delta if self.mode == "min" else value > best + delta
        )
        if better:
            progress.best_value, progress.best_epoch, progress.bad_epochs = value, epoch, 0
        else:
            progress.bad_epochs += 1
        return better

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, split: str) -> dict[str, float]:
        """Loss and metrics of a split, without building graphs."""
        return evaluate_split(self.exp, split, self.eval_batch, forward=self.eval_forward)[0]

    def _finish(self) -> dict[str, float]:
        """Test metrics of the best checkpoint (what `nnrun eval` and `predict` use).

        With early stopping's `restore_best` the model keeps the best weights afterwards;
        otherwise it is left with the last epoch's."""
        exp = self.exp
        if "test" not in exp.data.splits and not self.early:
            return {}
        final = {k: v.copy() for k, v in exp.model.state_dict().items()}
        if self.checkpoints.exists("best"):
            exp.model.load_state_dict(self.checkpoints.load("best").weights)
        test = self.evaluate("test") if "test" in exp.data.splits else {}
        if not (self.early and self.early.restore_best):
            exp.model.load_state_dict(final)
        return test

    def _kept_checkpoint(self) -> str:
        """Where the last good weights are, or that there are none yet."""
        if not self.checkpoints.exists("last"):
            return "No checkpoint was written: it diverged before the first epoch ended."
        return (
            f"The last good checkpoint (epoch {self.progress.epoch}) is kept in "
            f"{self.run_dir / 'checkpoints' / 'last'}."
        )

    def _resume_hint(self) -> str:
        return (
            f"training interrupted at epoch {self.progress.epoch + 1}, step "
            f"{self.progress.step}; the last checkpoint is saved. Resume with:\n"
            f"  nnrun train --resume {self.run_dir}"
        )

    def _write_summary(
        self, status: str, test: dict[str, float], error: str | None = None
    ) -> dict[str, Any]:
        exp, progress = self.exp, self.progress
        final: dict[str, float] = {}
        rows = _last_rows(self.run_dir)
        for split, row in rows.items():
            final.update({f"{split}_{k}": v for k, v in row.items()})
        summary = {
            "name": exp.name,
            "status": status,
            "run_dir": str(self.run_dir),
            "epochs": progress.epoch,
            "max_epochs": self.epochs,
            "steps": progress.step,
            "stopped_early": progress.stopped_early,
            "best": {
                "metric": self.monitor,
                "mode": self.mode,
                "value": progress.best_value,
                "epoch": progress.best_epoch,
            },
            "final": final,
            "test": {f"test_{k}": v for k, v in test.items()},
            "skipped_batches": progress.skipped_batches,
            "wall_time": time.time() - self.started,
            "parameters": exp.model.num_parameters(),
            "trainable_parameters": exp.model.num_parameters(trainable_only=True),
            "seed": exp.seed,
            "config_hash": exp.config_hash,
            "nnrun_version": nnrun_version(),
            "numpy_version": np.__version__,
            "started": datetime.fromtimestamp(self.started).isoformat(timespec="seconds"),
        }
        if error:
            summary["error"] = error
        if self.diagnostics:
            epoch, step = self.progress.epoch + 1, self.progress.step
            summary["findings"] = self.diagnostics.final(status, epoch, step)
        write_json_atomic(self.run_dir / "summary.json", summary)
        return summary


def _last_rows(run_dir: Path) -> dict[str, dict[str, float]]:
    """The last logged row per split (loss and metrics) from metrics.jsonl."""
    rows: dict[str, dict[str, float]] = {}
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return rows
    for line in complete_lines(path):  # a line torn by a crash or a full disk is skipped
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("split"), str):
            continue
        split = row.pop("split")
        for key in ("epoch", "step", "lr", "seconds"):
            row.pop(key, None)
        rows[split] = row
    return rows


def model_forward(exp: Experiment, reduce: bool) -> Callable[[Any, Any], tuple[Any, Tensor]]:
    """(outputs, loss) of a batch; the loss averaged to a scalar if `reduce`."""

    def forward(inputs: Any, targets: Any) -> tuple[Any, Tensor]:
        outputs = exp.model(as_input(inputs))
        loss = exp.loss(*loss_arguments(outputs, targets, exp.loss))
        return outputs, loss.mean() if reduce and loss.data.size != 1 else loss

    return forward


def _silent(message: str) -> None:
    """Evaluation says nothing about a fallback: the training run has said it."""


def replayed(exp: Experiment, fn: Callable[..., Any]) -> Compiled | Eager:
    """`fn` (a forward pass of `exp.model`) compiled as train.compile asks; evaluation
    replays forward-only plans (and stays quiet about a fallback: training noted it)."""
    model = exp.model
    mode = exp.train.compile
    return compiled_call(fn, mode, key=lambda: model.training, note=_silent)


def predict_outputs(exp: Experiment, inputs: Any, batch_size: int) -> Any:
    """Model outputs (numpy) for inputs, in eval mode and batches, without graphs."""
    model = exp.model
    model.eval()
    chunks: list[Any] = []
    forward = replayed(exp, lambda x: model(as_input(x)))
    with no_grad():
        if isinstance(inputs, dict) or batch_size <= 0:
            return _numpy_outputs(forward(inputs))
        for start in range(0, len(inputs), batch_size):
            chunks.append(_numpy_outputs(forward(inputs[start : start + batch_size])))
    if chunks and isinstance(chunks[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*chunks, strict=True))
    return np.concatenate(chunks) if chunks else np.empty((0,))


def evaluate_split(
    exp: Experiment,
    split: str,
    batch_size: int,
    data_split: Any = None,
    forward: Compiled | Eager | None = None,
) -> tuple[dict[str, float], np.ndarray | None, np.ndarray | None]:
    """(loss and metrics, outputs, targets) of one split in eval mode; `forward` is a
    `replayed` model_forward kept across calls (the trainer's, evaluating every epoch)."""
    part = data_split if data_split is not None else exp.data.splits[split]
    model, info = exp.model, exp.data.info
    model.eval()
    acc = EpochAccumulator()
    forward = forward or replayed(exp, model_forward(exp, reduce=False))
    with no_grad():
        for inputs, targets in BatchLoader(part, batch_size, shuffle=False).batches(0):
            outputs, loss = forward(inputs, targets)
            acc.add(
                float(loss.data.mean()),
                info.task.batch_weight(targets),
                _numpy_outputs(outputs),
                targets,
                exp.metrics,
                info.task,
                info.num_classes,
            )
    model.train()
    results = {"loss": acc.loss, **acc.metrics(exp.metrics, info.task, info.num_classes)}
    kept_outputs = np.concatenate(acc.outputs) if acc.outputs else None
    kept_targets = np.concatenate(acc.targets) if acc.targets else None
    return results, kept_outputs, kept_targets
