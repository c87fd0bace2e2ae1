"""Tables of examples before splitting: parsing cells, picking the target and feature columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnrun.errors import DataError
from nnrun.registry import suggest

FLOAT32_MAX = float(np.finfo(np.float32).max)

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


@dataclass
class Columns:
    """A text table as read: `cells` (rows, columns) of strings, 1-based file `lines` per row."""

    names: list[str]
    cells: np.ndarray
    lines: np.ndarray
    source: str
    has_header: bool


@dataclass
class Table:
    """Examples of one file or array set.

    `x` (N, ...) float64 with NaN marking missing values; `y` (N,) labels as read (strings,
    or float64 with NaN when missing) or (N, K) float targets; `lines` are 1-based file lines
    (None for arrays, whose rows are named "example i"); `target_name` is how messages name
    the target (its column or array).
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    source: str
    lines: np.ndarray | None = None
    target_name: str = "target"

    def where(self, row: int) -> str:
        """How a user finds row `row` (0-based) in the source."""
        if self.lines is not None:
            return f"{self.source}, row {int(self.lines[row])}"
        return f"{self.source}, example {row + 1}"

    def take(self, index: np.ndarray) -> Table:
        lines = None if self.lines is None else self.lines[index]
        return Table(
            self.x[index], self.y[index], self.feature_names, self.source, lines, self.target_name
        )

    def check_finite(self) -> None:
        """Refuse ±inf and values beyond float32 range (nnrun trains in float32) in the
        features or targets, naming the first such row and column. NaN is a missing value
        (data.on_missing), not handled here."""
        for values, kind in ((self.x, "feature"), (self.y, "target")):
            found = beyond_float32(values)
            if found is not None:
                row, column, message = found
                name = self.feature_names[column] if kind == "feature" else self.target(column)
                raise DataError(f"{self.where(row)}, {kind} {name!r}: {message}")

    def target(self, column: int = 0) -> str:
        """The name of target column `column` (of (N, K) targets; 0 for (N,) ones)."""
        return self.target_name if self.y.ndim == 1 else f"{self.target_name}[{column}]"

    def missing_rows(self) -> np.ndarray:
        """(N,) bool: rows with a missing feature or label."""
        flat = self.x.reshape(len(self.x), -1)
        missing = (
            np.isnan(flat).any(axis=1) if flat.dtype.kind == "f" else np.zeros(len(flat), bool)
        )
        return missing | label_missing(self.y)


def beyond_float32(values: np.ndarray) -> tuple[int, int, str] | None:
    """(row, column, message) of the first ±inf or beyond-float32 value of (N, ...) numbers
    (columns counted over the flattened example), or None. NaN counts as missing, not here."""
    if values.dtype.kind != "f" or values.size == 0:
        return None
    flat = values.reshape(len(values), -1)
    with np.errstate(invalid="ignore"):
        bad = np.abs(flat) > FLOAT32_MAX  # inf included, NaN not
    if not bad.any():
        return None
    row, column = (int(i) for i in np.argwhere(bad)[0])
    value = float(flat[row, column])
    what = "infinite" if np.isinf(value) else "beyond float32 range (±3.4e38)"
    return (
        row,
        column,
        (
            f"{value!r} is {what} ({int(bad.sum())} value(s) affected); nnrun computes in float32, "
            "so fix or remove such values"
        ),
    )


def label_missing(y: np.ndarray) -> np.ndarray:
    """(N,) bool: labels that are absent (NaN or an empty/NA string)."""
    if y.dtype.kind == "f":
        return np.isnan(y.reshape(len(y), -1)).any(axis=1)
    if y.dtype.kind in "UO":
        return np.isin(np.char.lower(np.char.strip(y.astype(str))), list(MISSING_TOKENS))
    return np.zeros(len(y), bool)


def _missing_mask(cells: np.ndarray) -> np.ndarray:
    return np.isin(np.char.lower(np.char.strip(cells)), list(MISSING_TOKENS))


def parse_numbers(
    cells: np.ndarray, names: list[str], columns: list[int], table: Columns
) -> np.ndarray:
    """(rows, len(columns)) float64 from string cells; missing tokens become NaN.

    A cell that is neither a number nor a missing token is a DataError naming its row/column.
    """
    cells = np.where(_missing_mask(cells), "nan", cells)
    try:
        return cells.astype(np.float64)
    except ValueError:
        pass
    for j in range(cells.shape[1]):
        for i in range(cells.shape[0]):
            try:
                float(cells[i, j])
            except ValueError:
                column = columns[j]
                raise DataError(
                    f"{table.source}, row {int(table.lines[i])}, column {column + 1} "
                    f"({names[j]!r}): expected a number, found {str(cells[i, j])!r}"
                ) from None
    raise AssertionError("astype failed but every cell parsed")  # pragma: no cover


def parse_labels(cells: np.ndarray) -> np.ndarray:
    """Labels as float64 (NaN = missing) when every present one is numeric, else strings."""
    missing = _missing_mask(cells)
    try:
        return np.where(missing, "nan", cells).astype(np.float64)
    except ValueError:
        return np.where(missing, "", np.char.strip(cells)).astype(str)


def column_index(key: str | int, names: list[str], source: str, role: str) -> int:
    """0-based index of column `key` (a name, or an index; negative counts from the end)."""
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise DataError(f"{source}: {role} must be a column name or index, found {key!r}")
    if isinstance(key, int):
        if -len(names) <= key < len(names):
            return key % len(names)
        raise DataError(
            f"{source}: {role} column index {key} is out of range; the file has "
            f"{len(names)} columns (indices 0..{len(names) - 1}, or negative from the end)"
        )
    if key in names:
        return names.index(key)
    close = suggest(key, names)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise DataError(f"{source}: unknown {role} column {key!r}{hint}; columns: {', '.join(names)}")


def table_from_columns(
    columns: Columns, target: str | int | None, features: list[str | int] | None
) -> Table:
    """Split a text table into numeric features and raw labels."""
    names = columns.names
    if len(names) < 2:
        raise DataError(
            f"{columns.source}: expected at least 2 columns (features and a target), "
            f"found {len(names)}"
        )
    target_index = column_index(-1 if target is None else target, names, columns.source, "target")
    if features is None:
        feature_index = [j for j in range(len(names)) if j != target_index]
    else:
        feature_index = [column_index(f, names, columns.source, "feature") for f in features]
        if target_index in feature_index:
            raise DataError(
                f"{columns.source}: column {names[target_index]!r} is both the target and a feature"
            )
    feature_names = [names[j] for j in feature_index]
    x = parse_numbers(columns.cells[:, feature_index], feature_names, feature_index, columns)
    y = parse_labels(columns.cells[:, target_index])
    return Table(x, y, feature_names, columns.source, columns.lines, names[target_index])
