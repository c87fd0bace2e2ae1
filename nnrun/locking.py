"""One process at a time per run or sweep directory: an exclusive `flock` on ``<dir>/.lock``.

The lock is held for the whole life of a run (or sweep) and released by the kernel when the
process ends, however it ends (SIGKILL included), so a stale lock file never blocks anyone.
The file holds the holder's PID, which the refusal names. Within one process the lock is
re-entrant: starting a run and training it take the same directory's lock twice.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from nnrun.errors import NnrunError

LOCK_FILE = ".lock"


class DirectoryBusy(NnrunError):
    """Another live process holds the directory's lock."""


# Resolved directory -> (open lock file descriptor, times acquired by this process).
_held: dict[Path, list[int]] = {}


def acquire(directory: Path, what: str = "run") -> Path:
    """Take the exclusive lock of `directory` (created if missing) or raise `DirectoryBusy`.

    Returns the resolved directory, the key for `release`.
    """
    key = Path(directory).resolve()
    if key in _held:
        _held[key][1] += 1
        return key
    path = key / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise NnrunError(f"cannot lock {what} directory {key}: {error.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DirectoryBusy(
            f"{what} directory {key} is in use by another nnrun process (PID {holder}); "
            "wait for it to end, or stop it first"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _held[key] = [fd, 1]
    return key


def release(directory: Path) -> None:
    """Give back one acquisition of `directory`'s lock; the last one unlocks it."""
    key = Path(directory).resolve()
    entry = _held.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[key]
        os.close(entry[0])  # closing the descriptor drops the flock


def holds(directory: Path) -> bool:
    """Whether this process holds `directory`'s lock."""
    return Path(directory).resolve() in _held
