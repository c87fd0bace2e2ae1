"""`nnrun datasets`: the built-in datasets."""

from typing import Annotated

import typer

from nnrun.cli.common import console, report_errors


@report_errors
def datasets(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per dataset.")] = False,
) -> None:
    """List the built-in datasets with their task, shape and size.

    Examples:
      nnrun datasets
      nnrun datasets --json
    """
    from nnrun.data import dataset_table
    from nnrun.tables import Col, fitted_table

    rows = dataset_table()
    if json_out:
        from nnrun.fileio import dumps

        print(dumps(rows, indent=2))
        return
    columns = {
        "name": Col("name"),
        "task": Col("task", priority=6),
        "input_shape": Col("input shape", priority=3),
        "target": Col("target", priority=2),
        "size": Col("size", priority=5),
        "aliases": Col("aliases", priority=1),
        "description": Col("description", priority=4, wrap=True),
    }
    cells = [
        [", ".join(row[key]) if key == "aliases" else str(row[key]) for key in columns]
        for row in rows
    ]
    console.print(
        fitted_table(list(columns.values()), cells, console.width, title="built-in datasets")
    )
