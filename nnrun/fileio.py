"""Durable file writes and strict JSON: the one place that knows fsync, rename and NaN.

Every JSON file or line nnrun writes goes through `dumps`, which writes NaN and ±Inf as
``null`` (strict parsers such as ``jq`` and JavaScript reject bare ``NaN``), and every file that
must survive a crash whole goes through `write_bytes_atomic` (temporary file, fsync, rename,
fsync of the directory).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """`value` with NumPy scalars/arrays and paths made plain, recursively, and NaN/Inf
    as None: JSON has no NaN, and strict parsers (jq, JavaScript) reject it."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(value: Any, *, indent: int | None = None, **options: Any) -> str:
    """Strict JSON text of `value` (NumPy values and paths made plain, NaN/Inf as null)."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False, **options)


def fsync_directory(path: Path) -> None:
    """Make renames and new entries in directory `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes) -> dict[str, Any]:
    """Create `path` (it must not exist) with `data` and fsync it.

    Returns its manifest entry: size in bytes and sha256.
    """
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data` atomically: temp file beside it, fsync, rename, fsync dir."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        write_synced(temporary, data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write `obj` as indented strict JSON to `path`, replacing any old file atomically."""
    write_text_atomic(path, dumps(obj, indent=2) + "\n")


def append_line(path: Path, line: str, *, sync: bool = False) -> None:
    """Append one whole line (`line` ends in a newline) to `path`; fsync it when `sync`."""
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(line)
        handle.flush()
        if sync:
            os.fsync(handle.fileno())


def replace_symlink(link: Path, target: str, sync: bool = True) -> None:
    """Point symlink `link` at `target` (relative to link's directory) atomically; with
    `sync`, fsync the directory so the swap is durable (a caller swapping several links
    passes False and fsyncs once)."""
    link = Path(link)
    temporary = link.with_name(f".{link.name}.{secrets.token_hex(8)}.link")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    finally:
        temporary.unlink(missing_ok=True)
    if sync:
        fsync_directory(link.parent)
