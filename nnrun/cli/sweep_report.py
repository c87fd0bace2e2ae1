"""`nnrun sweep-report`: the ranked results of a sweep."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_sweep
from nnrun.errors import NnrunError
from nnrun.markup import safe


@report_errors
def sweep_report(
    sweep: Annotated[
        Path,
        typer.Argument(
            help="A sweep directory, or a sweep's name (its latest run).",
            autocompletion=complete_sweep,
        ),
    ],
    top: Annotated[int | None, typer.Option("--top", help="Show only the best N.")] = None,
) -> None:
    """The ranked results of a sweep, how each parameter relates to the metric, and a plot.

    Examples:
      nnrun sweep-report outputs/sweeps/digits_lr/20261130-091500 --top 5
    """
    from nnrun.sweep.ledger import LEDGER_FILE, latest_events, read_ledger
    from nnrun.sweep.report import (
        PLOT_FILE,
        aggregate,
        effects_tables,
        parameter_effects,
        plot_sweep,
        results_table,
        write_summaries,
    )
    from nnrun.sweep.runner import find_sweep, reopen_sweep

    sweep_dir = find_sweep(sweep)
    spec = reopen_sweep(sweep_dir)
    latest = latest_events(read_ledger(sweep_dir / LEDGER_FILE))
    if not latest:
        raise NnrunError(f"{sweep_dir} has no trials yet ({LEDGER_FILE} is empty)")
    rows = aggregate(spec, latest)
    write_summaries(spec, sweep_dir, rows)
    console.print(results_table(spec, rows, top, console.width))
    for table in effects_tables(spec, parameter_effects(spec, rows)):
        console.print(table)
    plot = plot_sweep(spec, rows, sweep_dir / PLOT_FILE)
    if plot is not None:
        console.print(f"plot written to {safe(plot)}", highlight=False)
