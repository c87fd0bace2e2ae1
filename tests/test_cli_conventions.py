"""What users of Keras, Lightning and Hydra expect, through the command line (issue 14):
early stopping, errors said once, resume with a config, eval per split, transfer by run
name, predict from stdin, printed configs, flags after the command, closed pipes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nnrun.cli import app
from tests.extras import need

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

REGRESSION = """
name: reg
seed: 0
data: {dataset: diabetes, batch_size: 64}
model:
  layers: [{type: linear, units: 1}]
train: {epochs: 1}
"""


def invoke(*args: str, input: str | bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def ok(*args: str, input: str | bytes | None = None):
    result = invoke(*args, input=input)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def iris_run(tiny: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    ok("train", tiny, "--out", run, "--quiet")
    return run


# ---------------------------------------------------------------- 1. early stopping


def keras_stop_epoch(values: list[float], patience: int, min_delta: float, mode: str) -> int:
    """The epoch (1-based) at which Keras's EarlyStopping callback stops, re-implemented
    from its on_epoch_end: wait += 1; reset on improvement; stop when wait >= patience."""
    sign = 1 if mode == "min" else -1  # compare signed values: lower is better
    best, wait = float("inf"), 0
    for epoch, value in enumerate(values, start=1):
        wait += 1
        if sign * value + min_delta < best:
            best, wait = sign * value, 0
            continue
        if wait >= patience:
            return epoch
    return len(values)


@pytest.mark.parametrize(
    ("monitor", "mode", "patience", "min_delta"),
    [("val_loss", "min", 2, 0.02), ("val_accuracy", "max", 3, 0.0), ("train_loss", "min", 1, 0.05)],
)
def test_early_stopping_stops_where_keras_would(tiny, tmp_path, monitor, mode, patience, min_delta):
    run = tmp_path / "es"
    result = ok(
        "train",
        tiny,
        "--out",
        run,
        "--set",
        "train.epochs=60",
        "--set",
        "optimizer.lr=0.2",
        "--set",
        f"train.early_stopping={{monitor: {monitor}, mode: {mode}, patience: {patience}, "
        f"min_delta: {min_delta}}}",
    )
    split, _, key = monitor.partition("_")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    values = [row[key] for row in rows if row["split"] == split]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == len(values)
    assert summary["epochs"] == keras_stop_epoch(values, patience, min_delta, mode)
    if summary["status"] == "stopped":
        assert "patience 0 left" in result.output
    assert "-1 left" not in result.output


def test_early_stopping_after_exactly_patience_epochs_without_improvement(tiny, tmp_path):
    result = ok(
        "train",
        tiny,
        "--out",
        tmp_path / "es",
        "--set",
        "train.epochs=20",
        "--set",
        "train.early_stopping={monitor: train_loss, patience: 5, min_delta: 100}",
    )
    lines = [line for line in result.output.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 6  # the first epoch sets the best, then 5 without improvement
    assert [line.rsplit("  ", 1)[-1] for line in lines[1:]] == [
        f"patience {n} left" for n in (4, 3, 2, 1, 0)
    ]


# ---------------------------------------------------------------- 5. NaN


def test_nan_in_the_first_epoch_says_no_checkpoint_exists_and_is_printed_once(tiny, tmp_path):
    result = invoke(
        "train", tiny, "--out", tmp_path / "nan", "--set", "optimizer={type: sgd, lr: 1.0e+300}"
    )
    assert result.exit_code == 3
    assert result.output.count("the loss became nan") == 1
    assert "No checkpoint was written" in result.output
    assert "checkpoints" not in result.output.replace("No checkpoint", "")
    assert not (tmp_path / "nan" / "checkpoints").exists()


def test_nan_after_an_epoch_names_the_last_checkpoint_that_exists(tiny, tmp_path):
    run = tmp_path / "nan"
    result = invoke(
        "train",
        tiny,
        "--out",
        run,
        "--set",
        "optimizer={type: sgd, lr: 0.01}",
        "--set",
        "schedule={type: exponential, gamma: 1.0e+300}",  # epoch 2 takes a huge step
    )
    assert result.exit_code == 3, result.output
    assert result.output.count("the loss became") == 1
    message = " ".join(result.output.split())
    assert "The last good checkpoint (epoch 1) is kept in" in message
    assert (run / "checkpoints" / "last").is_dir()


# ---------------------------------------------------------------- 6. train CONFIG --resume


def test_resume_with_a_config_compares_it_and_uses_it(tiny, iris_run, tmp_path):
    changed = tmp_path / "changed.yaml"
    changed.write_text(tiny.read_text().replace("lr: 0.05", "lr: 0.01"))
    refused = invoke("train", changed, "--resume", iris_run)
    assert refused.exit_code == 2 and "optimizer.lr: 0.05 -> 0.01" in refused.output
    longer = tmp_path / "longer.yaml"
    longer.write_text(tiny.read_text().replace("epochs: 3", "epochs: 4"))
    ok("train", longer, "--resume", iris_run, "--quiet")
    assert json.loads((iris_run / "summary.json").read_text())["epochs"] == 4
    ok("train", changed, "--resume", iris_run, "--force", "--set", "train.epochs=5", "-q")
    assert "lr: 0.01" in (iris_run / "config.yaml").read_text()


# ---------------------------------------------------------------- 7. eval per split


def test_eval_keeps_one_entry_per_split_with_prefixed_metric_names(iris_run):
    test = json.loads(ok("eval", iris_run, "--json").stdout)
    val = json.loads(ok("eval", iris_run, "--split", "val", "--json").stdout)
    assert set(test["metrics"]) == {"test_loss", "test_accuracy"}
    assert set(val["metrics"]) == {"val_loss", "val_accuracy"}
    stored = json.loads((iris_run / "eval.json").read_text())
    assert stored["test"]["metrics"] == test["metrics"]
    assert stored["val"]["metrics"] == val["metrics"]
    summary = json.loads((iris_run / "summary.json").read_text())
    assert summary["test"] == pytest.approx(test["metrics"])
    assert "test_accuracy" in ok("eval", iris_run).output


# ---------------------------------------------------------------- 8. transfer recipe


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the shipped cnn_digits and transfer configs."""
    (tmp_path / "configs").mkdir()
    for name in ("cnn_digits", "transfer"):
        shutil.copy(ROOT / "configs" / f"{name}.yaml", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_transfer_recipe_works_as_documented(project):
    ok("train", "configs/cnn_digits.yaml", "--set", "train.epochs=1", "-q")
    ok("train", "configs/transfer.yaml", "--set", "train.epochs=1", "-q")
    assert (project / "outputs" / "transfer" / "latest").exists()
    run = next((project / "outputs" / "cnn_digits").glob("2*"))
    ok(
        "train",
        "configs/transfer.yaml",
        "--set",
        "train.epochs=1",
        "--set",
        f"model.init_from.checkpoint=outputs/cnn_digits/{run.name}",
        "-q",
    )
    # eval does not need the pre-trained source: the run has its own checkpoints
    shutil.rmtree(project / "outputs" / "cnn_digits")
    ok("eval", "outputs/transfer/latest")


def test_missing_run_name_says_where_it_looked(project):
    result = invoke("train", "configs/transfer.yaml", "-q")
    assert result.exit_code == 2
    assert "no checkpoint at outputs/cnn_digits" in result.output
    assert "model.init_from.checkpoint" in result.output


def test_out_into_a_folder_of_runs_is_refused(project):
    ok("train", "configs/cnn_digits.yaml", "--set", "train.epochs=1", "-q")
    result = invoke("train", "configs/cnn_digits.yaml", "--out", "outputs/cnn_digits")
    assert result.exit_code == 2 and "holds other runs" in result.output
    assert "cnn_digits" in ok("runs").output


# ---------------------------------------------------------------- 9. --proba


def test_proba_for_a_regression_model_is_refused(tmp_path):
    config = tmp_path / "reg.yaml"
    config.write_text(textwrap.dedent(REGRESSION))
    ok("train", config, "--out", tmp_path / "reg", "-q")
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 10)))
    result = invoke("predict", tmp_path / "reg", inputs, "--proba")
    assert result.exit_code == 2
    assert "--proba" in result.output and "regression" in result.output
    assert ok("predict", tmp_path / "reg", inputs).stdout.startswith("output_0")


