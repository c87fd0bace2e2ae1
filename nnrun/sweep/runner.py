"""Running a sweep: creating or reopening its directory, feeding trials to the executor,
writing the ledger, pruning, and resuming.

Sweep directory::

    outputs/sweeps/<name>/<YYYYMMDD-HHMMSS>/
        sweep.yaml       the sweep file as given      sweep.json   where it came from
        ledger.jsonl     one line per trial event     trials/<id>/ a normal run directory
        summary.csv  summary.md  best.yaml

Resuming skips trials whose last event is ``finished`` or ``pruned`` and runs the others
again from scratch (a last event ``running`` means the sweep was killed meanwhile).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnrun import locking
from nnrun.config.paths import format_path
from nnrun.errors import ConfigError, NnrunError, Problem
from nnrun.fileio import remove_tree_inside, write_json_atomic, write_text_atomic
from nnrun.limits import MAX_CONFIG_BYTES, read_bounded
from nnrun.markup import make_console, safe
from nnrun.sweep.executors import TrialExecutor, TrialFuture
from nnrun.sweep.ledger import DONE, LEDGER_FILE, Ledger, latest_events, read_ledger
from nnrun.sweep.space import (
    Trial,
    as_override,
    grid_points,
    make_trials,
    random_points,
)
from nnrun.sweep.spec import SWEEP_SPEC, SweepSpec, check_base, check_metric, load_sweep
from nnrun.sweep.trial import STOP_FILE
from nnrun.train.rundir import create_run_dir, resolve_run, update_latest

if TYPE_CHECKING:
    from nnrun.sweep.bayes import BayesSearch  # imports optuna: only when a sweep needs it

SWEEP_FILE = "sweep.yaml"
META_FILE = "sweep.json"
TRIALS_DIR = "trials"
POLL_SECONDS = 0.1


class SweepInterrupted(NnrunError):
    """Ctrl-C or SIGTERM: trials in flight were stopped; the ledger says how to resume.
    Exit code 130 (SIGINT) or 143 (SIGTERM), as a shell reports a process ended by them."""

    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so both stop a sweep the same way;
    yields a list that receives the signal number."""
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def open_sweep(
    sweep_file: Path | None, out: Path | None = None, resume: Path | None = None
) -> tuple[SweepSpec, Path]:
    """The validated sweep and its directory: a new one, or `resume` (a sweep directory, a
    folder of sweeps or a sweep's name; also `out` when it already holds a sweep). A sweep
    file given with an existing sweep must match its copy, unless no trial has run yet.

    Everything is validated before anything is created (a sweep that fails validation
    leaves nothing on disk), and the directory's lock is held from here until `run_sweep`
    ends, so two sweeps never share a directory."""
    existing = (
        find_sweep(resume)
        if resume is not None
        else (Path(out) if out is not None and (Path(out) / SWEEP_FILE).exists() else None)
    )
    if existing is not None:
        sweep_dir = existing
        spec = reopen_sweep(sweep_dir)
        given = None if sweep_file is None else read_sweep_text(Path(sweep_file))
        started = (sweep_dir / LEDGER_FILE).exists() and read_ledger(sweep_dir / LEDGER_FILE)
        if given is not None and given != spec.text and started:
            raise ConfigError(
                Problem(
                    f"{sweep_file} differs from the sweep being resumed ({sweep_dir / SWEEP_FILE})"
                    "; resuming would mix two sweeps. Leave out the sweep file to resume, or pick "
                    "another --out",
                    expected="the same sweep file",
                    found=str(sweep_file),
                )
            )
        if sweep_file is not None and given != spec.text:  # no trial ran yet: take the new file
            spec = load_sweep(sweep_file)
            check_sweep(spec)
            locking.acquire(sweep_dir, "sweep")
            _write_sweep_files(spec, sweep_dir, sweep_file)
            return spec, sweep_dir
        check_base(spec)
        locking.acquire(sweep_dir, "sweep")
        return spec, sweep_dir
    if sweep_file is None:
        raise NnrunError("nnrun sweep needs a SWEEP file (or --resume SWEEP_DIR)")
    spec = load_sweep(sweep_file)
    check_sweep(spec)
    if out is not None:
        sweep_dir = Path(out)
        sweep_dir.mkdir(parents=True, exist_ok=True)
    else:
        sweep_dir = create_run_dir(Path(spec.output_dir), spec.name)
    locking.acquire(sweep_dir, "sweep")
    if (sweep_dir / SWEEP_FILE).exists():  # another sweep took --out meanwhile
        locking.release(sweep_dir)
        raise NnrunError(f"{sweep_dir} already holds a sweep; resume it with --resume {sweep_dir}")
    _write_sweep_files(spec, sweep_dir, sweep_file)
    if out is None:
        update_latest(Path(spec.output_dir), spec.name, sweep_dir)
    return spec, sweep_dir


