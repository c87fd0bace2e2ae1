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
    json_out: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """List runs: name, start, status, epochs, best metric, time.

    Examples:
      nnrun runs
      nnrun runs outputs/sweeps --json
    """
    from nnrun.train.history import list_runs, render_runs_table, runs_json

    records = list_runs(directory)
    if json_out:
        from nnrun.fileio import dumps

        print(dumps(runs_json(records), indent=2))
        return
    render_runs_table(records, console)
