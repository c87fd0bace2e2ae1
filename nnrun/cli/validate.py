"""`nnrun validate`: resolve and check a config, print the model summary."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import SetOption, console, print_resolved, report_errors
from nnrun.cli.completion import complete_config
from nnrun.markup import safe


@report_errors
def validate(
    config: Annotated[
        Path, typer.Argument(help="The experiment's YAML file.", autocompletion=complete_config)
    ],
    set_: SetOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every effective value and where it came from.")
    ] = False,
    print_: Annotated[
        bool,
        typer.Option(
            "--print", help="Print the fully resolved config as YAML (reusable as a config)."
        ),
    ] = False,
) -> None:
    """Resolve and validate a config, then print a model summary.

    Examples:
      nnrun validate configs/quickstart.yaml
      nnrun validate configs/quickstart.yaml --explain --set optimizer.lr=3e-4
    """
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import render_explain, render_model_summary

    if print_:
        print_resolved(config, set_ or [])
        return
    experiment = build_experiment(resolve(config, set_ or []))
    if explain:
        render_explain(experiment.cfg, console)
    render_model_summary(experiment, console)
    console.print(f"[green]ok[/]: {safe(config)} is valid", highlight=False)