def check_sweep(spec: SweepSpec) -> None:
    """The checks a new sweep passes before its directory is made: the base config takes
    every parameter, and it logs the sweep's metric."""
    check_base(spec)
    check_metric(spec)


def _write_sweep_files(spec: SweepSpec, sweep_dir: Path, sweep_file: Path) -> None:
    # sweep.yaml last: its presence is what marks a sweep directory, so a kill between the
    # two writes leaves a directory the same command starts afresh, never a half sweep.
    write_json_atomic(
        sweep_dir / META_FILE,
        {
            "source": str(Path(sweep_file).resolve()),
            "base": str(spec.base),
            "command": " ".join(shlex.quote(a) for a in sys.argv),
            "created": datetime.now().isoformat(timespec="seconds"),
        },
    )
    write_text_atomic(sweep_dir / SWEEP_FILE, spec.text)


def find_sweep(target: Path) -> Path:
    """The sweep directory meant by `target`: a sweep directory, a folder of sweeps (its
    `latest`, else the newest), or a sweep's name under the default output directory."""
    path = Path(target)
    if not path.exists() and len(path.parts) == 1:
        named = Path(SWEEP_SPEC["output_dir"].default) / path
        if not named.exists():
            raise NnrunError(f"no sweep at {path} or {named}")
        path = named
    if path.is_dir() and not (path / SWEEP_FILE).exists():
        path = resolve_run(path)
    return path


def read_sweep_text(path: Path) -> str:
    """A sweep file's text (bounded, regular files only)."""
    try:
        return read_bounded(path, MAX_CONFIG_BYTES, "sweep file").decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise NnrunError(f"cannot read sweep file {path}: {error}") from None


def reopen_sweep(sweep_dir: Path) -> SweepSpec:
    """The validated spec of an existing sweep directory (its saved sweep file), under the
    name it was started with."""
    if not (sweep_dir / SWEEP_FILE).exists() or not (sweep_dir / META_FILE).exists():
        raise NnrunError(f"{sweep_dir} is not a sweep directory (no {SWEEP_FILE} and {META_FILE})")
    try:
        meta = json.loads(read_bounded(sweep_dir / META_FILE, 1 << 20, "sweep metadata"))
        source = meta["source"]
        if not isinstance(source, str) or not source or "\0" in source:
            raise TypeError(f"source must be a path, found {source!r}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NnrunError(
            f"{sweep_dir / META_FILE} is corrupted ({error}); it should be the JSON object "
            "nnrun wrote when the sweep started"
        ) from None
    text = read_sweep_text(sweep_dir / SWEEP_FILE)
    # Without a `name:` key the name is the original file's, not the copy's ("sweep").
    return load_sweep(
        sweep_dir / SWEEP_FILE, text, base_dir=Path(source).parent, default_name=Path(source).stem
    )


def trial_command(spec: SweepSpec, trial: Trial) -> str:
    """The shell command that re-runs `trial` alone (same config, same seed)."""
    words = ["nnrun", "train", display_path(spec.base)]
    for key, value in trial.params.items():
        words += ["--set", as_override(key, value)]
    words += ["--seed", str(trial.seed)]
    return " ".join(shlex.quote(word) for word in words)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    path = Path(path).resolve()
    return os.path.relpath(path) if path.is_relative_to(Path.cwd().resolve()) else str(path)


def metric_value(spec: SweepSpec, result: dict[str, Any]) -> float | None:
    """The sweep metric of a finished trial: its last value (final epoch or test split) or,
    with ``metric.summary: best``, the best epoch's."""
    curve = [v for v in result.get("curve") or [] if v is not None]
    if spec.metric_summary == "best" and curve:
        return max(curve) if spec.maximize else min(curve)
    values = {**(result.get("final") or {}), **(result.get("test") or {})}
    value = values.get(spec.metric)
    return float(value) if value is not None and math.isfinite(value) else None


