"""The `nnrun` command line: one module per command, shared console and error reporting in
`nnrun.cli.common`. User mistakes print one clear paragraph and exit 2.

Start-up time matters (`nnrun --help`, every completion request): commands import heavy
modules inside their functions, and the command modules do not use ``from __future__ import
annotations``. Typer reads every command's signature at start; string annotations would be
compiled with `eval` one by one (about 10 ms for all commands), plain ones cost nothing.
"""

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Annotated, Any

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
from nnrun.cli.common import Command, Group, State, import_help_renderer

# Commands that only print: a closed stdout (`nnrun validate ... | head`) ends them quietly
# the way it ends other Unix tools. `train` and `sweep` keep Python's handling, so a closed
# pipe cannot kill a run between two checkpoint writes.
PRINTING_COMMANDS = frozenset(
    {
        "eval",
        "predict",
        "validate",
        "graph",
        "schema",
        "datasets",
        "runs",
        "plot",
        "sweep-report",
        "diagnose",
    }
)


class _Group(Group):
    """Global flags may follow the command: `nnrun train --debug cfg.yaml`."""

    # Typer hands its groups a `typer.Context`; the base class is typed with click's Context
    # (vendored inside recent Typer), and click is no dependency of nnrun.
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        end = args.index("--") if "--" in args else len(args)
        if "--debug" in args[:end]:
            args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="nnrun",
    help="Declarative neural-network experiments on a NumPy autograd engine.\n\n"
    "Examples:\n"
    "  nnrun train configs/quickstart.yaml\n"
    "  nnrun eval outputs/quickstart/latest",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    State.debug = debug
    if ctx.invoked_subcommand in PRINTING_COMMANDS:
        _die_quietly_on_closed_stdout()


def _die_quietly_on_closed_stdout() -> None:
    """Restore the default SIGPIPE action (exit status 141 in the shell, no message) when
    printing to the process's real stdout; not for an in-process runner's captured output."""
    if sys.stdout is not sys.__stdout__:
        return
    # No SIGPIPE (Windows), or not the main thread: keep Python's handling.
    with contextlib.suppress(AttributeError, ValueError):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


# The order of this table is the order of `nnrun --help`.
COMMANDS: dict[str, Callable[..., Any]] = {
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

# A shell-completion request (click's `_<PROG>_COMPLETE`) renders help text with typer's
# Rich helpers as `--help` does: the same light import.
if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
    import_help_renderer()