# ---------------------------------------------------------------- 12. closed stdout


def test_validate_into_a_closed_pipe_exits_quietly(tiny):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "nnrun.cli", "validate", str(tiny), "--explain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    process.stdout.close()  # like `| head` that has already exited
    stderr = process.stderr.read().decode()
    code = process.wait()
    assert code in (0, -signal.SIGPIPE), stderr
    assert stderr == ""


# ---------------------------------------------------------------- 13. predict from stdin


def test_predict_reads_csv_jsonl_and_npy_from_stdin(iris_run):
    csv = "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"
    from_csv = ok("predict", iris_run, "-", input=csv).stdout.splitlines()
    assert from_csv[0] == "label" and len(from_csv) == 3
    arrays = "[5.1, 3.5, 1.4, 0.2]\n[6.7, 3.0, 5.2, 2.3]\n"
    assert ok("predict", iris_run, "-", "--format", "jsonl", input=arrays).stdout.splitlines() == (
        from_csv
    )
    objects = "".join(
        json.dumps(
            dict(zip(csv.splitlines()[0].split(","), map(float, row.split(",")), strict=True))
        )
        + "\n"
        for row in csv.splitlines()[1:]
    )
    assert ok("predict", iris_run, "-", "--format", "jsonl", input=objects).stdout.splitlines() == (
        from_csv
    )
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]))
    from_npy = ok("predict", iris_run, "-", "--format", "npy", input=buffer.getvalue())
    assert from_npy.stdout.splitlines() == from_csv
    bad = invoke("predict", iris_run, "-", input="1,2\n")
    assert bad.exit_code == 2 and "stdin, row 1" in bad.output


