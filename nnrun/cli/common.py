"""What every command shares: the consoles, error reporting, and common options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

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


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: --set optimizer.lr=3e-4 (YAML value)."),
]


def threads(count: int) -> Any:
    """A context that limits BLAS threads to `count`."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=count)


def print_resolved(config: Path, overrides: list[str], seed: int | None = None) -> None:
    """Print the config that would run — `extends`, `${...}`, `--set` and defaults applied —
    as YAML that works as a config file itself (LightningCLI's --print_config)."""
    from nnrun.experiment import resolve, validate

    cfg = resolve(config, overrides, seed)
    validate(cfg)
    sys.stdout.write(cfg.to_yaml())
