"""`nnrun report`: one self-contained HTML file about a run or a sweep."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import errors, report_errors
from nnrun.cli.completion import complete_run
from nnrun.markup import safe


@report_errors
def report(
    target: Annotated[
        Path,
        typer.Argument(help="A run directory or a sweep directory.", autocompletion=complete_run),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file to write (default: report.html in the directory)."),
    ] = None,
) -> None:
    """Write an HTML report (inline CSS/JS/SVG, opens offline in any browser): curves,
    config, model graph, confusion matrix, diagnostics; for a sweep the trials table,
    the metric against each parameter and each trial's own report.

    Examples:
      nnrun report outputs/quickstart/latest
      nnrun report outputs/sweeps/digits_lr/20261130-101500 --out lr.html
    """
    from nnrun.report.write import write_report

    path = write_report(target, out)
    errors.print(
        f"report written to {safe(path)} ({path.stat().st_size / 1024:.0f} KiB)", highlight=False
    )
