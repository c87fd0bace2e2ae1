"""The `nnrun` command line: one module per command, shared console and error reporting in
`nnrun.cli.common`. User mistakes print one clear paragraph and exit 2.

Start-up time matters (`nnrun --help`, every completion request): commands import heavy
modules inside their functions, and the command modules do not use ``from __future__ import
annotations``. Typer reads every command's signature at start; string annotations would be
compiled with `eval` one by one (about 10 ms for all commands), plain ones cost nothing.
"""

from typing import Annotated

import typer

from nnrun import __version__
from nnrun.cli import (
    components,
    datasets,
    diagnose,
    evaluate,
    export,
    gradcheck,
    graph,
    plot,
    predict,
    report,
    runs,
    schema,
    sweep,
    sweep_report,
    train,
    validate,
)
from nnrun.cli.common import Command, Group, State

app = typer.Typer(
    name="nnrun",
    help="Declarative neural-network experiments on a NumPy autograd engine.\n\n"
    "Examples:\n"
    "  nnrun train configs/quickstart.yaml\n"
    "  nnrun eval outputs/quickstart/latest",
    cls=Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    State.debug = debug


# The order of this table is the order of `nnrun --help`.
COMMANDS = {
    "train": train.train,
    "eval": evaluate.evaluate,
    "predict": predict.predict,
    "export": export.export,
    "validate": validate.validate,
    "graph": graph.graph,
    "gradcheck": gradcheck.gradcheck,
    "schema": schema.schema,
    "components": components.components,
    "datasets": datasets.datasets,
    "runs": runs.runs,
    "plot": plot.plot,
    "diagnose": diagnose.diagnose,
    "report": report.report,
    "sweep": sweep.sweep,
    "sweep-report": sweep_report.sweep_report,
}
for _name, _command in COMMANDS.items():
    app.command(_name, cls=Command)(_command)
