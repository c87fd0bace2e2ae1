"""`nnrun train`: train a model from a config, or continue a run."""

from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import SetOption, console, print_resolved, report_errors, threads
from nnrun.cli.completion import complete_config, complete_logger, complete_run
from nnrun.errors import NnrunError
from nnrun.markup import safe


@report_errors
def train(
    config: Annotated[
        Path | None,
        typer.Argument(help="The experiment's YAML file.", autocompletion=complete_config),
    ] = None,
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run directory to use.")] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="<run>",
            help="Continue a run from its last checkpoint. A CONFIG given too is compared "
            "with the run's saved config (only train.epochs may differ without --force).",
            autocompletion=complete_run,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --resume: accept a changed config.")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only start/end lines.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per epoch.")] = False,
    logger: Annotated[
        list[str] | None,
        typer.Option(
            "--logger",
            metavar="<name>",
            autocompletion=complete_logger,
            help="Also log to this backend: tensorboard or mlflow (repeatable; adds to "
            "train.loggers).",
        ),
    ] = None,
    diagnose: Annotated[
        bool,
        typer.Option(
            "--diagnose",
            help="Record gradient, update and activation statistics per layer once per epoch "
            "(train.diagnose: true) and report findings.",
        ),
    ] = False,
    print_config: Annotated[
        bool,
        typer.Option(
            "--print-config",
            help="Print the fully resolved config (extends, ${...}, --set applied) and exit.",
        ),
    ] = False,
) -> None:
    """Train a model from a config file (or continue one with --resume).

    Examples:
      nnrun train configs/quickstart.yaml --set optimizer.lr=0.003 --logger mlflow
      nnrun train --resume outputs/quickstart/latest --set train.epochs=30
    """
    from nnrun import locking
    from nnrun.experiment import build_experiment, resolve
    from nnrun.loggers import LoggingReporter, add_loggers, build_loggers, run_context
    from nnrun.train.display import ReporterMode, make_reporter
    from nnrun.train.loop import Trainer
    from nnrun.train.session import resume_run, start_run

    if print_config:
        if config is None:
            raise NnrunError("--print-config needs a CONFIG file")
        print_resolved(config, set_ or [], seed)
        return
    checkpoint = None
    overrides = list(set_ or [])
    if resume is not None:
        if diagnose:
            overrides.append("train.diagnose=true")
        experiment, run_dir, checkpoint = resume_run(
            resume, config, overrides, force, seed, loggers=logger or []
        )
        if checkpoint is None:
            console.print(
                f"{safe(run_dir)} has no checkpoint yet (stopped during its first epoch): "
                "restarting it from the beginning in place",
                style="yellow",
                highlight=False,
            )
        try:
            loggers = build_loggers(experiment.train.loggers)
        except BaseException:
            locking.release(run_dir)
            raise
    else:
        if config is None:
            raise NnrunError("nnrun train needs a CONFIG file (or --resume RUN_DIR)")
        cfg = resolve(config, overrides, seed)
        if diagnose and not (cfg.data.get("train") or {}).get("diagnose"):
            # --diagnose turns diagnostics on; a schedule the config already sets is kept.
            cfg = resolve(config, [*overrides, "train.diagnose=true"], seed)
        add_loggers(cfg, logger or [])
        experiment = build_experiment(cfg)
        loggers = build_loggers(experiment.train.loggers)  # before the run directory
        run_dir = start_run(experiment, out)
    mode: ReporterMode = "json" if json_out else "quiet" if quiet else "auto"
    reporter = LoggingReporter(
        make_reporter(mode, console), loggers, run_context(experiment, run_dir)
    )
    try:
        trainer = Trainer(experiment, run_dir, reporter, resume=checkpoint)
    except BaseException:
        locking.release(run_dir)  # fit() would have released it
        raise
    with threads(experiment.train.threads):
        trainer.fit()
