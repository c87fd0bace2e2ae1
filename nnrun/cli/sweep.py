"""`nnrun sweep`: a grid, random or Bayesian search over a config."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_config, complete_sweep
from nnrun.errors import NnrunError
from nnrun.markup import safe


@report_errors
def sweep(
    sweep_file: Annotated[
        Path | None,
        typer.Argument(
            help="The sweep YAML file (optional with --resume).", autocompletion=complete_config
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", help="Trials at a time (default: the file's workers)."),
    ] = None,
    executor: Annotated[
        Literal["process", "dask"],
        typer.Option("--executor", help="Local processes, or a Dask cluster."),
    ] = "process",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster).",
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="<sweep_dir>",
            help="Continue a sweep: its directory, or its name (its latest run).",
            autocompletion=complete_sweep,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Sweep directory to use (resumed when it already holds the sweep).",
        ),
    ] = None,
) -> None:
    """Run a grid, random or Bayesian search over a config; resumable with --resume.

    Examples:
      nnrun sweep configs/sweeps/digits_lr.yaml --workers 2
      nnrun sweep --resume digits_lr
    """
    from nnrun.sweep.report import (
        BEST_CONFIG,
        SUMMARY_MD,
        best_command,
        best_note,
        results_table,
    )
    from nnrun.sweep.runner import display_path, run_sweep

    if resume is not None and out is not None:
        raise NnrunError("give either --resume DIR or --out DIR, not both")
    outcome = run_sweep(
        sweep_file,
        workers=workers,
        executor=executor,
        address=address,
        out=out,
        resume=resume,
        console=console,
    )
    console.print(results_table(outcome.spec, outcome.rows, width=console.width))
    best = outcome.rows[0] if outcome.rows and outcome.rows[0].rank == 1 else None
    if best is None:
        console.print(
            "[bold red]no trial finished[/]; see the errors in "
            f"{safe(outcome.sweep_dir / SUMMARY_MD)}",
            highlight=False,
        )
        raise typer.Exit(1)
    console.print(
        f"best: {best_command(outcome.spec, best)}", highlight=False, soft_wrap=True, markup=False
    )
    console.print(
        f"  or: nnrun train {display_path(outcome.sweep_dir / BEST_CONFIG)}  "
        f"(the same config: these parameters, {best_note(outcome.spec, best)})",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
