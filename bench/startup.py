"""Start-up time of `nnrun --help`: this checkout against another git ref (default: main).

    python bench/startup.py [--against main] [--rounds 40]

The other ref is exported with `git archive` into a temporary folder. Each measurement is a
fresh process, alternating the two trees; bytecode is cached (in a temporary folder, as an
installed package would have it) after one warm-up round. Printed per tree: the median wall
and CPU time (user + sys) of `python -m nnrun.cli --help`, and, timed inside a child, the
CPU time to import `nnrun.cli` and to build and print the help.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import contextlib, io, time
start = time.process_time()
from nnrun.cli import app
imported = time.process_time()
with contextlib.redirect_stdout(io.StringIO()):
    try:
        app(["--help"], prog_name="nnrun")
    except SystemExit:
        pass
print((imported - start) * 1000, (time.process_time() - imported) * 1000)
"""


def environment(tree: Path, cache: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(name, None)
    return env


def measure(tree: Path, cache: str) -> tuple[float, float, float, float]:
    """(wall ms, CPU ms) of one `--help` process, then (import, help) CPU ms of a child."""
    env = environment(tree, cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "-m", "nnrun.cli", "--help"]
    subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    output = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=tree, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return wall, cpu, float(output[0]), float(output[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git ref to compare with")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
    from threadpoolctl import threadpool_info

    kernels = {info.get("internal_api"): info.get("architecture") for info in threadpool_info()}
    print(f"BLAS kernel: {kernels}")
    with tempfile.TemporaryDirectory() as other, tempfile.TemporaryDirectory() as cache:
        archive = subprocess.run(
            ["git", "archive", args.against], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", other], input=archive, check=True)
        trees = {args.against: Path(other), "this checkout": ROOT}
        results: dict[str, list[tuple[float, ...]]] = {name: [] for name in trees}
        for round_ in range(args.rounds + 1):
            for name, tree in trees.items():
                values = measure(tree, cache)
                if round_:  # round 0 fills the bytecode cache
                    results[name].append(values)
    print(f"python -m nnrun.cli --help, median of {args.rounds} alternating rounds:")
    for name, rows in results.items():
        wall, cpu, imported, shown = (
            statistics.median(column) for column in zip(*rows, strict=True)
        )
        print(
            f"  {name:14s} wall {wall:5.0f} ms  cpu {cpu:5.0f} ms  |  in-process cpu: "
            f"import nnrun.cli {imported:4.0f} ms, build + print help {shown:4.0f} ms"
        )


if __name__ == "__main__":
    main()
