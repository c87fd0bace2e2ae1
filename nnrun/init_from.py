"""`model.init_from`: initialize a built model from pre-trained weights (all of a checkpoint,
or the keys under a prefix, optionally renamed) and freeze named parameters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnrun.checkpoint import load_checkpoint
from nnrun.errors import CheckpointError, ConfigError, Problem
from nnrun.nn.module import Module
from nnrun.registry import suggest

if TYPE_CHECKING:
    from nnrun.spec import InitFrom


def apply_init_from(
    spec: InitFrom,
    model: Module,
    base_dir: Path,
    output_dir: Path = Path("outputs"),
    load: bool = True,
) -> list[str]:
    """Load pre-trained weights (all, or a prefix, optionally renamed) and freeze some;
    problems are reported at their key under `model.init_from`.

    `load=False` only freezes: a resumed or re-opened run takes its weights from its own
    checkpoint, so the pre-trained source need not exist any more."""

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(Problem(message, spec.at.key_path(key), spec.at.where(key)))

    if not load:
        return _freeze(model, spec, fail)
    source = _checkpoint_source(spec, base_dir, output_dir)
    if isinstance(source, str):
        raise fail(source, "checkpoint")
    try:
        weights = load_checkpoint(source).weights
    except CheckpointError as error:
        raise fail(str(error), "checkpoint") from None
    prefix = spec.prefix
    selected = {k: v for k, v in weights.items() if k.startswith(prefix)}
    if not selected:
        raise fail(
            f"no weights in {source} start with {prefix!r}; it has: "
            + ", ".join(list(weights)[:12]),
            "prefix",
        )
    for old, new in spec.rename.items():
        selected = {
            (new + k[len(old) :] if k.startswith(old) else k): v for k, v in selected.items()
        }
    own = model.state_dict()
    strange = [k for k in selected if k not in own]
    if strange and spec.strict:
        hints = [
            f"{k} (did you mean {suggest(k, own)[0]!r}?)" if suggest(k, own) else k
            for k in strange[:6]
        ]
        raise fail(
            "weights with no place in this model: "
            + ", ".join(hints)
            + "; use prefix/rename to map them, or strict: false to skip them",
            "rename" if spec.rename else "checkpoint",
        )
    try:
        model.load_state_dict({k: v for k, v in selected.items() if k in own}, strict=False)
    except CheckpointError as error:
        raise fail(str(error), "checkpoint") from None
    return _freeze(model, spec, fail)


def _freeze(model: Module, spec: InitFrom, fail: Any) -> list[str]:
    freeze = list(spec.freeze)
    try:
        return model.freeze(freeze) if freeze else []
    except CheckpointError as error:
        raise fail(str(error), "freeze") from None


def _checkpoint_source(spec: InitFrom, base_dir: Path, output_dir: Path) -> Path | str:
    """The checkpoint `init_from.checkpoint` names, or a message saying what was tried.

    A path is relative to the config file's folder, or to the working directory when it
    was given with --set. A bare name (no folder, e.g. `cnn_digits`) is first a run name:
    `<output_dir>/<name>`, whose `latest` run is used, as `nnrun train` wrote it."""
    where = spec.at.where("checkpoint")
    from_command_line = where is not None and where.file.startswith("--set ")
    written_path = Path(str(spec.checkpoint))
    root = Path.cwd() if from_command_line else base_dir
    candidates = [written_path if written_path.is_absolute() else root / written_path]
    if len(written_path.parts) == 1 and not written_path.suffix:
        candidates.insert(0, Path(output_dir) / written_path)
    for candidate in candidates:
        if (candidate / "latest").exists():  # a folder of runs: its newest
            return candidate / "latest"
        if candidate.exists():
            return candidate
    tried = " or ".join(str(c) for c in candidates)
    return (
        f"no checkpoint at {tried}; give a run name (a folder under output_dir, e.g. "
        "cnn_digits), a run directory, a checkpoint directory or a .safetensors file"
    )
