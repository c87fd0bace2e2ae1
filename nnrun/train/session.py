"""Starting, resuming and re-opening runs: the glue between run directories, configs,
checkpoints and experiments that `train`, `eval` and `predict` share."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from nnrun.checkpoint import MANIFEST_FILE, MODEL_FILE, Checkpoint, load_checkpoint
from nnrun.config.loader import parse_text
from nnrun.config.paths import format_path
from nnrun.config.resolve import ResolvedConfig, load_resolved_dict, resolve_config
from nnrun.data import DataBundle, Preprocessor
from nnrun.errors import CheckpointError, ConfigError, Problem
from nnrun.experiment import Experiment, build_experiment, validate
from nnrun.fileio import write_json_atomic
from nnrun.train.rundir import LATEST, create_run_dir, resolve_run, update_latest

CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"


def start_run(exp: Experiment, out: Path | None) -> Path:
    """Create the run directory with its resolved config and `run.json`; point `latest`."""
    if exp.optimizer is None:
        raise ConfigError(
            Problem(
                "the model has no parameters to train (nnrun graph, validate and gradcheck "
                "show and check it)",
                "model",
                exp.cfg.where(("model",)),
                expected="a layer or parameter node with weights",
                found="no parameters",
            )
        )
    output_dir = Path(exp.config["output_dir"])
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
        if (run_dir / CONFIG_FILE).exists():
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
    (run_dir / CONFIG_FILE).write_text(exp.config_text)
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
    info = run_dir / RUN_FILE
    if info.exists():
        return Path(json.loads(info.read_text())["base_dir"])
    return Path.cwd()


def resume_run(
    target: Path, config: Path | None, overrides: list[str], force: bool, seed: int | None
) -> tuple[Experiment, Path, Checkpoint]:
    """The experiment and `last` checkpoint of a run to continue.

    The run's saved config is used; `--set train.epochs=N` may extend it, any other change
    (from CONFIG or --set) is refused unless `force`, naming the differences.
    """
    run_dir = resolve_run(target)
    saved_path = run_dir / CONFIG_FILE
    if not saved_path.exists():
        raise CheckpointError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    saved = resolve_config(saved_path)
    saved_config = dict(validate(saved)[0])
    candidate = resolve_config(config if config else saved_path, overrides)
    if seed is not None:
        candidate.data["seed"] = seed
    new_config, _ = validate(candidate)
    changes = [
        line
        for line in config_differences(saved_config, new_config)
        # Training longer or switching diagnostics on does not change the experiment.
        if not line.startswith(("train.epochs:", "train.diagnose"))
    ]
    if changes and not force:
        raise ConfigError(
            Problem(
                "the config differs from the run's saved config; resuming would not continue "
                "the same experiment. Differences: " + "; ".join(changes) + ". Pass --force to "
                "resume with the new config anyway, or start a new run.",
                location=None,
                expected="the saved config (only train.epochs and train.diagnose may change)",
                found=f"{len(changes)} difference(s)",
            )
        )
    candidate.path = str(saved_path)
    exp = build_experiment(candidate, _base_dir(run_dir), pretrained=False)
    (run_dir / CONFIG_FILE).write_text(exp.config_text)
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last")
    _check_weights(exp, checkpoint)
    return exp, run_dir, checkpoint


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
        run_dir = folder.resolve().parent.parent
        run_dir = run_dir if (run_dir / CONFIG_FILE).exists() else None
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
    expected = {k: tuple(v.shape) for k, v in exp.model.state_dict().items()}
    checkpoint.check_compatible(expected)
