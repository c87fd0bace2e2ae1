"""Starting, resuming and re-opening runs: the glue between run directories, configs,
checkpoints and experiments that `train`, `eval` and `predict` share."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nnrun import locking
from nnrun.checkpoint import (
    MANIFEST_FILE,
    MODEL_FILE,
    Checkpoint,
    CheckpointManager,
    load_checkpoint,
)
from nnrun.config.loader import parse_text
from nnrun.config.paths import format_path
from nnrun.config.resolve import ResolvedConfig, load_resolved_dict, resolve_config
from nnrun.data import DataBundle, Preprocessor
from nnrun.errors import CheckpointError, ConfigError, NnrunError, Problem
from nnrun.experiment import Experiment, build_experiment, validate
from nnrun.fileio import write_json_atomic, write_text_atomic
from nnrun.limits import read_bounded
from nnrun.train.loop import restore_state
from nnrun.train.rundir import LATEST, create_run_dir, resolve_run, update_latest

CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"


def start_run(exp: Experiment, out: Path | None) -> Path:
    """Create the run directory with its resolved config and `run.json`; point `latest`.

    The run directory's lock is taken first and held until the trainer ends (or the process
    dies), so a second process on the same ``--out`` is refused instead of mixing files."""
    if exp.optimizer is None:
        raise ConfigError(
            Problem(
                "the model has no parameters to train (nnrun graph, validate and gradcheck "
                "show and check it)",
                "model",
                exp.spec.model.at.where(),
                expected="a layer or parameter node with weights",
                found="no parameters",
            )
        )
    output_dir = Path(exp.spec.output_dir)
    if out is not None:
        run_dir = Path(out)
        if holds_runs(run_dir):
            raise ConfigError(
                Problem(
                    f"{run_dir} holds other runs (runs of a config go to "
                    f"{output_dir}/<name>/<time>/); a run written into it would hide them "
                    f"from nnrun runs. Pick a new directory, e.g. --out {run_dir / 'my_run'}, "
                    "or leave out --out",
                    expected="a new or empty directory",
                    found=str(run_dir),
                )
            )
        run_dir.mkdir(parents=True, exist_ok=True)
        locking.acquire(run_dir)
        if (run_dir / CONFIG_FILE).exists():
            locking.release(run_dir)
            raise ConfigError(
                Problem(
                    f"{run_dir} already holds a run; resume it with --resume {run_dir}, or pick "
                    "another --out",
                    expected="a new or empty directory",
                    found=str(run_dir),
                )
            )
    else:
        if (output_dir / exp.name / CONFIG_FILE).exists():
            raise ConfigError(
                Problem(
                    f"{output_dir / exp.name} is a single run (written with --out), where the "
                    f"runs of {exp.name!r} would go; move it aside, or give this run "
                    "another name (--set name=...)",
                    expected=f"{output_dir / exp.name} to hold runs",
                    found="a run directory",
                )
            )
        run_dir = create_run_dir(output_dir, exp.name)
        locking.acquire(run_dir)
    write_text_atomic(run_dir / CONFIG_FILE, exp.config_text)
    write_json_atomic(
        run_dir / RUN_FILE,
        {
            "config_path": str(Path(exp.cfg.path).resolve()),
            "base_dir": str(exp.base_dir),
            "command": " ".join(shlex.quote(a) for a in sys.argv),
            "created": datetime.now().isoformat(timespec="seconds"),
        },
    )
    if out is None:
        update_latest(output_dir, exp.name, run_dir)
    return run_dir


def holds_runs(path: Path) -> bool:
    """Whether `path` is a folder of runs (`output_dir/<name>`): it has a `latest` pointer
    or a run directory directly inside."""
    if not path.is_dir():
        return False
    if (path / LATEST).exists() or (path / LATEST).is_symlink():
        return True
    return any((child / CONFIG_FILE).is_file() for child in path.iterdir() if child.is_dir())


def _leaves(value: Any, path: tuple = ()) -> dict[tuple, Any]:
    if isinstance(value, dict):
        out: dict[tuple, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, (*path, key)))
        return out or {path: {}}
    return {path: value}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two validated configs."""
    a, b = _leaves(old), _leaves(new)
    lines = []
    for key in sorted(set(a) | set(b), key=str):
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            lines.append(
                f"{format_path(key)}: {a.get(key, '<absent>')!r} -> {b.get(key, '<absent>')!r}"
            )
    return lines


