"""Write a run's or a sweep's report file."""

from __future__ import annotations

from pathlib import Path

from nnrun.errors import NnrunError
from nnrun.fileio import write_text_atomic

REPORT_FILE = "report.html"


def write_report(target: Path, out: Path | None = None) -> Path:
    """Write the report of a run or a sweep directory; returns the file written."""
    from nnrun.report.run import build_run_report
    from nnrun.report.sweep import build_sweep_report, is_sweep_dir
    from nnrun.train.rundir import resolve_run

    target = Path(target)
    if is_sweep_dir(target):
        path = Path(out) if out is not None else target / REPORT_FILE
        write_text_atomic(path, build_sweep_report(target, path.parent))
        return path
    if not target.exists():
        raise NnrunError(f"{target} does not exist: give a run or a sweep directory")
    run_dir = resolve_run(target)
    path = Path(out) if out is not None else run_dir / REPORT_FILE
    write_text_atomic(path, build_run_report(run_dir))
    return path
