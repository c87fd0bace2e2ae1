"""`nnrun eval`: loss, metrics and confusion matrix of a trained model."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_run


@report_errors
def evaluate(
    run: Annotated[
        Path, typer.Argument(help="A run directory or a checkpoint.", autocompletion=complete_run)
    ],
    split: Annotated[
        Literal["test", "val", "train"], typer.Option("--split", help="The split to evaluate.")
    ] = "test",
    data: Annotated[
        Path | None, typer.Option("--data", help="Evaluate on this labelled file instead.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
) -> None:
    """Loss, metrics (and a confusion matrix) of a trained model on a split or new data.

    Examples:
      nnrun eval outputs/quickstart/latest
      nnrun eval outputs/quickstart/latest --split val --json
    """
    from nnrun.train.evaluation import evaluate_run

    result = evaluate_run(run, split, data, batch_size)
    if json_out:
        from nnrun.fileio import dumps

        print(dumps(result, indent=2))
    else:
        from nnrun.train.evaluation import render_evaluation

        render_evaluation(result, console)
