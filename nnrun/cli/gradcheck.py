"""`nnrun gradcheck`: backprop gradients against central differences."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import SetOption, console, report_errors


@report_errors
def gradcheck(
    config: Annotated[Path, typer.Argument(help="The experiment's YAML file.")],
    set_: SetOption = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Examples to check on.")] = 4,
) -> None:
    """Check every parameter's backprop gradient against central differences (float64)."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import check_gradients

    experiment = build_experiment(resolve(config, set_ or []))
    if not check_gradients(experiment, batch, console):
        raise typer.Exit(1)
