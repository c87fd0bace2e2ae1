"""`nnrun runs`: the runs under an output directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors


@report_errors
def runs(
    directory: Annotated[Path, typer.Argument(help="Where runs are.")] = Path("outputs"),
) -> None:
    """List runs: name, start, status, epochs, best metric, time."""
    from nnrun.train.history import list_runs, render_runs_table

    render_runs_table(list_runs(directory), console)
