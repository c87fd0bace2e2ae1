"""`model.init_from`: initialize a built model from pre-trained weights (all of a checkpoint,
or the keys under a prefix, optionally renamed) and freeze named parameters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nnrun.checkpoint import load_checkpoint
from nnrun.errors import CheckpointError, ConfigError, Problem
from nnrun.nn.module import Module
from nnrun.registry import suggest

if TYPE_CHECKING:
    from nnrun.spec import InitFrom


def apply_init_from(spec: InitFrom, model: Module, base_dir: Path) -> list[str]:
    """Load pre-trained weights (all, or a prefix, optionally renamed) and freeze some;
    problems are reported at their key under `model.init_from`."""

    def fail(message: str, key: str) -> ConfigError:
        return ConfigError(Problem(message, spec.at.key_path(key), spec.at.where(key)))

    source = Path(spec.checkpoint)
    source = source if source.is_absolute() else base_dir / source
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
    freeze = list(spec.freeze)
    try:
        return model.freeze(freeze) if freeze else []
    except CheckpointError as error:
        raise fail(str(error), "freeze") from None
