"""Where trials run: a local process pool (default) or a Dask distributed cluster.

Both take a payload dict for `nnrun.sweep.trial.run_trial` and return a future with
``done()`` and ``result()``. Workers are limited to one BLAS thread each, so `workers`
processes use `workers` cores and no more.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from nnrun.errors import NnrunError
from nnrun.sweep.trial import run_trial

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
EXECUTORS = ("process", "dask")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class TrialFuture(Protocol):
    def done(self) -> bool: ...

    def result(self) -> dict[str, Any]: ...


class TrialExecutor(Protocol):
    """Runs trial payloads; `describe` says where, for the start line."""

    workers: int

    def submit(self, payload: dict[str, Any]) -> TrialFuture: ...

    def describe(self) -> str: ...

    def close(self, abort: bool = False) -> None: ...


def _init_worker(parent: int) -> None:
    """Process-pool worker start: one BLAS thread (the env variables also reach anything
    the worker starts; threadpoolctl limits the already loaded BLAS), Ctrl-C left to the
    parent (not a traceback per idle worker), and death with the parent: a killed sweep
    must not leave workers training for minutes under PID 1."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this process when `parent` ends (Linux prctl); elsewhere, a
    daemon thread polls for the parent instead. An interrupted trial loses only its
    unfinished epoch, and a resumed sweep runs it again from scratch anyway."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl failed")
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class ProcessExecutor:
    """`workers` spawned processes (a fresh interpreter each: no forked locks or threads)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, payload: dict[str, Any]) -> Future:
        try:
            return self.pool.submit(run_trial, payload)
        except BrokenProcessPool:  # a worker died hard (killed, out of memory): start afresh
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            return self.pool.submit(run_trial, payload)

    def describe(self) -> str:
        return f"{self.workers} local process{'es' if self.workers != 1 else ''}"

    def close(self, abort: bool = False) -> None:
        """Wait for the workers to end; with `abort` (an interrupted sweep), kill them."""
        if abort:
            # The pool has no public kill; its processes are what a stopped sweep must end.
            processes = list((self.pool._processes or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.kill()
            for process in processes:
                process.join(timeout=5)
            return
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Trials as tasks on a Dask scheduler at `address`, or on a `LocalCluster` of
    `workers` single-threaded processes started (and closed) here. Trials write their run
    directories themselves, so remote workers need the sweep directory on a shared disk."""

    def __init__(self, workers: int, address: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise NnrunError(
                "--executor dask needs Dask distributed: pip install "
                "'nnrun[dist]' (or 'dask[distributed]')"
            ) from None
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=dict.fromkeys(THREAD_VARIABLES, "1"),
            )
        try:
            self.client = Client(address or self.cluster, timeout="20s")
        except OSError as error:
            raise NnrunError(
                f"cannot reach the Dask scheduler at {address}: {error}; start "
                "one with `dask scheduler` or leave out --address"
            ) from None
        self.address = address
        self.workers = workers

    def submit(self, payload: dict[str, Any]) -> TrialFuture:
        key = f"nnrun-trial-{payload['trial']}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(run_trial, payload, pure=False, key=key)

    def describe(self) -> str:
        where = self.address or f"a local Dask cluster of {self.workers} processes"
        return f"Dask ({where})"

    def close(self, abort: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, workers: int, address: str | None = None) -> TrialExecutor:
    """`process` (default) or `dask`; `address` only applies to dask."""
    if kind == "process":
        if address is not None:
            raise NnrunError(
                "--address is for --executor dask; the process executor runs trials on this machine"
            )
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, address)
    raise NnrunError(f"unknown executor {kind!r}: expected one of {', '.join(EXECUTORS)}")
