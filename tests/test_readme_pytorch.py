"""The PyTorch recipe of docs/interop.md, run exactly as written, predicts what `nnrun predict`
does."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from nnrun.cli import app
from tests.extras import need

torch = need("torch")
need("safetensors.torch")

ROOT = Path(__file__).resolve().parents[1]


def docs_block(page: str, heading: str, language: str) -> str:
    """The first ```language block after `heading` in docs/`page`."""
    text = (ROOT / "docs" / page).read_text()
    section = text[text.index(f"\n{heading}\n") :]
    return re.search(rf"```{language}\n(.*?)```", section, re.DOTALL).group(1)


def test_documented_pytorch_recipe_matches_nnrun_predict(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = (ROOT / "configs" / "quickstart.yaml").read_text()
    assert "normalize: standard" in config  # the recipe's point: the saved statistics
    Path("quickstart.yaml").write_text(config)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "quickstart.yaml", "--set", "train.epochs=3", "-q"])
    assert trained.exit_code == 0, trained.output
    # The recipe's inputs: the first 20 digits of the shipped CSV, raw pixel values 0-16.
    rows = np.loadtxt(ROOT / "datasets" / "digits.csv.gz", delimiter=",", skiprows=1)
    np.save("inputs.npy", rows[:20, :-1])
    run = "outputs/quickstart/latest"
    for args in (["--proba", "--out", "probs.npy"], ["--out", "labels.npy"]):
        result = runner.invoke(app, ["predict", run, "inputs.npy", *args])
        assert result.exit_code == 0, result.output

    namespace: dict = {}
    # Running the documented text itself is the point: the recipe cannot drift.
    recipe = docs_block("interop.md", "## PyTorch", "python")
    exec(compile(recipe, "docs/interop.md", "exec"), namespace)

    np.testing.assert_allclose(namespace["probs"], np.load("probs.npy"), atol=1e-5)
    expected_labels = np.load("labels.npy", allow_pickle=False)
    assert [str(label) for label in namespace["labels"]] == [str(v) for v in expected_labels]
    assert str(namespace["labels"][0]) in capsys.readouterr().out
    # Without the saved preprocessing the same weights predict other labels.
    with torch.no_grad():
        raw = namespace["net"](torch.from_numpy(rows[:20, :-1].astype(np.float32)))
    assert (raw.numpy().argmax(axis=-1) != namespace["probs"].argmax(axis=-1)).any()