class MetricTail:
    """Reads the epochs a running trial has logged since the last call (its metrics.jsonl)."""

    def __init__(self, run_dir: Path, metric: str):
        self.path = run_dir / "metrics.jsonl"
        split, _, self.key = metric.partition("_")
        self.split = split if split in ("train", "val") else None
        self.offset = 0

    def new_epochs(self) -> list[tuple[int, float | None]]:
        if self.split is None or not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        epochs = []
        for line in complete.decode().splitlines():
            row = json.loads(line)
            if row.get("split") == self.split:
                value = row.get(self.key)
                epochs.append((int(row["epoch"]), None if value is None else float(value)))
        return epochs


@dataclass
class Running:
    trial: Trial
    future: TrialFuture
    run_dir: Path
    tail: MetricTail
    epoch: int = 0
    value: float | None = None
    stop_sent: bool = False


@dataclass
class PointResults:
    """The repeats of one bayes point that have ended: repeat -> (status, metric)."""

    params: dict[str, Any]
    ended: dict[int, tuple[str, float | None]] = field(default_factory=dict)

    def outcome(self) -> tuple[str, float | None]:
        values = [v for s, v in self.ended.values() if s == "finished" and v is not None]
        if values:
            return "finished", sum(values) / len(values)
        statuses = {s for s, _ in self.ended.values()}
        return ("pruned" if "pruned" in statuses else "failed"), None


