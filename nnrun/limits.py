"""Bounds on what a small input may expand into, and the one way nnrun opens input files.

A config of a few bytes must not be able to make nnrun build a gigabyte string, walk an
exponential `extends` diamond, enumerate a 10**16-point grid or read ``/dev/zero`` forever.
Every such input is refused in well under a second with an error saying which bound it hit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from nnrun.errors import NnrunError

MAX_CONFIG_BYTES = 4 << 20  # a config or sweep file
BOOKKEEPING_BYTES = 64 << 20  # summary.json, run.json and the like
MAX_STRING_CHARS = 1 << 20  # one value after `${...}` substitution
MAX_NESTING = 64  # mappings and lists inside each other
MAX_GRID_POINTS = 1_000_000  # grid points a sweep may enumerate (it runs run_cap of them)
MAX_ALLOCATION_BYTES = 16 << 30  # one array nnrun is asked to allocate (data or parameters)
MAX_STDIN_BYTES = 1 << 30  # inputs piped to `nnrun predict RUN -` (spooled to a temporary file)


class LimitExceeded(NnrunError):
    """An input is larger than nnrun accepts."""


def regular_file(path: Path, what: str = "file") -> os.stat_result:
    """`stat` of `path`, which must be a regular file (not a device, FIFO or directory).

    Raises `NnrunError` naming the path otherwise; FileNotFoundError passes through.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise NnrunError(f"{what} {path} is {kind}; expected a regular file")
    return info


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of regular file `path`, refusing files over `limit` bytes."""
    size = regular_file(path, what).st_size
    if size > limit:
        raise LimitExceeded(
            f"{what} {path} is {size:,} bytes; nnrun reads at most {limit:,} bytes here"
        )
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while we read it
        raise LimitExceeded(f"{what} {path} is over {limit:,} bytes")
    return data


def copy_bounded(source: BinaryIO, target: BinaryIO, limit: int, what: str) -> None:
    """Copy `source` to `target`, refusing a stream longer than `limit` bytes."""
    copied = 0
    while chunk := source.read(1 << 20):
        copied += len(chunk)
        if copied > limit:
            raise LimitExceeded(f"{what} is over {limit:,} bytes; nnrun reads at most that")
        target.write(chunk)


def check_allocation(count: int, itemsize: int, what: str) -> None:
    """Refuse to allocate `count` items of `itemsize` bytes beyond `MAX_ALLOCATION_BYTES`."""
    needed = int(count) * int(itemsize)
    if needed > MAX_ALLOCATION_BYTES:
        raise LimitExceeded(
            f"{what} would need {format_bytes(needed)} of memory "
            f"(nnrun allocates at most {format_bytes(MAX_ALLOCATION_BYTES)} per array)"
        )


def format_bytes(count: float) -> str:
    """``1.5 GiB``-style size."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count} bytes"