def _base_dir(run_dir: Path) -> Path:
    """The folder the run's relative data paths are read from (recorded in run.json)."""
    info = run_dir / RUN_FILE
    if not info.exists():
        return Path.cwd()
    try:
        base = json.loads(read_bounded(info, 1 << 20, "run file"))["base_dir"]
        if not isinstance(base, str) or not base or "\0" in base:
            raise TypeError(f"base_dir must be a path, found {base!r}")
    except (ValueError, KeyError, TypeError, NnrunError) as error:
        detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise CheckpointError(
            f"{info} is corrupted ({detail}); it should be the JSON object nnrun wrote "
            "when the run started"
        ) from None
    return Path(base)


def _epochs_done(checkpoint: Checkpoint) -> int:
    epoch = checkpoint.metadata.epoch
    return epoch if isinstance(epoch, int) and epoch >= 0 else 0


def resume_run(
    target: Path,
    config: Path | None,
    overrides: list[str],
    force: bool,
    seed: int | None,
    loggers: Sequence[str] = (),
) -> tuple[Experiment, Path, Checkpoint | None]:
    """The experiment and `last` checkpoint of a run to continue.

    The run's saved config is used; `--set train.epochs=N` may extend it and `loggers` (from
    ``--logger``) or ``train.loggers`` may add loggers; any other change (from CONFIG or
    --set) is refused unless `force`, naming the differences. Everything is checked (config,
    weights, training state) before anything is written, so a refused resume leaves the run
    as it was. A run killed before its first checkpoint has none to continue from: it is
    restarted in place (the checkpoint returned is None).
    """
    run_dir = resolve_run(target)
    if not (run_dir / CONFIG_FILE).exists():  # checked before the lock: no stray .lock files
        raise CheckpointError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    locking.acquire(run_dir)
    try:
        return _resume(run_dir, config, overrides, force, seed, loggers)
    except BaseException:
        locking.release(run_dir)
        raise


def _resume(
    run_dir: Path,
    config: Path | None,
    overrides: list[str],
    force: bool,
    seed: int | None,
    loggers: Sequence[str],
) -> tuple[Experiment, Path, Checkpoint | None]:
    from nnrun.loggers import add_loggers

    saved_path = run_dir / CONFIG_FILE
    if not saved_path.exists():
        raise CheckpointError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    saved = resolve_config(saved_path)
    validate(saved)
    saved_config = saved.data
    candidate = resolve_config(config if config else saved_path, overrides)
    if seed is not None:
        candidate.data["seed"] = seed
    add_loggers(candidate, loggers)
    validate(candidate)
    new_config = candidate.data
    changes = [
        line
        for line in config_differences(saved_config, new_config)
        # Training longer, switching diagnostics on or adding loggers does not change the
        # experiment.
        if not line.startswith(("train.epochs:", "train.diagnose", "train.loggers:"))
    ]
    if changes and not force:
        raise ConfigError(
            Problem(
                "the config differs from the run's saved config; resuming would not continue "
                "the same experiment. Differences: " + "; ".join(changes) + ". Pass --force to "
                "resume with the new config anyway, or start a new run.",
                location=None,
                expected="the saved config (only train.epochs, train.diagnose and train.loggers "
                "may change)",
                found=f"{len(changes)} difference(s)",
            )
        )
    candidate.path = str(saved_path)
    manager = CheckpointManager(run_dir / "checkpoints")
    resumable = manager.exists("last")
    # A run with a checkpoint takes its weights from it; one restarted in place starts
    # from the pre-trained weights (model.init_from) as a new run would.
    exp = build_experiment(candidate, _base_dir(run_dir), pretrained=not resumable)
    checkpoint = manager.load("last") if resumable else None
    if checkpoint is not None:
        _check_weights(exp, checkpoint)
        done = _epochs_done(checkpoint)
        if exp.train.epochs < done:
            raise ConfigError(
                Problem(
                    f"the run has already trained {done} epochs; train.epochs cannot go below "
                    "that (raise it to train longer)",
                    "train.epochs",
                    candidate.where(("train", "epochs")),
                    expected=f"at least {done}",
                    found=str(exp.train.epochs),
                )
            )
        restore_state(exp, checkpoint)
    _commit_config(run_dir, exp)
    return exp, run_dir, checkpoint


