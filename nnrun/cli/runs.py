"""`nnrun runs`: the runs under an output directory."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_run


@report_errors
def runs(
    directory: Annotated[
        Path, typer.Argument(help="Where runs are.", autocompletion=complete_run)
    ] = Path("outputs"),
) -> None:
    """List runs: name, start, status, epochs, best metric, time.

    Examples:
      nnrun runs
      nnrun runs outputs/sweeps
    """
    from nnrun.train.history import list_runs, render_runs_table

    render_runs_table(list_runs(directory), console)
