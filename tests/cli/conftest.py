"""Helpers to run the CLI in this process or in a real one (the `tiny` iris experiment is
shared by all tests: tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from nnrun.cli import app

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    """Run `nnrun ARGS` in this process; returns Typer's result (exit_code, output)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NNRUN_KEEP_FREED_MEMORY": "0"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nnrun.cli", *(str(a) for a in args)]


def run_process(*args: str, timeout: float = 60, **options) -> subprocess.CompletedProcess:
    """Run `nnrun ARGS` as a real process; stdout and stderr together in `.stdout`."""
    return subprocess.run(
        command(*args),
        check=False,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        **options,
    )
