"""`nnrun graph`: the computation graph the builder made."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import SetOption, console, errors, report_errors
from nnrun.errors import NnrunError
from nnrun.markup import safe


@report_errors
def graph(
    config: Annotated[Path, typer.Argument(help="The experiment's YAML file.")],
    set_: SetOption = None,
    format_: Annotated[str, typer.Option("--format", help="text, dot or mermaid.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    expand: Annotated[
        bool | None,
        typer.Option(
            "--expand/--no-expand",
            help="Open blocks into their own nodes (default: when the result is small).",
        ),
    ] = None,
) -> None:
    """Show the computation graph the builder made (text, Graphviz DOT or Mermaid)."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import render_graph

    if format_ not in ("text", "dot", "mermaid"):
        raise NnrunError(f"--format must be text, dot or mermaid, not {format_!r}")
    experiment = build_experiment(resolve(config, set_ or []))
    text = render_graph(experiment, format_, console if out is None else None, expand)
    if out is not None:
        out.write_text(text)
        errors.print(f"graph written to {safe(out)}", highlight=False)
