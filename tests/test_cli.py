"""The command line through Typer's CliRunner, and the main path through a real process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nnrun import __version__
from nnrun.cli import COMMANDS, app
from tests.extras import need

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def trained(tiny: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(tiny), "--out", str(run), "--quiet"])
    assert result.exit_code == 0, result.output
    return run


def test_version_and_help():
    assert runner.invoke(app, ["--version"]).output.strip() == f"nnrun {__version__}"
    result = runner.invoke(app, ["--help"])
    for command in COMMANDS:
        assert command in result.output


def test_train_json_prints_one_object_per_epoch(tiny, tmp_path):
    result = runner.invoke(app, ["train", str(tiny), "--out", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    epochs = [line for line in lines if line.get("event") == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"} <= set(epochs[0])
    assert lines[-1]["event"] == "end" and lines[-1]["status"] == "finished"


def test_train_writes_a_timestamped_run_and_latest_pointer(tiny, tmp_path):
    result = runner.invoke(
        app, ["train", str(tiny), "--quiet", "--set", f"output_dir={tmp_path / 'outputs'}"]
    )
    assert result.exit_code == 0, result.output
    runs = [p for p in (tmp_path / "outputs" / "tiny").iterdir() if p.name != "latest"]
    assert len(runs) == 1 and runs[0].name[:8].isdigit()
    assert (tmp_path / "outputs" / "tiny" / "latest").resolve() == runs[0].resolve()
    assert str(runs[0]) in result.output.replace("\n", "")


def test_config_errors_exit_2_with_location_and_no_traceback(tiny):
    result = runner.invoke(
        app,
        ["train", str(tiny), "--set", "model.layers.0.units=many", "--set", "optimizer.lrr=1"],
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "model.layers[0].units" in result.output and "did you mean 'lr'" in result.output


def test_bad_yaml_exits_2_with_the_parser_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  layers: [\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and f"{bad}:3:1" in result.output


def test_debug_shows_the_traceback(tiny):
    result = runner.invoke(app, ["--debug", "validate", str(tiny), "--set", "seed=x"])
    assert result.exit_code != 0 and result.exception is not None


def test_validate_prints_summary_and_explains_sources(tiny):
    result = runner.invoke(app, ["validate", str(tiny), "--explain", "--set", "optimizer.lr=0.01"])
    assert result.exit_code == 0, result.output
    assert "layers.0" in result.output and "parameters: 67" in result.output
    assert "--set optimizer.lr=0.01" in result.output and "default" in result.output


def test_explain_shows_what_each_value_may_be_from_the_declarations(tiny):
    from nnrun.config.resolve import resolve_config
    from nnrun.spec import declared, parse_spec

    cfg = resolve_config(tiny)
    parse_spec(cfg)
    assert declared(cfg, ("train", "epochs")) == "int >= 1"
    assert declared(cfg, ("data", "split", "val")) == "float in [0, 0.9]"
    assert declared(cfg, ("optimizer", "lr")) == "float >= 0"
    assert declared(cfg, ("model", "layers", 0, "units")) == "int >= 1"
    result = runner.invoke(app, ["validate", str(tiny), "--explain"], env={"COLUMNS": "200"})
    assert "allowed" in result.output and "int >= 1" in result.output


def test_components_lists_arguments_with_their_constraints():
    result = runner.invoke(app, ["components", "layer", "dropout"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "float in [0, 1]" in result.output and "0.5" in result.output
    everything = runner.invoke(app, ["components"], env={"COLUMNS": "200"})
    assert "optimizer adam" in everything.output and "schedule cosine" in everything.output
    wrong = runner.invoke(app, ["components", "layr"])
    assert wrong.exit_code == 2 and "did you mean 'layer'" in wrong.output


@pytest.mark.parametrize(
    "fmt, marker", [("dot", "digraph"), ("mermaid", "flowchart TD"), ("text", "computation graph")]
)
def test_graph_formats(tiny, tmp_path, fmt, marker):
    out = tmp_path / f"g.{fmt}"
    result = runner.invoke(app, ["graph", str(tiny), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert marker in text and "layers.1" in text


def test_gradcheck_passes_on_a_real_model(tiny):
    result = runner.invoke(app, ["gradcheck", str(tiny), "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "all 4 parameter gradients match" in result.output


def test_schema_is_valid_json_schema():
    jsonschema = need("jsonschema")
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "optimizer" in schema["properties"]


def test_eval_writes_eval_json_with_confusion_matrix(trained):
    result = runner.invoke(app, ["eval", str(trained), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["split"] == "test" and len(report["confusion_matrix"]) == 3
    assert json.loads((trained / "eval.json").read_text())["test"]["metrics"] == report["metrics"]


def test_eval_on_a_new_labelled_file(trained, tmp_path):
    rows = ROOT / "datasets"
    source = next(rows.glob("iris*"))
    result = runner.invoke(app, ["eval", str(trained), "--data", str(source), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["examples"] == 150


def test_predict_labels_probabilities_and_file_formats(trained, tmp_path):
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]))
    result = runner.invoke(app, ["predict", str(trained), str(inputs)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "label" and len(result.stdout.splitlines()) == 3
    result = runner.invoke(app, ["predict", str(trained), str(inputs), "--proba"])
    probs = np.array(
        [[float(v) for v in line.split(",")] for line in result.stdout.splitlines()[1:]]
    )
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    out = tmp_path / "p.jsonl"
    assert (
        runner.invoke(app, ["predict", str(trained), str(inputs), "--out", str(out)]).exit_code == 0
    )
    assert len(out.read_text().splitlines()) == 2


def test_predict_rejects_inputs_of_the_wrong_width(trained, tmp_path):
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 5)))
    result = runner.invoke(app, ["predict", str(trained), str(inputs)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_tampered_checkpoint_is_a_clear_error(trained):
    model = trained / "checkpoints" / "best" / "model.safetensors"
    data = bytearray(model.read_bytes())
    data[-3] ^= 0xFF
    model.resolve().write_bytes(bytes(data))
    result = runner.invoke(app, ["eval", str(trained)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_runs_and_plot_list_and_draw(trained):
    result = runner.invoke(app, ["runs", str(trained.parent)])
    assert result.exit_code == 0 and "finished" in result.output
    result = runner.invoke(app, ["plot", str(trained)])
    assert result.exit_code == 0, result.output


def test_datasets_lists_the_builtins():
    result = runner.invoke(app, ["datasets"])
    assert result.exit_code == 0 and "digits" in result.output and "karate" in result.output


def test_main_path_in_a_real_process(tiny, tmp_path):
    run = tmp_path / "proc"
    done = subprocess.run(
        [sys.executable, "-m", "nnrun.cli", "train", str(tiny), "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "epoch 3/3" in done.stdout and str(run) in done.stdout.replace("\n", "")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and "test_accuracy" in summary["test"]


def test_predict_generates_text_from_a_language_model(tmp_path):
    config = tmp_path / "lm.yaml"
    config.write_text(
        textwrap.dedent("""
        name: tiny_lm
        data: {dataset: shakespeare, seq_len: 16, stride: 4096, tokenizer: char, batch_size: 32}
        model:
          layers:
            - {type: embedding, num_embeddings: "${dataset.vocab_size}", embedding_dim: 8}
            - {type: lstm, hidden_size: 16}
            - {type: linear, units: "${dataset.vocab_size}"}
        loss: {type: cross_entropy, class_dim: -1}
        train: {epochs: 1}
    """)
    )
    run = tmp_path / "run"
    assert runner.invoke(app, ["train", str(config), "--out", str(run), "-q"]).exit_code == 0
    args = ["predict", str(run), "--generate", "20", "--prompt", "KING:", "--seed", "3"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    text = first.stdout.rstrip("\n")
    assert text.startswith("KING:") and len(text) == len("KING:") + 20
    assert runner.invoke(app, args).stdout == first.stdout  # seeded sampling
    greedy = runner.invoke(app, [*args[:-2], "--temperature", "0"])
    assert greedy.exit_code == 0 and greedy.stdout.startswith("KING:")


def test_ctrl_c_saves_last_prints_the_resume_command_and_exits_130(tiny, tmp_path):
    import signal

    run = tmp_path / "interrupted"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nnrun.cli",
            "train",
            str(tiny),
            "--out",
            str(run),
            "--set",
            "train.epochs=100000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("epoch 2/"):
            break
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 130, output
    assert f"nnrun train --resume {run}" in " ".join(output.split())
    assert (run / "checkpoints" / "last" / "model.safetensors").is_file()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "interrupted"
