"""What every command shares: the consoles, error reporting, and common options."""

import functools
import importlib
import inspect
import math
import os
import signal
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from nnrun import _startup
from nnrun.cli.completion import complete_set
from nnrun.errors import ConfigError, NnrunError
from nnrun.markup import make_console, safe

console = make_console()
errors = make_console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Process-wide CLI flags set by the top-level callback."""

    debug = False


def report_errors(fn: F) -> F:
    """Print nnrun errors as one paragraph each (no traceback unless --debug); exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _startup.COMMAND:  # from here Ctrl-C is a KeyboardInterrupt, handled below
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return fn(*args, **kwargs)
        except NnrunError as error:
            if State.debug:
                raise
            print_error(error)
            raise typer.Exit(getattr(error, "exit_code", 2)) from None
        except OSError as error:  # disk full, read-only, name too long: the user's machine
            if State.debug:
                raise
            print_error(NnrunError(os_error_text(error)))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:  # Ctrl-C outside the trainer's own handling
            errors.print("interrupted", style="yellow", highlight=False)
            if not _startup.COMMAND:
                raise typer.Exit(130) from None
            # Leave now: an interrupt that passed through C code running Python (PyRun_*)
            # makes the interpreter kill itself with SIGINT at exit, whatever we return.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        finally:
            if _startup.COMMAND:  # and quiet again while the process winds down
                signal.signal(signal.SIGINT, _startup.exit_quietly)

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
            errors.print(f"  {safe(problem)}", highlight=False, soft_wrap=True)
    elif getattr(error, "exit_code", 2) in (130, 143):  # Ctrl-C, SIGTERM: a pause, no mistake
        errors.print(f"[bold yellow]{safe(error)}[/]", highlight=False, soft_wrap=True)
    else:
        errors.print(f"[bold red]error:[/] {safe(error)}", highlight=False, soft_wrap=True)


def os_error_text(error: OSError) -> str:
    """One line naming the file(s) and the operating system's reason."""
    names = [str(n) for n in (error.filename, error.filename2) if n is not None]
    where = " -> ".join(names) or "a file"
    reason = error.strerror or str(error)
    return f"cannot use {where}: {reason}"


def finite_at_least(minimum: float) -> Callable[[float | None], float | None]:
    """A Typer callback refusing NaN, ±inf and values below `minimum` (a usage error, exit 2);
    click's FloatRange lets NaN through."""

    def check(value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= minimum):
            raise typer.BadParameter(f"expected a finite number >= {minimum}, got {value}")
        return value

    return check


# typer.rich_utils, which renders help, imports these at its top for what nnrun never uses
# (Markdown help text, pretty tracebacks): a third of `nnrun --help`'s start-up time.
_UNUSED_BY_HELP = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _deferred(module: str, name: str) -> type:
    """A stand-in for class `module.name` that imports the real one when it is used."""

    def real() -> Any:
        return getattr(importlib.import_module(module), name)

    class Deferred(type):
        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            return real()(*args, **kwargs)

        def __getattr__(cls, attribute: str) -> Any:  # e.g. Traceback.from_exception
            return getattr(real(), attribute)

    return Deferred(name, (), {})


def import_help_renderer() -> None:
    """Import typer.rich_utils without the modules it does not need for nnrun's help.

    While it imports, stand-in modules hold the two names it takes from them; they leave
    `sys.modules` right after, so anything else (and rich_utils itself, on first use of a
    stand-in) imports the real modules. Should typer ever take more from them, the plain
    import is used instead."""
    if "typer.rich_utils" in sys.modules:
        return
    absent = [module for module in _UNUSED_BY_HELP if module not in sys.modules]
    for module in absent:
        stand_in = types.ModuleType(module)
        setattr(stand_in, _UNUSED_BY_HELP[module], _deferred(module, _UNUSED_BY_HELP[module]))
        sys.modules[module] = stand_in
    try:
        importlib.import_module("typer.rich_utils")
    except ImportError:
        sys.modules.pop("typer.rich_utils", None)
    finally:
        for module in absent:
            del sys.modules[module]
    importlib.import_module("typer.rich_utils")


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

    def format_help(self, ctx: Any, formatter: Any) -> None:
        import_help_renderer()
        return super().format_help(ctx, formatter)  # type: ignore[misc]


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


def print_resolved(config: Path, overrides: list[str], seed: int | None = None) -> None:
    """Print the config that would run — `extends`, `${...}`, `--set` and defaults applied —
    as YAML that works as a config file itself (LightningCLI's --print_config)."""
    from nnrun.experiment import resolve, validate

    cfg = resolve(config, overrides, seed)
    validate(cfg)
    sys.stdout.write(cfg.to_yaml())
