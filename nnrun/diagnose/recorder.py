"""`Diagnostics`: what the trainer holds when `train.diagnose` is on. It picks the fixed
batch, runs the recording pass on schedule, appends the records and reports new findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nnrun.data import BatchLoader
from nnrun.diagnose.findings import Finding, FindingTracker
from nnrun.diagnose.options import diagnose_schedule
from nnrun.diagnose.probe import config_layers, record_step
from nnrun.diagnose.records import DIVERGED, append_record, truncate_after
from nnrun.experiment import Experiment


class Diagnostics:
    """Records every `every` optimizer steps, or once per epoch after its last step."""

    def __init__(
        self,
        exp: Experiment,
        run_dir: Path,
        reporter: Any,
        every: int | None,
        completed_step: int,
    ):
        self.exp = exp
        self.run_dir = Path(run_dir)
        self.reporter = reporter
        self.every = every
        # The step is taken as training takes it, gradient clipping included.
        self.clip_norm = exp.train["clip_grad_norm"]
        self.clip_value = exp.train["clip_grad_value"]
        self.layers = config_layers(exp)
        # The first batch of the training split in file order: the same examples every time,
        # so records are comparable across the run.
        loader = BatchLoader(exp.data.splits["train"], exp.data.batch_size, shuffle=False)
        self.inputs, self.targets = next(iter(loader.batches(0)))
        self.tracker = FindingTracker()
        self.new: list[Finding] = []
        for record in truncate_after(self.run_dir, completed_step):
            self.tracker.add(record)

    @classmethod
    def create(
        cls, exp: Experiment, run_dir: Path, reporter: Any, completed_step: int
    ) -> Diagnostics | None:
        """The recorder for `exp` (findings go to `reporter.message`), or None when
        `train.diagnose` is off."""
        on, every = diagnose_schedule(exp.train.get("diagnose"))
        return cls(exp, run_dir, reporter, every, completed_step) if on else None

    def record(self, epoch: int, step: int, **marks: Any) -> None:
        record: dict[str, Any] = {"epoch": epoch, "step": step, **marks}
        record.update(
            record_step(
                self.exp, self.layers, self.inputs, self.targets, self.clip_norm, self.clip_value
            )
        )
        append_record(self.run_dir, record)
        self.new += self.tracker.add(record)

    def after_step(self, epoch: int, step: int) -> None:
        if self.every is not None and step % self.every == 0:
            self.record(epoch, step)

    def end_epoch(self, epoch: int, step: int) -> None:
        """After the epoch's last step (before the schedule moves the learning rate)."""
        if self.every is None:
            self.record(epoch, step)

    def report(self) -> None:
        """Show the findings that are new since the last report, under the epoch's row."""
        for finding in self.new:
            self.reporter.message(f"[{finding.code}] {finding.message}", "warning")
        self.new = []

    def final(self, status: str, epoch: int, step: int) -> list[dict[str, Any]]:
        """The run's findings for summary.json. A run that diverged gets one more record
        first, of the weights that made the loss non-finite, to say where it starts."""
        if status == "diverged":
            self.record(epoch, step, after=DIVERGED)
            self.report()
        return self.tracker.summary()
