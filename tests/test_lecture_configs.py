"""configs/lecture/: the lecture's worked examples as graph-form configs. The forward pass
computes the lecture's value node by node, the quadratic form recovers its coefficients by
training, the two-path example passes `nnrun gradcheck`, and docs/lecture.md points at each."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nnrun.autograd.tensor import Tensor
from nnrun.checkpoint import load_checkpoint
from nnrun.cli import app
from nnrun.experiment import build_experiment, resolve

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "configs" / "lecture"
runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_forward_pass_value_matches_the_lecture_arithmetic():
    exp = build_experiment(resolve(LECTURE / "forward_pass.yaml"))
    with open(LECTURE / "forward_pass.csv") as file:
        rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(file)]
    xy = np.array(rows)
    x, y = xy[:, :1], xy[:, 1:]
    out = exp.model.to(np.float64)(Tensor(xy, dtype=np.float64)).data
    np.testing.assert_allclose(out, x * (x + y) + np.log(x + y) + y**2, rtol=1e-12)
    # the lecture's numbers: x = 1, y = 2 → u = 3, v = 3, w = log 3, s = 4
    one_two = exp.model(np.array([[1.0, 2.0]])).data.item()
    assert one_two == pytest.approx(3 + np.log(3) + 4)


def test_forward_pass_graph_lists_the_lecture_nodes_in_topological_order():
    text = invoke("graph", str(LECTURE / "forward_pass.yaml"))
    rows = [line.split("│")[1].strip() for line in text.splitlines() if line.count("│") > 2]
    assert set(rows) == {"xy", "x", "y", "u", "v", "w", "s", "f"}
    position = {name: i for i, name in enumerate(rows)}
    exp = build_experiment(resolve(LECTURE / "forward_pass.yaml"))
    assert all(position[source] < position[target] for source, target in exp.view.edges)


@pytest.mark.slow
def test_quadratic_form_training_recovers_its_coefficients(tmp_path):
    invoke("train", str(LECTURE / "quadratic_form.yaml"), "--out", str(tmp_path / "run"), "-q")
    weights = load_checkpoint(tmp_path / "run" / "checkpoints" / "best").weights
    # quadratic.csv was generated from these (see the config's header)
    a_true = np.array([[1.0, 0.5], [-0.5, 2.0]])
    a = weights["A"]
    np.testing.assert_allclose(a + a.T, a_true + a_true.T, atol=1e-2)
    np.testing.assert_allclose(weights["b"].ravel(), [-1.0, 0.5], atol=1e-2)
    np.testing.assert_allclose(weights["c"], [0.25], atol=1e-2)


def test_quadratic_data_is_the_stated_quadratic_form():
    data = np.loadtxt(LECTURE / "quadratic.csv", delimiter=",", skiprows=1)
    x, q = data[:, :2], data[:, 2]
    a, b, c = np.array([[1.0, 0.5], [-0.5, 2.0]]), np.array([-1.0, 0.5]), 0.25
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", x, a, x) + x @ b + c, q, atol=1e-8)


def test_two_path_gradients_pass_nnrun_gradcheck():
    text = invoke("gradcheck", str(LECTURE / "two_paths.yaml"))
    assert "all 1 parameter gradients match" in text


def test_neuron_reads_one_linear_unit_through_every_unit_type():
    exp = build_experiment(resolve(LECTURE / "neuron.yaml"))
    kinds = {kind for _, kind, _ in exp.view.nodes}
    units = {"identity", "sign", "sigmoid", "tanh", "relu", "softplus", "gaussian", "sinusoid"}
    assert units <= kinds
    assert "all 4 parameter gradients match" in invoke("gradcheck", str(LECTURE / "neuron.yaml"))


def test_a_model_without_parameters_is_shown_but_not_trained(tmp_path):
    result = runner.invoke(
        app, ["train", str(LECTURE / "forward_pass.yaml"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "the model has no parameters to train" in result.output


def test_every_lecture_config_is_referenced_from_the_lecture_page():
    page = (ROOT / "docs" / "lecture.md").read_text()
    for config in LECTURE.glob("*.yaml"):
        assert f"configs/lecture/{config.name}" in page, config.name


def test_gradcheck_of_a_model_without_parameters_checks_its_input():
    # f = v + w − s differs from the target by 2s: the loss and input gradient are not zero
    text = invoke(
        "gradcheck", str(LECTURE / "forward_pass.yaml"), "--set", "model.nodes.f.expr=v + w - s"
    )
    assert "all 1 input gradients match" in text
