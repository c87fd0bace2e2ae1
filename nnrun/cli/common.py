"""What every command shares: the consoles, error reporting, and common options."""

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from nnrun.cli.completion import complete_set
from nnrun.errors import ConfigError, NnrunError

console = Console()
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Process-wide CLI flags set by the top-level callback."""

    debug = False


def report_errors(fn: F) -> F:
    """Print nnrun errors as one paragraph each (no traceback unless --debug); exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NnrunError as error:
            if State.debug:
                raise
            print_error(error)
            raise typer.Exit(getattr(error, "exit_code", 2)) from None

    return wrapper  # type: ignore[return-value]


def print_error(error: NnrunError) -> None:
    """One paragraph per problem on stderr; user text is escaped, never read as markup."""
    if isinstance(error, ConfigError):
        count = len(error.problems)
        errors.print(
            f"[bold red]error:[/] {count} problem{'s' if count > 1 else ''} in the config",
            highlight=False,
        )
        for problem in error.problems:
            errors.print(f"  {escape(str(problem))}", highlight=False, soft_wrap=True)
    elif getattr(error, "exit_code", 2) == 130:  # Ctrl-C: not a mistake, a pause
        errors.print(f"[bold yellow]{escape(str(error))}[/]", highlight=False, soft_wrap=True)
    else:
        errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)


class _FlagsWithoutType:
    """Typer's Rich help prints a type next to every option, `<bool>` on flags that take
    no value (its plain help leaves it out: only the Rich panel asks every option for
    `display_type_rich`, which falls back to the annotation unless a metavar is set). An
    empty metavar gives flags an empty type column."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Command(_FlagsWithoutType, TyperCommand):
    """Every nnrun command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.short_help is None and self.help:
            # `nnrun --help` lists each command's first paragraph, where Rich would keep the
            # docstring's line breaks.
            self.short_help = " ".join(inspect.cleandoc(self.help).split("\n\n")[0].split())


class Group(_FlagsWithoutType, TyperGroup):
    """The `nnrun` command group."""


SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="<key=value>",
        help="Override a config value: --set optimizer.lr=3e-4 (YAML value).",
        autocompletion=complete_set,
    ),
]


def threads(count: int) -> Any:
    """A context that limits BLAS threads to `count`."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=count)
