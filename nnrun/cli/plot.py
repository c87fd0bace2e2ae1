"""`nnrun plot`: loss and metric curves of a run."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, errors, report_errors
from nnrun.cli.completion import complete_run
from nnrun.markup import safe


@report_errors
def plot(
    run: Annotated[Path, typer.Argument(help="A run directory.", autocompletion=complete_run)],
    out: Annotated[Path | None, typer.Option("--out", help="PNG file to write.")] = None,
) -> None:
    """Loss and metric curves: a PNG with matplotlib, else drawn in the terminal.

    Examples:
      nnrun plot outputs/quickstart/latest
      nnrun plot outputs/quickstart/latest --out curves.png
    """
    from nnrun.train.plotting import plot_run
    from nnrun.train.rundir import resolve_run

    result = plot_run(resolve_run(run), out)
    if isinstance(result, Path):
        errors.print(f"plot written to {safe(result)}", highlight=False)
    else:
        console.print(result)
