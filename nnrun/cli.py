"""The `nnrun` command line: train, eval, predict, validate, graph, gradcheck, schema,
datasets, runs, plot, sweep. User mistakes print one clear paragraph and exit 2."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from nnrun import __version__
from nnrun.errors import ConfigError, NnrunError

app = typer.Typer(
    name="nnrun",
    help="Declarative neural-network experiments on a NumPy autograd engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    debug = False


def _version(value: bool) -> None:
    if value:
        print(f"nnrun {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    State.debug = debug


def report_errors(fn: F) -> F:
    """Print nnrun errors as one paragraph each (no traceback unless --debug); exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NnrunError as error:
            if State.debug:
                raise
            _print_error(error)
            raise typer.Exit(getattr(error, "exit_code", 2)) from None

    return wrapper  # type: ignore[return-value]


def _print_error(error: NnrunError) -> None:
    if isinstance(error, ConfigError):
        count = len(error.problems)
        errors.print(
            f"[bold red]error:[/] {count} problem{'s' if count > 1 else ''} in the config",
            highlight=False,
        )
        for problem in error.problems:
            errors.print(f"  {problem}", highlight=False, soft_wrap=True)
    elif getattr(error, "exit_code", 2) == 130:  # Ctrl-C: not a mistake, a pause
        errors.print(f"[bold yellow]{error}[/]", highlight=False, soft_wrap=True)
    else:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value: --set optimizer.lr=3e-4 (YAML value)."),
]


def _threads(count: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=count)


# ---------------------------------------------------------------------- train
@app.command()
@report_errors
def train(
    config: Annotated[Path | None, typer.Argument(help="The experiment's YAML file.")] = None,
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run directory to use.")] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue a run from its last checkpoint.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --resume: accept a changed config.")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only start/end lines.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per epoch.")] = False,
) -> None:
    """Train a model from a config file (or continue one with --resume)."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.display import make_reporter
    from nnrun.train.loop import Trainer
    from nnrun.train.session import resume_run, start_run

    checkpoint = None
    if resume is not None:
        experiment, run_dir, checkpoint = resume_run(resume, config, set_ or [], force, seed)
    else:
        if config is None:
            raise NnrunError("nnrun train needs a CONFIG file (or --resume RUN_DIR)")
        experiment = build_experiment(resolve(config, set_ or [], seed))
        run_dir = start_run(experiment, out)
    mode = "json" if json_out else "quiet" if quiet else "auto"
    reporter = make_reporter(mode, console)
    with _threads(experiment.train["threads"]):
        Trainer(experiment, run_dir, reporter, resume=checkpoint).fit()


# ---------------------------------------------------------------------- eval
@app.command("eval")
@report_errors
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run directory or a checkpoint.")],
    split: Annotated[str, typer.Option("--split", help="test, val or train.")] = "test",
    data: Annotated[
        Path | None, typer.Option("--data", help="Evaluate on this labelled file instead.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 256,
) -> None:
    """Loss, metrics (and a confusion matrix) of a trained model on a split or new data."""
    from nnrun.train.evaluation import evaluate_run

    result = evaluate_run(run, split, data, batch_size)
    if json_out:
        print(json.dumps(result, indent=2))
    else:
        from nnrun.train.evaluation import render_evaluation

        render_evaluation(result, console)


# ---------------------------------------------------------------------- predict
@app.command()
@report_errors
def predict(
    run: Annotated[Path, typer.Argument(help="A run directory or a checkpoint.")],
    inputs: Annotated[
        Path | None,
        typer.Argument(help="CSV, .npy, .npz or JSON Lines inputs (a .txt file for text models)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write predictions here (.csv, .npy or .jsonl); default: stdout."
        ),
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Class probabilities.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 256,
    generate: Annotated[
        int | None,
        typer.Option(
            "--generate", help="Language models: sample this many tokens and print the text."
        ),
    ] = None,
    prompt: Annotated[str, typer.Option("--prompt", help="Text to start generating from.")] = "",
    temperature: Annotated[
        float,
        typer.Option("--temperature", help="Sampling temperature (0: always the likeliest token)."),
    ] = 0.8,
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling.")] = 0,
) -> None:
    """Predict with a trained model (the training preprocessing is applied), or generate
    text from a language model with --generate."""
    from nnrun.train.prediction import generate_text, predict_file

    if generate is not None:
        print(generate_text(run, prompt, generate, temperature, seed))
        return
    if inputs is None:
        raise NnrunError("nnrun predict needs an INPUT file (or --generate N for text models)")
    text = predict_file(run, inputs, out, proba, batch_size)
    if text is not None:
        sys.stdout.write(text)
    else:
        errors.print(f"predictions written to {out}")


# ---------------------------------------------------------------------- validate
@app.command()
@report_errors
def validate(
    config: Annotated[Path, typer.Argument(help="The experiment's YAML file.")],
    set_: SetOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every effective value and where it came from.")
    ] = False,
) -> None:
    """Resolve and validate a config, then print a model summary."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import render_explain, render_model_summary

    experiment = build_experiment(resolve(config, set_ or []))
    if explain:
        render_explain(experiment.cfg, console)
    render_model_summary(experiment, console)
    console.print(f"[green]ok[/]: {config} is valid")


