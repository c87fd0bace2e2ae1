"""`nnrun export`: a trained model as one self-contained ONNX file (preprocessing inside)."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors
from nnrun.cli.completion import complete_run
from nnrun.errors import NnrunError
from nnrun.markup import safe


class Format(StrEnum):
    onnx = "onnx"


class Tag(StrEnum):
    best = "best"
    last = "last"


@report_errors
def export(
    run: Annotated[
        Path, typer.Argument(help="A run directory or a checkpoint.", autocompletion=complete_run)
    ],
    format: Annotated[Format, typer.Option("--format", help="The file format.")] = Format.onnx,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the model (default: RUN/model.onnx)."),
    ] = None,
    checkpoint: Annotated[
        Tag, typer.Option("--checkpoint", help="Which checkpoint of a run directory.")
    ] = Tag.best,
    opset: Annotated[int, typer.Option("--opset", help="ONNX opset version (>= 17).")] = 17,
) -> None:
    """Export a trained model to ONNX: input the raw array `nnrun predict` reads (features
    before normalization, or token ids), output what `nnrun predict --proba` prints for
    classifiers and the predicted values for regression.

    Examples:
      nnrun export outputs/quickstart/latest --out quickstart.onnx
    """
    try:
        import onnx
    except ImportError:
        raise NnrunError(
            'ONNX export needs the onnx package: pip install -e ".[export]" (or pip install onnx)'
        ) from None
    from nnrun.export.build import describe, export_run

    path = export_run(run, out, checkpoint.value, opset)
    import onnx

    text = f"wrote {path}: {describe(onnx.load(path))}"
    console.print(safe(text), highlight=False, soft_wrap=True)