def test_predict_refuses_stdin_beyond_its_bound(iris_run, monkeypatch):
    from nnrun import limits

    monkeypatch.setattr(limits, "MAX_STDIN_BYTES", 64)
    result = invoke("predict", iris_run, "-", input="5.1,3.5,1.4,0.2\n" * 10)
    assert result.exit_code == 2 and "stdin is over 64 bytes" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- 16. printed config


def test_print_config_is_the_resolved_config_and_runs_as_a_config(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "base.yaml"
    base.write_text(tiny.read_text().replace("units: 8", 'units: "${data.batch_size}"'))
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n")
    printed = ok("train", child, "--print-config", "--set", "optimizer.lr=0.01").stdout
    assert "extends" not in printed and "${" not in printed
    assert "lr: 0.01" in printed and "units: 16" in printed and "name: child" in printed
    again = tmp_path / "printed.yaml"
    again.write_text(printed)
    assert ok("validate", again, "--print").stdout == printed
    assert not (tmp_path / "outputs").exists()  # --print-config trained nothing
    ok("train", again, "-q")
    assert (tmp_path / "outputs" / "child" / "latest").exists()


# ---------------------------------------------------------------- 17. --debug after the command


def test_debug_after_the_command_shows_the_traceback(tmp_path):
    missing = tmp_path / "missing.yaml"
    quiet = invoke("validate", missing)
    assert quiet.exit_code == 2 and isinstance(quiet.exception, SystemExit)
    loud = invoke("validate", "--debug", missing)
    assert loud.exit_code != 0 and not isinstance(loud.exception, SystemExit)
    assert type(loud.exception).__name__ == "ConfigError"


# ---------------------------------------------------------------- 18. epoch time


def test_fast_epochs_show_milliseconds_not_zero_seconds(tiny, tmp_path):
    output = ok("train", tiny, "--out", tmp_path / "r").output
    epochs = [line for line in output.splitlines() if line.startswith("epoch ")]
    assert epochs and all(" 0.0s" not in line for line in epochs)
    assert all(line.split("  ")[-2].endswith(("ms", "s")) for line in epochs)


# ---------------------------------------------------------------- 19. metrics


def test_new_metrics_are_logged_and_match_sklearn_on_the_eval_split(tmp_path):
    sklearn = need("sklearn.metrics")
    config = tmp_path / "bc.yaml"
    config.write_text(
        textwrap.dedent(
            """
            name: bc
            data: {dataset: breast_cancer}
            model: {layers: [{type: linear, units: 1}]}
            train: {epochs: 2}
            metrics: [auc, average_precision, log_loss, balanced_accuracy, matthews_corrcoef]
            """
        )
    )
    run = tmp_path / "bc"
    lines = ok("train", config, "--out", run, "--json").stdout.splitlines()
    first = json.loads(lines[0])
    assert {"val_auc", "val_average_precision", "val_log_loss", "val_matthews_corrcoef"} <= set(
        first
    )
    report = json.loads(ok("eval", run, "--json").stdout)["metrics"]

    from nnrun.train.loop import predict_outputs
    from nnrun.train.session import open_run

    opened = open_run(run)
    split = opened.experiment.data.splits["test"]
    logits = predict_outputs(opened.experiment, split.inputs, 256)[:, 0].astype(np.float64)
    targets = split.targets[:, 0].astype(int)
    assert report["test_auc"] == pytest.approx(sklearn.roc_auc_score(targets, logits))
    assert report["test_average_precision"] == pytest.approx(
        sklearn.average_precision_score(targets, logits)
    )
    assert report["test_log_loss"] == pytest.approx(
        sklearn.log_loss(targets, 1 / (1 + np.exp(-logits))), rel=1e-5
    )
    predictions = (logits > 0).astype(int)
    assert report["test_matthews_corrcoef"] == pytest.approx(
        sklearn.matthews_corrcoef(targets, predictions)
    )


def test_unknown_metric_suggests_registered_names_not_aliases(tiny):
    result = invoke("validate", tiny, "--set", "metrics=[aucc]")
    assert result.exit_code == 2
    assert "did you mean 'auc'" in result.output and "'acc'" not in result.output


# ---------------------------------------------------------------- sweeps (2, 3, 4, 11, 15)

SWEEP = """\
base: tiny.yaml
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  optimizer.lr: {values: [0.01, 0.003]}
  model.layers.0.units: {values: [8, 16]}
"""


@pytest.fixture
def sweep_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a tiny base config and a sweep over it; trials run in this
    process (the process pool's start-up is not what these tests are about)."""
    from tests.sweep.conftest import BASE, InlineExecutor

    (tmp_path / "tiny.yaml").write_text(BASE)
    (tmp_path / "lrs.yaml").write_text(SWEEP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        "nnrun.sweep.executors.make_executor", lambda *args, **kwargs: InlineExecutor()
    )
    return tmp_path


def test_best_command_reproduces_the_best_trial_exactly(sweep_project):
    import shlex

    output = ok("sweep", "lrs.yaml").output
    line = next(line for line in output.splitlines() if line.startswith("best: "))
    words = shlex.split(line.removeprefix("best: "))
    assert words[:2] == ["nnrun", "train"] and "--seed" in words
    assert "the same config" in output and "best.yaml" in output
    sweep_dir = sweep_project / "outputs" / "sweeps" / "lrs" / "latest"
    summary = (sweep_dir / "summary.csv").read_text().splitlines()
    best_value = float(summary[1].split(",")[summary[0].split(",").index("val_accuracy_mean")])
    ok(*words[1:], "--out", "again", "-q")
    again = json.loads((sweep_project / "again" / "summary.json").read_text())
    assert again["final"]["val_accuracy"] == best_value
    assert "--seed" in (sweep_dir / "summary.md").read_text()


def test_sweep_keeps_its_name_on_resume_and_in_the_report(sweep_project):
    assert "\nname:" not in "\n" + SWEEP  # named after its file, not its copy sweep.yaml
    ok("sweep", "lrs.yaml")
    latest = sweep_project / "outputs" / "sweeps" / "lrs" / "latest"
    first_line = (latest / "summary.md").read_text().splitlines()[0]
    assert first_line == "# Sweep lrs"
    resumed = ok("sweep", "--resume", "lrs").output
    assert "sweep lrs" in resumed and "lrs: val_accuracy" in resumed
    report = ok("sweep-report", "lrs").output
    assert "lrs: val_accuracy" in report and "sweep:" not in report
    assert (latest / "summary.md").read_text().splitlines()[0] == first_line


def test_sweep_directories_get_a_latest_link_and_are_found_by_name(sweep_project):
    ok("sweep", "lrs.yaml")
    folder = sweep_project / "outputs" / "sweeps" / "lrs"
    assert (folder / "latest").is_symlink()
    assert (folder / "latest" / "ledger.jsonl").is_file()
    assert "lrs: val_accuracy" in ok("sweep-report", "outputs/sweeps/lrs").output
    assert "lrs: val_accuracy" in ok("sweep-report", "lrs").output
    missing = invoke("sweep-report", "nope")
    assert missing.exit_code == 2 and "no sweep at nope" in missing.output


def test_a_misspelt_metric_is_refused_before_any_trial_and_leaves_nothing(sweep_project):
    (sweep_project / "lrs.yaml").write_text(SWEEP.replace("val_accuracy", "val_acuracy"))
    result = invoke("sweep", "lrs.yaml", "--out", "outputs/sweeps/mine")
    assert result.exit_code == 2
    assert "lrs.yaml:3" in result.output and "val_acuracy" in result.output
    assert "did you mean 'val_accuracy'" in result.output
    assert not (sweep_project / "outputs").exists()
    (sweep_project / "lrs.yaml").write_text(SWEEP.replace("optimizer.lr:", "optimizer.lrr:"))
    result = invoke("sweep", "lrs.yaml")
    assert result.exit_code == 2 and "optimizer.lrr" in result.output
    assert not (sweep_project / "outputs").exists()
    (sweep_project / "lrs.yaml").write_text(SWEEP)
    ok("sweep", "lrs.yaml", "--out", "outputs/sweeps/mine")


def test_a_sweep_dir_without_trials_takes_the_corrected_file(sweep_project):
    out = sweep_project / "outputs" / "sweeps" / "mine"
    out.mkdir(parents=True)
    (out / "sweep.yaml").write_text(SWEEP.replace("0.003", "0.03"))
    (out / "sweep.json").write_text(json.dumps({"source": str(sweep_project / "lrs.yaml")}))
    ok("sweep", "lrs.yaml", "--out", out)
    assert (out / "sweep.yaml").read_text() == SWEEP


def test_sweep_table_headers_are_whole_parameter_keys_at_80_columns(sweep_project, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output = ok("sweep", "lrs.yaml").output
    header = next(line for line in output.splitlines() if "rank" in line)
    assert "model.layers.0.units" in header and "optimizer.lr" in header
    assert all(len(line) <= 80 for line in output.splitlines() if "│" in line or "┃" in line)


# ---------------------------------------------------------------- 10. graph view


def test_graph_opens_small_blocks_so_the_skip_connection_shows():
    output = ok("graph", ROOT / "configs" / "residual_mlp.yaml").output
    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if "│" in line}
    assert "body.0.sum" in rows and "body.3.out" in rows
    assert "stem, body.0.fc2" in rows["body.0.sum"]  # the skip: the block's input is added
    folded = ok("graph", ROOT / "configs" / "residual_mlp.yaml", "--no-expand").output
    assert "residual ×4" in folded and "body.0.sum" not in folded
    dot = ok("graph", ROOT / "configs" / "residual_mlp.yaml", "--format", "dot").output
    assert '"stem" -> "body.0.sum";' in dot and '"body.0.out" -> "body.1.sum";' in dot


def test_graph_labels_edge_index_as_two_by_e():
    output = ok("graph", ROOT / "configs" / "gcn_karate.yaml").output
    row = next(line for line in output.splitlines() if "edge_index" in line and "input" in line)
    assert "(2, E)" in row and "(N, 156)" not in output


# ---------------------------------------------------------------- 11. narrow terminals


@pytest.fixture
def columns_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def table_cells(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def test_datasets_at_80_columns_shows_whole_names_on_one_line(columns_80):
    from nnrun.registry import DATASETS

    output = ok("datasets").output
    assert all(len(line) <= 80 for line in output.splitlines())
    names = [cells[0] for cells in table_cells(output)]
    assert names == DATASETS.names()  # one line each: nothing wrapped, nothing cut
    assert "…" not in output


def test_datasets_json_lists_every_dataset_with_all_fields():
    rows = json.loads(ok("datasets", "--json").stdout)
    iris = next(row for row in rows if row["name"] == "iris")
    assert iris["task"] == "classification" and iris["description"]
    assert next(row for row in rows if row["name"] == "shakespeare")["aliases"] == [
        "tiny_shakespeare"
    ]


def test_runs_at_80_columns_never_cut_or_wrap_run_paths(columns_80, tiny, tmp_path):
    outputs = tmp_path / "outputs"
    long_name = "an_experiment_with_a_rather_long_descriptive_name"
    for _ in range(2):
        ok("train", tiny, "-q", "--set", f"name={long_name}", "--set", f"output_dir={outputs}")
    output = ok("runs", outputs).output
    runs = [cells[0] for cells in table_cells(output)]
    assert len(runs) == 2 and all(run.startswith(f"{long_name}/2") for run in runs)
    assert "…" not in output
    records = json.loads(ok("runs", outputs, "--json").stdout)
    assert [record["run"] for record in records] == runs
    assert {"path", "status", "epochs", "best_metric", "best_value"} <= set(records[0])


# ---------------------------------------------------------------- 14. plot


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "matplotlib" else find_spec(name, *args),
    )


def steep_run(path: Path) -> Path:
    """A run whose loss falls three decades (10 → 0.01)."""
    from nnrun.train.rundir import MetricsLogger

    path.mkdir(parents=True)
    (path / "config.yaml").write_text("name: steep\n")
    logger = MetricsLogger(path, [])
    for epoch in range(1, 7):
        for split, factor in (("train", 1.0), ("val", 1.5)):
            logger.log(epoch, split, loss=factor * 10.0 ** (2 - epoch), lr=0.1, seconds=0.1)
    return path


def test_plot_without_colour_tells_train_from_val_by_line_style(
    iris_run, no_matplotlib, monkeypatch
):
    monkeypatch.setenv("NO_COLOR", "1")
    output = ok("plot", iris_run).output
    assert "\x1b[" not in output
    assert "━ train" in output and "┅ val" in output


def test_plot_out_png_without_matplotlib_names_the_install_command(iris_run, no_matplotlib):
    result = invoke("plot", iris_run, "--out", iris_run / "x.png")
    assert result.exit_code == 2
    assert "pip install 'nnrun[plot]'" in " ".join(result.output.split())


def test_plot_png_title_is_the_run_name_and_steep_loss_is_log_scaled(tmp_path, monkeypatch):
    need("matplotlib")
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    titles: list[str] = []
    scales: list[str] = []
    suptitle, set_yscale = Figure.suptitle, Axes.set_yscale
    monkeypatch.setattr(
        Figure, "suptitle", lambda self, t, **k: titles.append(t) or suptitle(self, t, **k)
    )
    monkeypatch.setattr(
        Axes, "set_yscale", lambda self, v, **k: scales.append(v) or set_yscale(self, v, **k)
    )
    run = steep_run(tmp_path / "outputs" / "steep" / "20260101-120000")
    ok("plot", run, "--out", tmp_path / "curves.png")
    assert titles == ["steep · 20260101-120000"] and str(tmp_path) not in titles[0]
    assert scales == ["log"] and (tmp_path / "curves.png").stat().st_size > 0


def test_terminal_plot_uses_a_log_axis_for_a_loss_over_three_decades(tmp_path, no_matplotlib):
    output = ok("plot", steep_run(tmp_path / "run")).output
    assert "loss (log scale, lower is better)" in output


def test_sweep_plot_puts_log_sampled_parameters_on_a_log_axis(sweep_project, monkeypatch):
    need("matplotlib")
    from matplotlib.axes import Axes

    scales: dict[str, str] = {}
    set_xscale, set_xlabel = Axes.set_xscale, Axes.set_xlabel
    monkeypatch.setattr(
        Axes,
        "set_xscale",
        lambda self, v, **k: setattr(self, "_scale_", v) or set_xscale(self, v, **k),
    )
    monkeypatch.setattr(
        Axes,
        "set_xlabel",
        lambda self, label, **k: (
            scales.setdefault(label, getattr(self, "_scale_", "linear"))
            or set_xlabel(self, label, **k)
        ),
    )
    (sweep_project / "rnd.yaml").write_text(
        "base: tiny.yaml\nmethod: random\nrun_cap: 3\n"
        "metric: {name: val_accuracy, goal: maximize}\nparameters:\n"
        "  optimizer.lr: {distribution: log_uniform, min: 1.0e-4, max: 0.1}\n"
        "  model.layers.0.units: {values: [8, 16]}\n"
    )
    ok("sweep", "rnd.yaml")
    ok("sweep-report", "rnd")
    assert scales == {"optimizer.lr": "log", "model.layers.0.units": "linear"}