# ---------------------------------------------------------------------- graph
@app.command()
@report_errors
def graph(
    config: Annotated[Path, typer.Argument(help="The experiment's YAML file.")],
    set_: SetOption = None,
    format_: Annotated[str, typer.Option("--format", help="text, dot or mermaid.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
) -> None:
    """Show the computation graph the builder made (text, Graphviz DOT or Mermaid)."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import render_graph

    if format_ not in ("text", "dot", "mermaid"):
        raise NnrunError(f"--format must be text, dot or mermaid, not {format_!r}")
    experiment = build_experiment(resolve(config, set_ or []))
    text = render_graph(experiment, format_, console if out is None else None)
    if out is not None:
        out.write_text(text)
        errors.print(f"graph written to {out}")


# ---------------------------------------------------------------------- gradcheck
@app.command()
@report_errors
def gradcheck(
    config: Annotated[Path, typer.Argument(help="The experiment's YAML file.")],
    set_: SetOption = None,
    batch: Annotated[int, typer.Option("--batch", help="Examples to check on.")] = 4,
) -> None:
    """Check every parameter's backprop gradient against central differences (float64)."""
    from nnrun.experiment import build_experiment, resolve
    from nnrun.train.summary import check_gradients

    experiment = build_experiment(resolve(config, set_ or []))
    if not check_gradients(experiment, batch, console):
        raise typer.Exit(1)


# ---------------------------------------------------------------------- schema
@app.command()
@report_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of config files (for editor completion and checking)."""
    from nnrun.config.jsonschema import config_json_schema
    from nnrun.experiment import SECTIONS
    from nnrun.registry import (
        ACTIVATIONS,
        INITIALIZERS,
        LAYERS,
        LOSSES,
        METRICS,
        OPTIMIZERS,
        SCHEDULES,
    )

    sections = {k: v for k, v in SECTIONS.items() if isinstance(v, dict)}
    registries = {
        "layers": LAYERS,
        "loss": LOSSES,
        "optimizer": OPTIMIZERS,
        "schedule": SCHEDULES,
        "metrics": METRICS,
        "init": INITIALIZERS,
        "activation": ACTIVATIONS,
    }
    text = json.dumps(config_json_schema(sections, registries), indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n")
        errors.print(f"schema written to {out}")


# ---------------------------------------------------------------------- datasets
@app.command()
@report_errors
def datasets() -> None:
    """List the built-in datasets with their task, shape and size."""
    from rich.table import Table

    from nnrun.data import dataset_table

    table = Table(title="built-in datasets")
    rows = dataset_table()
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


# ---------------------------------------------------------------------- runs / plot
@app.command()
@report_errors
def runs(
    directory: Annotated[Path, typer.Argument(help="Where runs are.")] = Path("outputs"),
) -> None:
    """List runs: name, start, status, epochs, best metric, time."""
    from nnrun.train.history import list_runs, render_runs_table

    render_runs_table(list_runs(directory), console)


@app.command()
@report_errors
def plot(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
    out: Annotated[Path | None, typer.Option("--out", help="PNG file to write.")] = None,
) -> None:
    """Loss and metric curves: a PNG with matplotlib, else drawn in the terminal."""
    from nnrun.train.plotting import plot_run
    from nnrun.train.rundir import resolve_run

    result = plot_run(resolve_run(run), out)
    if isinstance(result, Path):
        errors.print(f"plot written to {result}")
    else:
        console.print(result)


def _add_sweep_commands() -> None:
    # nnrun.sweep_cli uses report_errors from this module, so it is imported last.
    from nnrun.sweep_cli import register

    register(app)


_add_sweep_commands()

if __name__ == "__main__":
    app()
