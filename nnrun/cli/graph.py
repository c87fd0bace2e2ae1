"""`nnrun graph`: the computation graph the builder made."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from nnrun.cli.common import SetOption, console, errors, report_errors
from nnrun.cli.completion import complete_config
from nnrun.markup import safe


@report_errors
def graph(
    config: Annotated[
        Path, typer.Argument(help="The experiment's YAML file.", autocompletion=complete_config)
    ],
    set_: SetOption = None,
    format_: Annotated[
        Literal["text", "dot", "mermaid"],
        typer.Option("--format", help="A table, Graphviz DOT or a Mermaid diagram."),
    ] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    expand: Annotated[
        bool | None,
        typer.Option(
            "--expand/--no-expand",
            help="Open blocks into their own nodes (default: when the result is small).",
        ),
    ] = None,
) -> None:
    """Show the computation graph the builder made (text, Graphviz DOT or Mermaid).

    Examples:
      nnrun graph configs/residual_mlp.yaml
      nnrun graph configs/residual_mlp.yaml --format dot --out model.dot
    """
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import render_graph

    experiment = build_experiment(resolve(config, set_ or []))
    text = render_graph(experiment, format_, console if out is None else None, expand)
    if out is not None:
        out.write_text(text)
        errors.print(f"graph written to {safe(out)}", highlight=False)