def _commit_config(run_dir: Path, exp: Experiment) -> None:
    """Write the (possibly extended) config, and the summary's epoch target with it."""
    write_text_atomic(run_dir / CONFIG_FILE, exp.config_text)
    summary_path = run_dir / "summary.json"
    try:
        summary = json.loads(read_bounded(summary_path, 16 << 20, "summary"))
    except (OSError, ValueError, NnrunError):
        return  # no summary yet (or an unreadable one): the trainer writes a fresh one
    if isinstance(summary, dict):
        summary.update(max_epochs=exp.train.epochs, config_hash=exp.config_hash)
        write_json_atomic(summary_path, summary)


@dataclass
class OpenedRun:
    """A finished (or checkpointed) run loaded for eval/predict."""

    run_dir: Path | None
    experiment: Experiment
    checkpoint: Checkpoint
    preprocessor: Preprocessor


def _config_from_checkpoint(checkpoint: Checkpoint) -> ResolvedConfig:
    text = checkpoint.metadata.config
    if not text:
        raise CheckpointError(
            f"{checkpoint.path} carries no config in its metadata; pass the run directory instead"
        )
    return load_resolved_dict(parse_text(text, str(checkpoint.path)).data, str(checkpoint.path))


def open_run(target: Path, data: DataBundle | None = None) -> OpenedRun:
    """Load a run directory (its best checkpoint, else last) or a checkpoint, rebuild the
    experiment from the saved config and put the trained weights in."""
    target = Path(target)
    is_checkpoint = (
        target.is_file() or (target / MANIFEST_FILE).exists() or (target / MODEL_FILE).exists()
    )
    if is_checkpoint:
        checkpoint = load_checkpoint(target)
        folder = checkpoint.path if checkpoint.path.is_dir() else checkpoint.path.parent
        parent_run = folder.resolve().parent.parent
        run_dir = parent_run if (parent_run / CONFIG_FILE).exists() else None
    else:
        run_dir = resolve_run(target)
        checkpoint = load_checkpoint(run_dir)
    if run_dir is not None:
        cfg = resolve_config(run_dir / CONFIG_FILE)
        base_dir = _base_dir(run_dir)
    else:
        cfg = _config_from_checkpoint(checkpoint)
        base_dir = Path.cwd()
    exp = build_experiment(cfg, base_dir, data=data, pretrained=False)
    _check_weights(exp, checkpoint)
    exp.model.load_state_dict(checkpoint.weights)
    state = checkpoint.state or {}
    saved = state.get("preprocessor")
    preprocessor = (
        Preprocessor.from_state(saved["arrays"], saved["meta"]) if saved else exp.data.preprocessor
    )
    return OpenedRun(run_dir, exp, checkpoint, preprocessor)


def _check_weights(exp: Experiment, checkpoint: Checkpoint) -> None:
    own = exp.model.state_dict()
    checkpoint.check_compatible({k: tuple(v.shape) for k, v in own.items()})
    wrong = [
        f"{name} is {checkpoint.weights[name].dtype}, the model's {array.dtype}"
        for name, array in own.items()
        if checkpoint.weights[name].dtype != array.dtype
    ]
    if wrong:
        raise CheckpointError(
            f"the weights in {checkpoint.path} do not fit the model: " + "; ".join(wrong)
        )