class SweepRunner:
    """Runs the not-yet-done trials of a sweep, at most `workers` at a time."""

    def __init__(
        self,
        spec: SweepSpec,
        sweep_dir: Path,
        executor: TrialExecutor,
        view: Any,
        parents: dict[str, str] | None = None,
    ):
        """`parents`: the sweep's parent run id per logger (trials nest under them)."""
        self.spec = spec
        self.parents = dict(parents or {})
        self.sweep_dir = sweep_dir
        self.executor = executor
        self.view = view
        self.ledger = Ledger(sweep_dir)
        self.ledger.repair()
        self.latest = latest_events(self.ledger.read())
        self.pending: deque[Trial] = deque()
        self.running: dict[str, Running] = {}
        self.bayes: BayesSearch | None = None
        self.points: dict[int, PointResults] = {}
        self.next_point = 0
        self.metric_checked = False

    # ------------------------------------------------------------------ planning
    def plan(self) -> int:
        """Queue the trials to run; returns the sweep's total number of trials."""
        spec = self.spec
        if spec.method == "bayes":
            return self._plan_bayes()
        if spec.method == "grid":
            points = grid_points(list(spec.params), spec.run_cap)
        else:
            assert spec.run_cap is not None, "random requires it (checked by the sweep spec)"
            points = random_points(list(spec.params), spec.run_cap, spec.seed)
        for index, params in enumerate(points):
            for trial in make_trials(index, params, spec.repeats, spec.seed):
                if self.latest.get(trial.id, {}).get("status") not in DONE:
                    self.pending.append(trial)
        return len(points) * spec.repeats

    def _plan_bayes(self) -> int:
        from nnrun.sweep.bayes import BayesSearch

        spec = self.spec
        assert spec.run_cap is not None, "bayes requires it (checked by the sweep spec)"
        bayes = self.bayes = BayesSearch(spec)
        by_point: dict[int, dict[int, dict[str, Any]]] = {}
        for event in self.latest.values():
            by_point.setdefault(event["point"], {})[event["repeat"]] = event
        for point in sorted(by_point):
            events = by_point[point]
            params = next(iter(events.values()))["params"]
            results = PointResults(params)
            for repeat, event in events.items():
                if event["status"] in DONE:
                    results.ended[repeat] = (event["status"], event.get("metric"))
            if len(results.ended) == spec.repeats:
                status, value = results.outcome()
                curve = next(iter(events.values())).get("curve") or []
                bayes.restore(params, status, value, curve)
            else:  # interrupted or failed repeats: the same point again, told when done
                bayes.enqueue(params)
                bayes.ask(point)
                self.points[point] = results
                for trial in make_trials(point, params, spec.repeats, spec.seed):
                    if trial.repeat not in results.ended:
                        self.pending.append(trial)
        self.next_point = max(by_point, default=-1) + 1
        return spec.run_cap * spec.repeats

    def _next_trial(self) -> Trial | None:
        cap = self.spec.run_cap or 0  # set whenever there is a Bayes search
        if not self.pending and self.bayes is not None and self.next_point < cap:
            point, self.next_point = self.next_point, self.next_point + 1
            params = self.bayes.ask(point)
            self.points[point] = PointResults(params)
            self.pending.extend(make_trials(point, params, self.spec.repeats, self.spec.seed))
        return self.pending.popleft() if self.pending else None

    # ------------------------------------------------------------------ running
    def run(self) -> dict[str, dict[str, Any]]:
        """Run until every trial has ended; returns each trial's last ledger event.

        Ctrl-C or SIGTERM stops the sweep: the trials in flight are killed and recorded as
        ``interrupted`` (run again on resume), and `SweepInterrupted` says how to resume."""
        interrupted = False
        try:
            with _terminate_as_interrupt() as received:
                self._run_all()
        except KeyboardInterrupt:
            interrupted = True
            for entry in self.running.values():
                (entry.run_dir / STOP_FILE).touch()
            # The ledger, not `running`, says what is in flight: the signal may come between
            # a trial's `running` event and its worker's start, or between its worker's end
            # and the event that records it.
            in_flight = [e for e in self.latest.values() if e["status"] == "running"]
            for event in in_flight:
                fields = {k: v for k, v in event.items() if k != "time"}
                self.latest[event["trial"]] = self.ledger.append(
                    {**fields, "status": "interrupted"}
                )
            raise SweepInterrupted(
                f"sweep interrupted; {len(in_flight)} trial(s) in flight were stopped and "
                f"will run again. Resume with:\n  nnrun sweep --resume {self.sweep_dir}",
                exit_code=128 + received[0] if received else 130,
            ) from None
        finally:
            if interrupted:
                self.executor.close(abort=True)
            else:
                for entry in self.running.values():
                    (entry.run_dir / STOP_FILE).touch()
                self.executor.close()
            self.view.stop()
        return self.latest

    def _run_all(self) -> None:
        total = self.plan()
        done = sum(1 for e in self.latest.values() if e["status"] in DONE)
        self.view.start(total, done, list(self.latest.values()))
        while True:
            while len(self.running) < self.executor.workers:
                trial = self._next_trial()
                if trial is None:
                    break
                self._submit(trial)
            if not self.running:
                break
            if not self._poll():
                time.sleep(POLL_SECONDS)

    def _submit(self, trial: Trial) -> None:
        run_dir = self.sweep_dir / TRIALS_DIR / trial.id
        if run_dir.exists() or run_dir.is_symlink():  # left by an earlier attempt: start clean
            remove_tree_inside(run_dir, self.sweep_dir)
        run_dir.mkdir(parents=True)
        command = trial_command(self.spec, trial)
        event = self._record(trial, "running", command=command)
        payload = {
            "trial": trial.id,
            "base": str(self.spec.base),
            "seed": trial.seed,
            "overrides": [as_override(k, v) for k, v in trial.params.items()],
            "run_dir": str(run_dir.resolve()),
            "command": command,
            "metric": self.spec.metric,
            "parents": self.parents,
        }
        self.running[trial.id] = Running(
            trial, self.executor.submit(payload), run_dir, MetricTail(run_dir, self.spec.metric)
        )
        self.view.trial_started(event)

    def _record(self, trial: Trial, status: str, **extra: Any) -> dict[str, Any]:
        event = self.ledger.append(
            {
                "trial": trial.id,
                "point": trial.point,
                "repeat": trial.repeat,
                "params": trial.params,
                "seed": trial.seed,
                "status": status,
                "run_dir": f"{TRIALS_DIR}/{trial.id}",
                **extra,
            }
        )
        self.latest[trial.id] = event
        return event

    def _poll(self) -> bool:
        """Follow running trials' epochs, prune, and record the ones that ended."""
        changed = False
        for trial_id, entry in list(self.running.items()):
            for epoch, value in entry.tail.new_epochs():
                changed = True
                entry.epoch, entry.value = epoch, value
                self.view.trial_progress(trial_id, epoch, value)
                if (
                    self.bayes is not None
                    and value is not None
                    and not entry.stop_sent
                    and self.bayes.report(entry.trial.point, epoch, value)
                ):
                    (entry.run_dir / STOP_FILE).touch()
                    entry.stop_sent = True
            if entry.future.done():
                changed = True
                del self.running[trial_id]
                self._finish(entry, self._result(entry))
        return changed

    def _result(self, entry: Running) -> dict[str, Any]:
        try:
            return entry.future.result()
        except Exception as error:  # the worker died: killed, out of memory
            return {
                "status": "failed",
                "error": f"worker failed: {type(error).__name__}: {error}",
                "curve": [],
                "epochs": entry.epoch,
            }

    def _finish(self, entry: Running, result: dict[str, Any]) -> None:
        trial = entry.trial
        status = result["status"]
        metric = metric_value(self.spec, result) if status == "finished" else None
        if status == "finished":
            self._check_metric(result)
        event = self._record(
            trial,
            status,
            command=self.latest[trial.id].get("command"),
            metric=metric,
            **{
                k: result.get(k)
                for k in ("final", "test", "best", "epochs", "curve", "wall_time", "error")
                if result.get(k) is not None
            },
        )
        self.view.trial_ended(event)
        if self.bayes is not None:
            results = self.points[trial.point]
            results.ended[trial.repeat] = (status, metric)
            if len(results.ended) == self.spec.repeats:
                self.bayes.tell(trial.point, *results.outcome())

    def _check_metric(self, result: dict[str, Any]) -> None:
        """Stop the sweep at the first finished trial that does not log the metric."""
        if self.metric_checked:
            return
        logged = [*(result.get("final") or {}), *(result.get("test") or {})]
        if self.spec.metric not in logged:
            path = ("metric", "name")
            raise ConfigError(
                Problem(
                    f"the runs do not log {self.spec.metric!r}",
                    format_path(path),
                    self.spec.cfg.where(path),
                    expected="one of " + ", ".join(logged),
                    found=repr(self.spec.metric),
                )
            )
        self.metric_checked = True


