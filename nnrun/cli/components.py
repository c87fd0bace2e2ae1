"""`nnrun components`: the reference of registered components and their arguments."""

from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors
from nnrun.markup import safe


@report_errors
def components(
    kind: Annotated[
        str | None,
        typer.Argument(help="layer, activation, loss, initializer, optimizer, schedule, ..."),
    ] = None,
    name: Annotated[str | None, typer.Argument(help="One component, e.g. linear.")] = None,
) -> None:
    """List registered components with their arguments, allowed values and defaults.

    Examples:
      nnrun components optimizer
      nnrun components layer linear
    """
    from rich.table import Table

    from nnrun.components_reference import entry, kinds, reference
    from nnrun.errors import ArgumentError
    from nnrun.registry import REGISTRIES, suggest

    if kind is not None and kind not in kinds():
        close = suggest(kind, kinds())
        raise ArgumentError(
            f"unknown component kind {kind!r}"
            + (f" (did you mean {close[0]!r}?)" if close else ""),
            expected="one of " + ", ".join(kinds()),
            found=repr(kind),
        )
    if name is not None:
        registry = next(r for r in REGISTRIES if r.kind == kind)
        entries = [entry(registry, registry.canonical(name))]
    else:
        entries = reference([kind] if kind else None)
    for item in entries:
        aliases = f" (also {', '.join(item.aliases)})" if item.aliases else ""
        table = Table(title=f"{item.kind} [bold]{item.name}[/]{aliases}", title_justify="left")
        for column in ("argument", "allowed", "default"):
            table.add_column(column)
        for argument in item.arguments:
            table.add_row(safe(argument.name), safe(argument.allowed), safe(argument.default))
        if item.summary:
            table.caption = safe(item.summary)
            table.caption_justify = "left"
        console.print(table)
