"""`nnrun predict`: predictions of a trained model, or generated text."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import errors, finite_at_least, report_errors
from nnrun.cli.completion import complete_run
from nnrun.errors import NnrunError
from nnrun.markup import safe


@report_errors
def predict(
    run: Annotated[
        Path, typer.Argument(help="A run directory or a checkpoint.", autocompletion=complete_run)
    ],
    inputs: Annotated[
        Path | None,
        typer.Argument(
            help="CSV, .npy, .npz or JSON Lines inputs (a .txt file for text models); "
            "- reads standard input."
        ),
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="Input format: csv, jsonl or npy (default: by extension; csv for stdin).",
        ),
    ] = "auto",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write predictions here (.csv, .npy or .jsonl); default: stdout."
        ),
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Class probabilities.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
    generate: Annotated[
        int | None,
        typer.Option(
            "--generate",
            min=1,
            help="Language models: sample this many tokens and print the text.",
        ),
    ] = None,
    prompt: Annotated[str, typer.Option("--prompt", help="Text to start generating from.")] = "",
    temperature: Annotated[
        float,
        typer.Option(
            "--temperature",
            callback=finite_at_least(0.0),
            help="Sampling temperature (0: always the likeliest token).",
        ),
    ] = 0.8,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for sampling.")] = 0,
) -> None:
    """Predict with a trained model (its training preprocessing applied), or generate text.

    Language models sample text with --generate.

    Examples:
      nnrun predict outputs/quickstart/latest inputs.npy --proba --out probs.csv
      nnrun predict outputs/char_lstm/latest --generate 300 --prompt "ROMEO:"
    """
    from nnrun.train.prediction import generate_text, predict_file

    if generate is not None:
        print(generate_text(run, prompt, generate, temperature, seed))
        return
    if inputs is None:
        raise NnrunError("nnrun predict needs an INPUT file (or --generate N for text models)")
    text = predict_file(run, inputs, out, proba, batch_size, format_)
    if text is not None:
        sys.stdout.write(text)
    else:
        errors.print(f"predictions written to {safe(out)}", highlight=False)
