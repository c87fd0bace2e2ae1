"""`nnrun gradcheck`: backprop gradients against central differences."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import SetOption, console, report_errors
from nnrun.cli.completion import complete_config


@report_errors
def gradcheck(
    config: Annotated[
        Path, typer.Argument(help="The experiment's YAML file.", autocompletion=complete_config)
    ],
    set_: SetOption = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Examples to check on.")] = 4,
) -> None:
    """Check every parameter's backprop gradient against central differences (float64).

    Examples:
      nnrun gradcheck configs/digits_mlp.yaml --batch 4
    """
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import check_gradients

    experiment = build_experiment(resolve(config, set_ or []))
    if not check_gradients(experiment, batch, console):
        raise typer.Exit(1)
