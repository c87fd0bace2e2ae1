"""`nnrun datasets`: the built-in datasets."""

from nnrun.cli.common import console, report_errors
from nnrun.markup import safe


@report_errors
def datasets() -> None:
    """List the built-in datasets with their task, shape and size.

    Examples:
      nnrun datasets
    """
    from rich.table import Table

    from nnrun.data import dataset_table

    table = Table(title="built-in datasets")
    rows = dataset_table()
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(safe(v) for v in row.values()))
    console.print(table)
