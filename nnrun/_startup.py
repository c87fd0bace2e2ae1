"""Ctrl-C while the `nnrun` command starts up exits 130 quietly, not with a traceback.

Imported first by ``nnrun/__init__.py``, so it runs before numpy and the rest load (a few
hundred milliseconds in which Python would otherwise print a KeyboardInterrupt traceback).
It acts only when this process is the nnrun command (the ``nnrun`` script or
``python -m nnrun.cli``), never when nnrun is imported as a library. Once a command runs,
`nnrun.cli.common.report_errors` takes over: Ctrl-C there is a KeyboardInterrupt that it
turns into exit 130.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys


def launched_as_command() -> bool:
    """Whether this process was started as the nnrun command line."""
    argv = getattr(sys, "orig_argv", sys.argv)
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1] in ("nnrun", "nnrun.cli")
    return os.path.basename(sys.argv[0] if sys.argv else "") == "nnrun"


def exit_quietly(signum: int, frame: object) -> None:
    """A SIGINT handler for moments with nothing to save: leave at once with 130."""
    os._exit(128 + signum)


def ignore_late_interrupts() -> None:
    """Ignore Ctrl-C once the command has ended: while Python finalizes it resets SIGINT to
    the default action, and a Ctrl-C in those last milliseconds would kill the process by
    the signal instead of letting it exit with the command's code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


COMMAND = launched_as_command()
if COMMAND and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, exit_quietly)
    # Registered first, so it runs after every other exit handler has done its work.
    atexit.register(ignore_late_interrupts)
