"""`nnrun diagnose`: a run's recorded per-layer diagnostics and what they mean."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_run


@report_errors
def diagnose(
    run: Annotated[
        Path, typer.Argument(help="A run trained with --diagnose.", autocompletion=complete_run)
    ],
    epoch: Annotated[
        int | None, typer.Option("--epoch", help="Show this epoch's record (default: the last).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Per-layer gradient, update and activation statistics of a run, and the findings.

    Examples:
      nnrun diagnose outputs/quickstart/latest
      nnrun diagnose outputs/quickstart/latest --epoch 2 --json
    """
    from nnrun.diagnose.view import diagnose_run, render_diagnosis
    from nnrun.fileio import dumps
    from nnrun.train.rundir import resolve_run

    result = diagnose_run(resolve_run(run), epoch)
    if json_out:
        console.out(dumps(result, indent=2), highlight=False)
    else:
        render_diagnosis(result, console)
