"""Reading data files: CSV/TSV, JSON Lines, .npy, .npz, folders of .npy, text (gzip too)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from nnrun.data.table import MISSING_TOKENS, Columns, Table, parse_labels, table_from_columns
from nnrun.errors import DataError, NnrunError
from nnrun.limits import regular_file

if TYPE_CHECKING:
    from nnrun.data.options import DataSpec

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".npy": "npy",
    ".npz": "npz",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "text",
    ".text": "text",
}
INPUT_KEYS = ("x", "inputs", "X", "features", "data")
TARGET_KEYS = ("y", "targets", "target", "labels", "label")


def detect_format(path: Path, given: str = "auto") -> str:
    """The format of `path`: `given` unless auto, else by extension (a trailing .gz is ignored)."""
    if given != "auto":
        return given
    if path.is_dir():
        return "npy_folder"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in FORMATS:
        return FORMATS[suffixes[-1]]
    raise DataError(
        f"{path}: cannot tell the file format from its extension; use one of "
        f"{', '.join(sorted(FORMATS))} (optionally .gz) or set data.format"
    )


def check_exists(path: Path, what: str = "data file") -> None:
    """`path` must exist and be a regular file or a folder (not a device such as
    /dev/zero, which would be read forever, nor a FIFO)."""
    if not path.exists():
        hint = ""
        if path.parent.is_dir():
            near = sorted(p.name for p in path.parent.iterdir())[:8]
            hint = f"; {path.parent} holds: {', '.join(near) or '(nothing)'}"
        raise DataError(f"{what} not found: {path}{hint}")
    if not path.is_dir():
        try:
            regular_file(path, what)
        except NnrunError as error:
            raise DataError(str(error)) from None


def open_text(path: Path) -> IO[str]:
    check_exists(path)
    if path.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_text(path: Path) -> str:
    with open_text(path) as handle:
        try:
            return handle.read()
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    """True when some column is text in the first row but numeric (or missing) below it."""
    first, body = rows[0], rows[1:50]
    if not body:
        return not any(_is_number(c) for c in first)
    for j, cell in enumerate(first):
        if _is_number(cell) or cell.strip().lower() in MISSING_TOKENS:
            continue
        below = [r[j] for r in body if j < len(r)]
        if below and all(_is_number(c) or c.strip().lower() in MISSING_TOKENS for c in below):
            return True
    return False


def read_csv(path: Path, delimiter: str | None = None, header: bool | str = "auto") -> Columns:
    """Parse a CSV/TSV (or .gz) into string cells; ragged rows are a DataError naming the row."""
    if delimiter is None:
        delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    rows: list[list[str]] = []
    lines: list[int] = []
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DataError(
                f"{path}, row {reader.line_num + 1}: cannot parse CSV ({exc})"
            ) from None
    if not rows:
        raise DataError(f"{path}: the file has no rows")
    has_header = _looks_like_header(rows) if header == "auto" else bool(header)
    width = len(rows[0])
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            raise DataError(
                f"{path}, row {line}: expected {width} columns (as in row {lines[0]}), "
                f"found {len(row)}"
            )
    if has_header:
        names = [name.strip() for name in rows[0]]
        rows, lines = rows[1:], lines[1:]
        if not rows:
            raise DataError(f"{path}: the file has a header but no data rows")
    else:
        names = [f"column_{j + 1}" for j in range(width)]
    cells = np.array(rows, dtype=str).reshape(len(rows), width)
    return Columns(names, cells, np.array(lines), str(path), has_header)


def read_jsonl(path: Path) -> Columns:
    """JSON Lines: each line an object (keys = columns; a list value expands to `key[i]`
    columns) or an array of values. Keys and widths must agree on every line."""
    rows: list[list[str]] = []
    lines: list[int] = []
    names: list[str] | None = None
    named = True  # objects name their columns; arrays are positional, like a headerless CSV
    with open_text(path) as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, row {number}: invalid JSON ({exc.msg})") from None
            row_names, cells = _flatten_record(record, path, number)
            if names is None:
                names, named = row_names, isinstance(record, dict)
            elif row_names != names:
                raise DataError(
                    f"{path}, row {number}: expected the fields {names} (as in row {lines[0]}), "
                    f"found {row_names}"
                )
            rows.append(cells)
            lines.append(number)
    if names is None:
        raise DataError(f"{path}: the file has no rows")
    cells_array = np.array(rows, dtype=str).reshape(len(rows), len(names))
    return Columns(names, cells_array, np.array(lines), str(path), named)


def _flatten_record(record: object, path: Path, line: int) -> tuple[list[str], list[str]]:
    items: Iterable[tuple[Any, Any]] | None = record.items() if isinstance(record, dict) else None
    if items is None:
        if not isinstance(record, list):
            raise DataError(
                f"{path}, row {line}: expected a JSON object or array, "
                f"found {type(record).__name__}"
            )
        items = ((f"column_{j + 1}", v) for j, v in enumerate(record))
    names: list[str] = []
    cells: list[str] = []
    for key, value in items:
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list):
            names.extend(f"{key}[{i}]" for i in range(len(value)))
        else:
            names.append(str(key))
        for v in values:
            if isinstance(v, (dict, list)):
                raise DataError(f"{path}, row {line}: field {key!r} holds nested data {v!r}")
            cells.append("" if v is None else str(v))
    return names, cells


def _pick(arrays: dict[str, np.ndarray], keys: tuple[str, ...], suffix: str) -> str | None:
    for key in keys:
        if key + suffix in arrays:
            return key + suffix
    return None


def read_npz(path: Path, target: str | int | None) -> dict[str, Table]:
    """Named arrays: inputs `x`/`inputs`, targets `y`/`targets` (or the `target` key);
    `_train`/`_val`/`_test` suffixes (or `x_test`, ...) give predefined splits."""
    check_exists(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    target_keys = (target,) if isinstance(target, str) else TARGET_KEYS
    parts: dict[str, Table] = {}
    for part, suffix in (("all", ""), ("train", "_train"), ("val", "_val"), ("test", "_test")):
        x_key = _pick(arrays, INPUT_KEYS, suffix)
        y_key = _pick(arrays, target_keys, suffix)
        if x_key is None and y_key is None:
            continue
        if x_key is None or y_key is None:
            raise DataError(
                f"{path}: found {x_key or y_key!r} but no matching "
                f"{'targets' if x_key else 'inputs'} array; arrays: {', '.join(arrays)}"
            )
        parts[part] = table_from_arrays(
            arrays[x_key], arrays[y_key], f"{path}[{x_key}]", target_name=y_key
        )
    if not parts:
        raise DataError(
            f"{path}: expected arrays named {INPUT_KEYS[0]!r}/{INPUT_KEYS[1]!r} (inputs) and "
            f"{target_keys[0]!r} (targets); found {', '.join(arrays) or 'none'}"
        )
    if "all" in parts and len(parts) > 1:
        parts["train"] = parts.pop("all")
    return parts


def table_from_arrays(
    x: np.ndarray, y: np.ndarray, source: str, target_name: str = "target"
) -> Table:
    if len(x) == 0:
        raise DataError(f"{source}: the array has no rows (0 examples)")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{source}: inputs must be numeric, found dtype {x.dtype}")
    if len(x) != len(y):
        raise DataError(f"{source}: {len(x)} inputs but {len(y)} targets")
    if y.dtype.kind not in "biufUS" or y.ndim > 2:
        raise DataError(
            f"{source}: targets must be numbers or strings, one row (or value) per example; "
            f"found dtype {y.dtype} shape {y.shape}"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    y = y.astype(np.float64) if y.dtype.kind in "biuf" else y.astype(str)
    names = [f"feature_{j}" for j in range(int(np.prod(x.shape[1:], dtype=int)))]
    return Table(x.astype(np.float64), y, names, source, target_name=target_name)


def read_npy(path: Path, target: str | int | None) -> Table:
    """A 2-D numeric array: one row per example, the `target` column (default last)."""
    check_exists(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc})") from None
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise DataError(
            f"{path}: expected a 2-D numeric array (rows = examples, one column the target), "
            f"found shape {array.shape} dtype {array.dtype}; use .npz for images"
        )
    index = -1 if target is None else target
    if not isinstance(index, int) or not -array.shape[1] <= index < array.shape[1]:
        raise DataError(
            f"{path}: target must be a column index below {array.shape[1]}, found {target!r}"
        )
    index %= array.shape[1]
    features = np.delete(array, index, axis=1)
    return table_from_arrays(features, array[:, index], str(path), f"column {index}")


def read_npy_folder(path: Path) -> Table:
    """`path/<class name>/*.npy`, one example per file (like torchvision's ImageFolder)."""
    check_exists(path)
    classes = sorted(p for p in path.iterdir() if p.is_dir())
    examples: list[np.ndarray] = []
    labels: list[str] = []
    shape: tuple[int, ...] | None = None
    for folder in classes:
        for file in sorted(folder.glob("*.npy")):
            try:
                array = np.load(file, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise DataError(f"{file}: not a readable .npy file ({exc})") from None
            if shape is None:
                shape = array.shape
            elif array.shape != shape or array.dtype.kind not in "biuf":
                raise DataError(
                    f"{file}: expected a numeric array of shape {shape}, found shape "
                    f"{array.shape} dtype {array.dtype}"
                )
            examples.append(array)
            labels.append(folder.name)
    if not examples:
        raise DataError(f"{path}: expected one sub-folder per class holding .npy files, found none")
    return table_from_arrays(np.stack(examples), parse_labels(np.array(labels)), str(path))


def read_table(path: Path, fmt: str, cfg: DataSpec) -> dict[str, Table]:
    """Read a table-like file; returns {"all": table} or predefined parts ("train", "test")."""
    if fmt in ("csv", "tsv"):
        delimiter = cfg.delimiter or ("\t" if fmt == "tsv" else ",")
        columns = read_csv(path, delimiter, cfg.header)
        return {"all": table_from_columns(columns, cfg.target, cfg.features)}
    if fmt == "jsonl":
        return {"all": table_from_columns(read_jsonl(path), cfg.target, cfg.features)}
    if fmt == "npy":
        return {"all": read_npy(path, cfg.target)}
    if fmt == "npz":
        return read_npz(path, cfg.target)
    if fmt == "npy_folder":
        return {"all": read_npy_folder(path)}
    raise DataError(f"{path}: format {fmt!r} does not hold a table")