@dataclass
class SweepOutcome:
    """A finished (or fully resumed) sweep: its spec, directory and ranked points."""

    spec: SweepSpec
    sweep_dir: Path
    rows: list[Any]
    latest: dict[str, dict[str, Any]]


def sweep_loggers(spec: SweepSpec, sweep_dir: Path) -> Any:
    """The base config's loggers, opened around the sweep (see `SweepLoggers`)."""
    from nnrun.experiment import resolve, validate
    from nnrun.loggers import SweepLoggers

    cfg = resolve(spec.base)
    return SweepLoggers(validate(cfg), cfg.to_yaml(), sweep_dir)


def run_sweep(
    sweep_file: Path | None,
    *,
    workers: int | None = None,
    executor: str = "process",
    address: str | None = None,
    out: Path | None = None,
    resume: Path | None = None,
    console: Any = None,
) -> SweepOutcome:
    """Run (or resume) a sweep to the end and write its summaries; see `open_sweep`."""
    console = console or make_console()
    if workers is not None and workers < 1:
        raise NnrunError(f"--workers must be at least 1, not {workers}")
    spec, sweep_dir = open_sweep(sweep_file, out, resume)
    try:
        return _run(spec, sweep_dir, workers, executor, address, console)
    finally:
        locking.release(sweep_dir)


def _run(
    spec: SweepSpec,
    sweep_dir: Path,
    workers: int | None,
    executor: str,
    address: str | None,
    console: Any,
) -> SweepOutcome:
    from nnrun.sweep.executors import make_executor
    from nnrun.sweep.report import aggregate, write_summaries
    from nnrun.sweep.view import make_view

    loggers = sweep_loggers(spec, sweep_dir)
    pool = make_executor(executor, workers or spec.workers, address)
    console.print(
        f"sweep [bold]{safe(spec.name)}[/]: {spec.method} over "
        f"{safe(', '.join(spec.varying) or 'constants')} on {safe(pool.describe())}",
        highlight=False,
    )
    console.print(f"  {safe(sweep_dir)}", style="dim", highlight=False)
    status = "failed"
    try:
        parents = loggers.start()
        latest = SweepRunner(spec, sweep_dir, pool, make_view(spec, console), parents=parents).run()
        status = "finished"
    except SweepInterrupted:
        status = "interrupted"
        raise
    finally:
        loggers.end(status)
    rows = aggregate(spec, latest)
    write_summaries(spec, sweep_dir, rows)
    return SweepOutcome(spec, sweep_dir, rows, latest)
