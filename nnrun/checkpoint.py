"""Checkpoints: weights in safetensors, training state beside them, swapped in atomically.

Layout of a checkpoint directory (normally ``<run>/checkpoints``)::

    last -> .last.3f9c2a1b07d4e6f8          symlinks, each replaced atomically on save
    best -> .best.5d1e0c9a4b7f2e13
    epoch-0005 -> .epoch-0005.0a1b2c3d4e5f6a7b
    .last.3f9c2a1b07d4e6f8/
        model.safetensors   weights: PyTorch state_dict names and layouts, metadata in the header
        state.safetensors   arrays of the training state (optimizer moments, RNG keys, ...)
        state.json          the rest of the training state, referring to those arrays by key
        manifest.json       format version, and byte size + sha256 of every file above

Why a crash never leaves a broken or mixed checkpoint: a save writes a fresh hidden version
directory, fsyncs each file and the directory (all in one batch, one journal commit), then
points ``<tag>`` at it by creating a temporary symlink and ``os.replace``-ing it over ``<tag>``
(rename(2) is atomic on POSIX), and fsyncs the parent once. Tags saved together (``last`` and,
when it improved, ``best``) are second names for one version directory, not copies. A reader
sees the old version or the new one as a whole, never a mix of the two and never a
half-written file. The old version is deleted only after the swap; hidden
leftovers of a crash are never listed as tags and are swept by the next save.

Loading resolves ``<tag>`` once, reads every file into memory and checks it against the
manifest before parsing, so a concurrent save cannot change files under the reader and a
truncated or modified file raises `CheckpointError` instead of loading. Nothing is pickled.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from nnrun.errors import CheckpointError, NnrunError
from nnrun.fileio import (
    OutsideDirectory,
    fsync_directory,
    fsync_together,
    inside,
    plain_name,
    remove_tree_inside,
    replace_symlink,
    write_new,
)
from nnrun.limits import regular_file

FORMAT_VERSION = 1
MODEL_FILE = "model.safetensors"
STATE_ARRAYS_FILE = "state.safetensors"
STATE_JSON_FILE = "state.json"
MANIFEST_FILE = "manifest.json"

# Tags have no dots, so ".<tag>." prefixes of version directories never overlap.
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_PERIODIC = re.compile(r"epoch-(\d+)\Z")
_HIDDEN_ENTRY = re.compile(r"\.([A-Za-z0-9][A-Za-z0-9_-]*)\.[0-9a-f]{16}(\.link)?\Z")
# Header keys written by nnrun itself; callers may not pass them in `metadata`.
_RESERVED_HEADER_KEYS = ("format", "nnrun_format_version", "nnrun_version")
# Markers in state.json for values JSON cannot hold directly.
_ARRAY_MARK = "__ndarray__"
_SCALAR_MARK = "__scalar__"
_TUPLE_MARK = "__tuple__"


def nnrun_version() -> str:
    """The installed nnrun version, or ``nnrun.__version__`` / ``0+unknown`` from a checkout."""
    try:
        return importlib.metadata.version("nnrun")
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(importlib.import_module("nnrun"), "__version__", "0+unknown"))


def periodic_tag(epoch: int) -> str:
    """Tag of the every-N-epochs checkpoint for `epoch` (1-based): ``epoch-0005``."""
    return f"epoch-{epoch:04d}"


@dataclass(frozen=True)
class CheckpointMetadata:
    """What the model file's header says about the checkpoint; None where it was not stored.

    `config` is the resolved config as YAML text, `epoch` and `step` the epoch and optimizer step
    it was saved after, `version` the nnrun version that wrote it, `extra`
    any other header entries (e.g. ``{"format": "pt"}`` in a file saved by PyTorch).
    """

    config: str | None = None
    epoch: int | None = None
    step: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    version: str | None = None
    format_version: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Checkpoint:
    """A loaded checkpoint: weights by state_dict name, parsed metadata, training state.

    `path` is the checkpoint directory, or the file for a lone safetensors file.
    """

    weights: dict[str, np.ndarray]
    metadata: CheckpointMetadata
    state: dict[str, Any] | None
    path: Path

    def check_compatible(self, expected_shapes: dict[str, tuple[int, ...]]) -> None:
        """Raise CheckpointError unless the weights have exactly these names and shapes."""
        source = self.path if self.path.is_file() else self.path / MODEL_FILE
        check_compatible(self.weights, expected_shapes, source=source)


def check_compatible(
    weights: dict[str, np.ndarray],
    expected_shapes: dict[str, tuple[int, ...]],
    source: str | Path | None = None,
) -> None:
    """Raise CheckpointError listing every missing, unexpected and wrongly shaped weight."""
    missing = [name for name in expected_shapes if name not in weights]
    unexpected = [name for name in weights if name not in expected_shapes]
    mismatched = [
        f"{name} expected {tuple(shape)}, found {tuple(weights[name].shape)}"
        for name, shape in expected_shapes.items()
        if name in weights and tuple(weights[name].shape) != tuple(shape)
    ]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if mismatched:
        problems.append("shape mismatches: " + "; ".join(mismatched))
    if problems:
        where = f" in {source}" if source else ""
        raise CheckpointError(
            f"the weights{where} do not fit the model (was it saved from a different "
            f"architecture?): {'; '.join(problems)}"
        )


# ---------------------------------------------------------------- safetensors encoding


def _contiguous_arrays(arrays: dict[str, Any], what: str) -> dict[str, np.ndarray]:
    """Arrays ready for safetensors: C-contiguous, numeric, string keys.

    safetensors 0.8.0 writes the raw buffer of non-C-contiguous arrays (e.g. a transpose)
    in memory order, silently scrambling them (huggingface/safetensors#825), so copy them.
    `np.ascontiguousarray` is avoided because it turns 0-d arrays into 1-d ones.
    """
    out = {}
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"{what} names must be strings, got {name!r}")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{what} {name!r} has dtype {array.dtype}; only numbers and bools")
        out[name] = array if array.flags.c_contiguous else array.copy(order="C")
    return out


def _encode_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """The string→string safetensors header for `metadata` (config, epoch, step, metrics)."""
    # "format": "pt" because the names and layouts are PyTorch's, and loaders such as
    # transformers refuse safetensors files whose format is not one they know.
    header = {
        "format": "pt",
        "nnrun_format_version": str(FORMAT_VERSION),
        "nnrun_version": nnrun_version(),
    }
    for key, value in metadata.items():
        if key in _RESERVED_HEADER_KEYS:
            raise ValueError(f"checkpoint metadata key {key!r} is written by nnrun itself")
        if key in ("epoch", "step"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"checkpoint metadata {key!r} must be an int, got {value!r}")
            header[key] = str(value)
        elif key == "metrics":
            header[key] = json.dumps({name: float(v) for name, v in value.items()})
        elif isinstance(value, str):
            header[key] = value
        else:
            raise TypeError(f"checkpoint metadata {key!r} must be a string, got {value!r}")
    return header


def _decode_metadata(header: dict[str, str], source: Path) -> CheckpointMetadata:
    extra = {k: v for k, v in header.items() if k not in ("config", "epoch", "step", "metrics")}
    version = extra.pop("nnrun_version", None)
    format_text = extra.pop("nnrun_format_version", None)
    try:
        epoch = int(header["epoch"]) if "epoch" in header else None
        step = int(header["step"]) if "step" in header else None
        format_version = int(format_text) if format_text is not None else None
        metrics = json.loads(header["metrics"]) if "metrics" in header else {}
        if not isinstance(metrics, dict):
            raise TypeError(f"metrics must be a mapping, found {type(metrics).__name__}")
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{source}: unreadable metadata in the header ({error})") from None
    if format_version is not None and format_version > FORMAT_VERSION:
        raise CheckpointError(
            f"{source} was written by a newer nnrun ({version}, checkpoint format "
            f"{format_version}); this nnrun reads formats up to {FORMAT_VERSION}: upgrade nnrun"
        )
    return CheckpointMetadata(
        config=header.get("config"),
        epoch=epoch,
        step=step,
        metrics=metrics,
        version=version,
        format_version=format_version,
        extra=extra,
    )


def _parse_safetensors(data: bytes, source: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays and header metadata of a safetensors file's bytes."""
    try:
        arrays = load_safetensors(data)
    except SafetensorError as error:
        raise CheckpointError(
            f"{source} is not a valid safetensors file (truncated or corrupted?): {error}"
        ) from None
    # safetensors validated the layout above; its header is an 8-byte little-endian
    # length followed by that many bytes of JSON, whose "__metadata__" holds our strings.
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    return arrays, header.get("__metadata__") or {}


# ---------------------------------------------------------------- nested training state


def flatten_state(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split a nested state into (arrays by dotted key, JSON-able tree referring to them).

    Values may be NumPy arrays or scalars, Python ints/floats/bools/None/strings, lists,
    tuples and dicts with string keys; `unflatten_state` rebuilds it exactly (dtypes, shapes,
    tuples vs lists, NumPy scalars vs 0-d arrays).
    """
    arrays: dict[str, np.ndarray] = {}

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, (np.ndarray, np.generic)):
            key = path or "_"
            suffix = 1
            while key in arrays:  # dotted paths can collide ({"a.b": x} vs {"a": {"b": y}})
                key = f"{path}#{suffix}"
                suffix += 1
            arrays[key] = np.asarray(value)
            return {_ARRAY_MARK: key, _SCALAR_MARK: isinstance(value, np.generic)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [encode(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return {_TUPLE_MARK: [encode(item, f"{path}.{i}") for i, item in enumerate(value)]}
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str) or key in (_ARRAY_MARK, _SCALAR_MARK, _TUPLE_MARK):
                    raise TypeError(f"state key {key!r} at {path or 'top level'!r} must be a str")
                out[key] = encode(item, f"{path}.{key}" if path else key)
            return out
        raise TypeError(
            f"state value at {path!r} has type {type(value).__name__}; a checkpoint stores "
            "arrays, numbers, strings, bools, None, lists, tuples and dicts with str keys"
        )

    if not isinstance(state, dict):
        raise TypeError(f"training state must be a dict, got {type(state).__name__}")
    tree = encode(state, "")
    return arrays, tree


def unflatten_state(arrays: dict[str, np.ndarray], tree: dict[str, Any]) -> dict[str, Any]:
    """Inverse of `flatten_state`."""

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(item) for item in value]
        if not isinstance(value, dict):
            return value
        if _ARRAY_MARK in value:
            key = value[_ARRAY_MARK]
            if key not in arrays:
                raise CheckpointError(f"{STATE_JSON_FILE} refers to array {key!r} that is missing")
            return arrays[key][()] if value[_SCALAR_MARK] else arrays[key]
        if _TUPLE_MARK in value:
            return tuple(decode(item) for item in value[_TUPLE_MARK])
        return {key: decode(item) for key, item in value.items()}

    return decode(tree)


# ---------------------------------------------------------------- reading


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_bytes())
        files = manifest["files"]
        format_version = int(manifest["format_version"])
        entries = {name: (int(e["bytes"]), str(e["sha256"])) for name, e in files.items()}
    except (FileNotFoundError, NotADirectoryError):
        raise CheckpointError(
            f"{directory} is not a complete checkpoint: {MANIFEST_FILE} is missing"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"{path} is corrupted: {error!r}") from None
    if format_version > FORMAT_VERSION:
        raise CheckpointError(
            f"{directory} uses checkpoint format {format_version}, newer than this nnrun "
            f"reads ({FORMAT_VERSION}): upgrade nnrun"
        )
    if MODEL_FILE not in entries:
        raise CheckpointError(f"{path} lists no {MODEL_FILE}")
    for name, (size, _) in entries.items():
        if not plain_name(name) or size < 0:
            raise CheckpointError(
                f"{path} is corrupted: it lists {name!r} ({size} bytes); a checkpoint's files "
                "are plain names inside its directory"
            )
    return entries


def _read_verified(directory: Path) -> dict[str, bytes]:
    """Every file of the checkpoint in `directory`, checked against its manifest."""
    contents = {}
    for name, (size, sha256) in _read_manifest(directory).items():
        path = directory / name
        try:
            inside(path, directory, "checkpoint file")
            regular_file(path, "checkpoint file")
            with open(path, "rb") as handle:
                data = handle.read(size + 1)
        except FileNotFoundError:
            raise CheckpointError(
                f"checkpoint {directory} is missing {name} (listed in {MANIFEST_FILE})"
            ) from None
        except (OSError, NnrunError) as error:
            raise CheckpointError(f"cannot read {path}: {_reason(error)}") from None
        if len(data) != size:
            raise CheckpointError(
                f"{path} is truncated or was modified: {MANIFEST_FILE} says {size} bytes, "
                f"found {len(data)}"
            )
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CheckpointError(
                f"{path} is corrupted or was modified: its sha256 does not match {MANIFEST_FILE}"
            )
        contents[name] = data
    return contents


def _load_directory(directory: Path) -> Checkpoint:
    # Resolve the tag symlink once, so a concurrent save cannot swap files mid-read.
    version = directory.resolve()
    contents = _read_verified(version)
    weights, header = _parse_safetensors(contents[MODEL_FILE], directory / MODEL_FILE)
    state = None
    if STATE_JSON_FILE in contents:
        if STATE_ARRAYS_FILE not in contents:
            raise CheckpointError(f"checkpoint {directory} has {STATE_JSON_FILE} but no arrays")
        arrays, _ = _parse_safetensors(contents[STATE_ARRAYS_FILE], directory / STATE_ARRAYS_FILE)
        try:
            tree = json.loads(contents[STATE_JSON_FILE])
            if not isinstance(tree, dict):
                raise TypeError(f"expected a JSON object, found {type(tree).__name__}")
            state = unflatten_state(arrays, tree)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise CheckpointError(f"{directory / STATE_JSON_FILE} is corrupted: {error}") from None
    metadata = _decode_metadata(header, directory / MODEL_FILE)
    return Checkpoint(weights=weights, metadata=metadata, state=state, path=directory)


def _load_weights_file(path: Path) -> Checkpoint:
    """A lone safetensors file (no manifest), e.g. one exported from PyTorch."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read {path}: {error.strerror}") from None
    weights, header = _parse_safetensors(data, path)
    return Checkpoint(weights, _decode_metadata(header, path), None, path)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint from its directory, its ``model.safetensors``, or a run directory.

    A run directory (or its ``checkpoints`` folder) gives ``checkpoints/best`` if present,
    else ``checkpoints/last``. A safetensors file outside a checkpoint directory loads as
    weights with header metadata and no state (files saved by ``safetensors.torch`` work).
    """
    path = Path(path)
    if path.is_file():
        if (path.parent / MANIFEST_FILE).is_file() and path.name == MODEL_FILE:
            return _load_directory(path.parent)
        return _load_weights_file(path)
    if not path.is_dir():
        if path.exists():
            raise CheckpointError(f"no checkpoint at {path}: not a file nnrun can read")
        raise CheckpointError(f"no checkpoint at {path}: no such file or directory")
    if (path / MANIFEST_FILE).exists() or (path / MODEL_FILE).exists():
        return _load_directory(path)
    for folder in (path / "checkpoints", path):
        for tag in ("best", "last"):
            if (folder / tag / MANIFEST_FILE).is_file():
                try:  # a run's own tag: its checkpoint lives beside it, nowhere else
                    inside(folder / tag, folder, f"checkpoint {tag!r}")
                except OutsideDirectory as error:
                    raise CheckpointError(str(error)) from None
                return _load_directory(folder / tag)
    raise CheckpointError(
        f"no checkpoint at {path}: expected a checkpoint directory (with {MANIFEST_FILE}), "
        f"a {MODEL_FILE} file, or a run directory with checkpoints/best or checkpoints/last"
    )


# ---------------------------------------------------------------- the manager


class CheckpointManager:
    """Saves and loads tagged checkpoints (``last``, ``best``, ``epoch-0005``) in `directory`.

    `keep` bounds how many periodic ``epoch-NNNN`` checkpoints stay (oldest deleted first);
    None keeps all. ``last`` and ``best`` are never deleted by it. With `background`, a save
    encodes the checkpoint at once and writes it on a thread; the next save, load or
    `wait()` waits for it (and raises its error, if any).
    """

    def __init__(self, directory: Path, keep: int | None = None, background: bool = False):
        if keep is not None and keep < 1:
            raise ValueError(f"keep must be at least 1 or None, got {keep}")
        self.directory = Path(directory)
        self.keep = keep
        self.background = background
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def save(
        self,
        tag: str,
        weights: dict[str, np.ndarray],
        metadata: dict[str, Any],
        state: dict[str, Any] | None = None,
        also: tuple[str, ...] = (),
    ) -> Path:
        """Write checkpoint `tag` atomically, with the tags in `also` as second names for
        the same files (e.g. ``best`` when ``last`` improved); return its directory.

        `metadata` holds ``config`` (YAML text), ``epoch`` and ``step`` (ints), ``metrics``
        (name → float) and optionally other string entries; `state` is the nested training
        state (see `flatten_state`), restored as `Checkpoint.state`. The arrays are encoded
        before this returns, so the caller may change them right away.
        """
        tags = (tag, *also)
        for name in tags:
            if not _TAG.match(name):
                raise ValueError(f"checkpoint tag {name!r} must be letters, digits, '-' or '_'")
        files = {
            MODEL_FILE: save_safetensors(
                _contiguous_arrays(weights, "weight"), metadata=_encode_metadata(metadata)
            )
        }
        if state is not None:
            arrays, tree = flatten_state(state)
            files[STATE_ARRAYS_FILE] = save_safetensors(_contiguous_arrays(arrays, "state"))
            files[STATE_JSON_FILE] = json.dumps(tree, indent=1).encode()
        self.wait()
        if self.background:
            self._writer = threading.Thread(target=self._write_reporting, args=(tags, files))
            self._writer.start()
        else:
            self._write(tags, files)
        return self.directory / tag

    def wait(self) -> None:
        """Wait for a background save; raise its error, if it failed. (A no-op on the
        writer thread itself, whose own look-ups call it too.)"""
        if self._writer is threading.current_thread():
            return
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _write_reporting(self, tags: tuple[str, ...], files: dict[str, bytes]) -> None:
        try:
            self._write(tags, files)
        except BaseException as error:  # re-raised by the next wait()
            self._error = error

    def _write(self, tags: tuple[str, ...], files: dict[str, bytes]) -> None:
        """One version directory, synced as one batch, then every tag swapped onto it; the
        parent directory is fsynced once for all the swaps."""
        self.directory.mkdir(parents=True, exist_ok=True)
        version = self.directory / f".{tags[0]}.{secrets.token_hex(8)}"
        version.mkdir()
        try:
            entries = {name: write_new(version / name, data) for name, data in files.items()}
            manifest = {"format_version": FORMAT_VERSION, "tag": tags[0], "files": entries}
            write_new(version / MANIFEST_FILE, json.dumps(manifest, indent=2).encode())
            # Every file and the version directory durable before any tag names it, in one
            # batch (one journal commit on ext4, see fsync_together), then one fsync of the
            # parent for the swaps: two waits per save instead of one per file.
            fsync_together(
                [*(version / name for name in entries), version / MANIFEST_FILE, version]
            )
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        # If a swap fails, `version` is an orphan that the next save's sweep removes.
        for tag in tags:
            replace_symlink(self.directory / tag, version.name, sync=False)
        fsync_directory(self.directory)
        if self.keep is not None:
            for old in self.periodic_tags()[: -self.keep]:
                (self.directory / old).unlink()
        self._sweep()

    def load(self, tag: str) -> Checkpoint:
        """Load and verify checkpoint `tag`."""
        if not self.exists(tag):
            available = ", ".join(self.tags()) or "none"
            raise CheckpointError(
                f"no checkpoint {tag!r} in {self.directory} (available: {available})"
            )
        try:
            inside(self.directory / tag, self.directory, f"checkpoint {tag!r}")
        except OutsideDirectory as error:
            raise CheckpointError(str(error)) from None
        return _load_directory(self.directory / tag)

    def exists(self, tag: str) -> bool:
        self.wait()
        return bool(_TAG.match(tag)) and (self.directory / tag / MANIFEST_FILE).is_file()

    def tags(self) -> list[str]:
        """Names of the complete checkpoints, sorted."""
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if self.exists(p.name))

    def periodic_tags(self) -> list[str]:
        """The ``epoch-NNNN`` tags, oldest epoch first."""
        periodic = [(int(m.group(1)), tag) for tag in self.tags() if (m := _PERIODIC.match(tag))]
        return [tag for _, tag in sorted(periodic)]

    def remove(self, tag: str) -> None:
        """Delete checkpoint `tag`: unlink the tag first, so it vanishes atomically; its
        files go unless another tag names them."""
        if not self.exists(tag):
            raise CheckpointError(f"no checkpoint {tag!r} in {self.directory} to remove")
        (self.directory / tag).unlink()
        fsync_directory(self.directory)
        self._sweep()  # only hidden versions inside this directory are ever deleted

    def _sweep(self) -> None:
        """Delete hidden versions no tag points to (superseded, or left by a crash)."""
        live = {
            os.readlink(p)
            for p in self.directory.iterdir()
            if p.is_symlink() and _TAG.match(p.name)
        }
        for entry in self.directory.iterdir():
            if _HIDDEN_ENTRY.match(entry.name) and entry.name not in live:
                remove_tree_inside(entry, self.directory)
