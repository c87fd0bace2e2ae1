"""Checkpoints: exact round trips, atomic saves, integrity checks, PyTorch compatibility."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnrun import checkpoint as ckpt
from nnrun.checkpoint import (
    CheckpointManager,
    check_compatible,
    flatten_state,
    load_checkpoint,
    periodic_tag,
    unflatten_state,
)
from nnrun.errors import CheckpointError
from tests.extras import need

METADATA = {
    "config": "model:\n  layers:\n    - {type: linear, units: 3}\n",
    "epoch": 4,
    "step": 120,
    "metrics": {"val_loss": 0.25, "val_accuracy": 0.875},
}


def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "layers.0.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "layers.0.bias": rng.standard_normal(3).astype(np.float32),
        "scale": np.array(2.5),
        "counts": np.arange(6, dtype=np.int64).reshape(2, 3),
    }


def assert_same_arrays(actual: dict, expected: dict) -> None:
    assert list(actual) == list(expected) or sorted(actual) == sorted(expected)
    for name, array in expected.items():
        assert actual[name].dtype == array.dtype, name
        assert actual[name].shape == array.shape, name
        np.testing.assert_array_equal(actual[name], array)


def test_weights_and_metadata_round_trip_exactly(tmp_path):
    manager = CheckpointManager(tmp_path / "checkpoints")
    saved = weights()
    path = manager.save("last", saved, METADATA)
    loaded = manager.load("last")
    assert path == tmp_path / "checkpoints" / "last"
    assert_same_arrays(loaded.weights, saved)
    assert loaded.metadata.config == METADATA["config"]
    assert loaded.metadata.epoch == 4 and loaded.metadata.step == 120
    assert loaded.metadata.metrics == METADATA["metrics"]
    assert loaded.metadata.format_version == ckpt.FORMAT_VERSION
    assert loaded.metadata.version == ckpt.nnrun_version()
    assert loaded.state is None
    assert all(array.flags.writeable for array in loaded.weights.values())


def test_transposed_array_is_saved_in_logical_order(tmp_path):
    """Regression for safetensors#825: non-contiguous arrays were written in memory order."""
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    strided = {"transposed": base.T, "sliced": base[:, ::2], "fortran": np.asfortranarray(base)}
    assert not any(array.flags.c_contiguous for array in strided.values())
    CheckpointManager(tmp_path).save("last", strided, {})
    loaded = load_checkpoint(tmp_path / "last").weights
    for name, array in strided.items():
        np.testing.assert_array_equal(loaded[name], array)


def test_nested_state_round_trips_with_types_preserved(tmp_path):
    state = {
        "optimizer": {
            "step": 7,
            "lr": 0.001,
            "betas": (0.9, 0.999),
            "state": {"layers.0.weight": {"exp_avg": np.ones((3, 4), np.float32).T}},
            "groups": [{"params": ["a", "b"], "weight_decay": 0.0, "nesterov": False}],
        },
        "rng": {"bit_generator": "PCG64", "state": {"state": 2**100 + 3, "inc": 5}},
        "legacy_rng": ("MT19937", np.arange(5, dtype=np.uint32), 0, 0, 0.0),
        "early_stopping": {"best": np.float32(0.5), "wait": 2, "mode": "min", "best_epoch": None},
        "zero_d": np.array(3, dtype=np.int64),
    }
    CheckpointManager(tmp_path).save("last", weights(), METADATA, state=state)
    loaded = load_checkpoint(tmp_path / "last").state
    assert loaded["optimizer"]["betas"] == (0.9, 0.999)
    assert loaded["optimizer"]["groups"] == state["optimizer"]["groups"]
    assert loaded["rng"] == state["rng"]
    exp_avg = loaded["optimizer"]["state"]["layers.0.weight"]["exp_avg"]
    np.testing.assert_array_equal(exp_avg, np.ones((4, 3), np.float32))
    legacy = loaded["legacy_rng"]
    assert isinstance(legacy, tuple) and legacy[0] == "MT19937" and legacy[1].dtype == np.uint32
    best = loaded["early_stopping"]["best"]
    assert isinstance(best, np.float32) and best == np.float32(0.5)
    assert loaded["early_stopping"]["best_epoch"] is None
    assert loaded["zero_d"].shape == () and loaded["zero_d"].dtype == np.int64


def test_flatten_uses_dotted_keys_and_keeps_colliding_paths_apart():
    a, b = np.zeros(2), np.ones(3)
    arrays, tree = flatten_state({"a.b": a, "a": {"b": b}, "items": [a]})
    assert set(arrays) == {"a.b", "a.b#1", "items.0"}
    json.dumps(tree)  # the tree is plain JSON
    restored = unflatten_state(arrays, tree)
    np.testing.assert_array_equal(restored["a.b"], a)
    np.testing.assert_array_equal(restored["a"]["b"], b)


def test_flatten_rejects_values_json_cannot_hold_exactly():
    with pytest.raises(TypeError, match="must be a str"):
        flatten_state({"state": {0: np.zeros(1)}})
    with pytest.raises(TypeError, match="set"):
        flatten_state({"tags": {"a"}})


def test_failed_swap_keeps_previous_checkpoint_and_leaves_no_visible_garbage(tmp_path, monkeypatch):
    manager = CheckpointManager(tmp_path)
    old = weights()
    manager.save("last", old, METADATA)

    def crash(*args):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        manager.save("last", {name: a + 1 for name, a in old.items()}, {"epoch": 5})
    monkeypatch.undo()
    assert manager.tags() == ["last"]
    assert_same_arrays(manager.load("last").weights, old)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["last"]
    manager.save("last", old, METADATA)  # the next save sweeps the orphaned version
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 1


def test_killed_save_leftovers_are_ignored_then_swept(tmp_path, monkeypatch):
    """A kill skips all cleanup: simulate that by making the cleanup a no-op too."""
    manager = CheckpointManager(tmp_path)
    old = weights()
    manager.save("last", old, METADATA)
    real_write = ckpt.write_new
    written = []

    def write_then_die(path, data):
        if written:
            raise KeyboardInterrupt
        written.append(path)
        return real_write(path, data[: len(data) // 2])  # half a file on disk

    monkeypatch.setattr(ckpt, "write_new", write_then_die)
    monkeypatch.setattr(shutil, "rmtree", lambda *args, **kwargs: None)
    with pytest.raises(KeyboardInterrupt):
        manager.save("last", old, METADATA, state={"x": np.zeros(2)})
    monkeypatch.undo()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 2  # the current version and the half-written one
    assert manager.tags() == ["last"]
    assert_same_arrays(manager.load("last").weights, old)
    manager.save("last", old, METADATA)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 1


@pytest.mark.parametrize("background", [False, True])
def test_checkpoint_survives_sigkill_of_the_saving_process(tmp_path, background):
    """Kill a process that saves in a loop; `last` must still load and be self-consistent."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from nnrun.checkpoint import CheckpointManager
        manager = CheckpointManager({str(tmp_path)!r}, background={background})
        for step in range(100000):
            value = np.full((64, 64), step, dtype=np.float32)
            manager.save("last", {{"w": value}}, {{"step": step}}, state={{"step": value}})
            if step == 2:
                manager.wait()
                print("ready", flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"ready"
    child.kill()
    child.wait()
    loaded = CheckpointManager(tmp_path).load("last")
    step = loaded.metadata.step
    assert step >= 2
    np.testing.assert_array_equal(loaded.weights["w"], np.full((64, 64), step, np.float32))
    np.testing.assert_array_equal(loaded.state["step"], loaded.weights["w"])


def test_truncated_weights_file_raises_checkpoint_error(tmp_path):
    path = CheckpointManager(tmp_path).save("last", weights(), METADATA) / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(tmp_path / "last")


def test_tampered_state_file_raises_checkpoint_error(tmp_path):
    directory = CheckpointManager(tmp_path).save("last", weights(), {}, state={"w": np.ones(4)})
    path = directory / "state.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"state\.safetensors is corrupted"):
        load_checkpoint(directory)


def test_missing_file_raises_checkpoint_error(tmp_path):
    directory = CheckpointManager(tmp_path).save("last", weights(), {}, state={"w": np.ones(4)})
    (directory / "state.json").unlink()
    with pytest.raises(CheckpointError, match=r"missing state\.json"):
        load_checkpoint(directory)
    (directory / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match=r"manifest\.json is missing"):
        load_checkpoint(directory)


def test_unparsable_lone_safetensors_file_raises_checkpoint_error(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_checkpoint(path)


def test_shape_mismatch_lists_missing_unexpected_and_mismatched_keys_at_once():
    found = {"a.weight": np.zeros((3, 4)), "a.bias": np.zeros(3), "extra": np.zeros(1)}
    expected = {"a.weight": (4, 3), "a.bias": (3,), "b.weight": (2, 2)}
    with pytest.raises(CheckpointError) as error:
        check_compatible(found, expected, source="run/model.safetensors")
    message = str(error.value)
    assert "run/model.safetensors" in message
    assert "missing keys: b.weight" in message
    assert "unexpected keys: extra" in message
    assert "a.weight expected (4, 3), found (3, 4)" in message
    check_compatible(found, {"a.weight": (3, 4), "a.bias": (3,), "extra": (1,)})


def test_keep_limits_periodic_checkpoints_but_not_last_or_best(tmp_path):
    manager = CheckpointManager(tmp_path, keep=2)
    for epoch in range(1, 6):
        manager.save(periodic_tag(epoch), weights(), {"epoch": epoch})
        manager.save("last", weights(), {"epoch": epoch})
    manager.save("best", weights(), {"epoch": 3})
    assert manager.tags() == ["best", "epoch-0004", "epoch-0005", "last"]
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 4
    assert manager.load("epoch-0005").metadata.epoch == 5


def test_load_checkpoint_accepts_run_dir_checkpoint_dir_and_weights_file(tmp_path):
    manager = CheckpointManager(tmp_path / "checkpoints")
    manager.save("last", weights(), {"epoch": 2})
    assert load_checkpoint(tmp_path).metadata.epoch == 2  # no best yet → last
    manager.save("best", weights(), {"epoch": 1})
    assert load_checkpoint(tmp_path).metadata.epoch == 1
    assert load_checkpoint(tmp_path / "checkpoints" / "last").metadata.epoch == 2
    file = tmp_path / "checkpoints" / "last" / "model.safetensors"
    assert load_checkpoint(file).metadata.epoch == 2


def test_unknown_tag_and_missing_path_name_what_exists(tmp_path):
    manager = CheckpointManager(tmp_path)
    manager.save("last", weights(), {})
    with pytest.raises(CheckpointError, match=r"no checkpoint 'best'.*available: last"):
        manager.load("best")
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="run directory"):
        load_checkpoint(tmp_path / "empty")


def test_bad_metadata_and_weights_are_rejected_before_writing(tmp_path):
    manager = CheckpointManager(tmp_path)
    with pytest.raises(TypeError, match="epoch"):
        manager.save("last", weights(), {"epoch": 1.5})
    with pytest.raises(ValueError, match="written by nnrun"):
        manager.save("last", weights(), {"nnrun_version": "x"})
    with pytest.raises(TypeError, match="dtype object"):
        manager.save("last", {"w": np.array([None])}, {})
    with pytest.raises(ValueError, match="tag"):
        manager.save("../escape", weights(), {})
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_newer_format_is_refused_with_upgrade_hint(tmp_path):
    directory = CheckpointManager(tmp_path).save("last", weights(), {})
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = ckpt.FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="upgrade nnrun"):
        load_checkpoint(directory)


def test_torch_linear_loads_saved_weights_and_matches_numpy(tmp_path):
    torch = need("torch")
    from safetensors.torch import load_file

    rng = np.random.default_rng(1)
    weight = rng.standard_normal((4, 3)).astype(np.float32).T  # (3, 4), non-contiguous
    bias = rng.standard_normal(3).astype(np.float32)
    directory = CheckpointManager(tmp_path).save("last", {"weight": weight, "bias": bias}, {})
    layer = torch.nn.Linear(4, 3)
    layer.load_state_dict(load_file(directory / "model.safetensors"))
    x = rng.standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        out = layer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, x @ weight.T + bias, rtol=1e-5, atol=1e-6)


def test_file_saved_by_torch_loads_as_weights_without_state(tmp_path):
    torch = need("torch")
    from safetensors.torch import save_file

    layer = torch.nn.Linear(2, 3)
    save_file(layer.state_dict(), tmp_path / "torch.safetensors", metadata={"format": "pt"})
    loaded = load_checkpoint(tmp_path / "torch.safetensors")
    assert loaded.state is None and loaded.metadata.extra == {"format": "pt"}
    loaded.check_compatible({"weight": (3, 2), "bias": (3,)})
    np.testing.assert_array_equal(loaded.weights["weight"], layer.weight.detach().numpy())


def test_tags_saved_together_are_second_names_for_one_version(tmp_path):
    manager = CheckpointManager(tmp_path, keep=1)
    manager.save("last", weights(), {"epoch": 1}, also=("best", "epoch-0001"))
    assert os.readlink(tmp_path / "best") == os.readlink(tmp_path / "last")
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 1
    manager.save("last", weights(), {"epoch": 2}, also=("epoch-0002",))
    # epoch-0001 is dropped by `keep`, but its files stay: `best` still names them.
    assert manager.tags() == ["best", "epoch-0002", "last"]
    assert manager.load("best").metadata.epoch == 1
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 2


def test_background_save_is_complete_before_the_next_look_up(tmp_path):
    manager = CheckpointManager(tmp_path, background=True)
    values = weights()
    saved = {name: array.copy() for name, array in values.items()}
    manager.save("last", values, {"epoch": 1})
    for array in values.values():
        array += 1  # the caller may change its arrays as soon as save returns
    assert manager.exists("last")
    assert_same_arrays(manager.load("last").weights, saved)


def test_a_failed_background_save_raises_at_the_next_wait(tmp_path, monkeypatch):
    manager = CheckpointManager(tmp_path, background=True)

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    manager.save("last", weights(), {})
    with pytest.raises(OSError, match="disk full"):
        manager.wait()
    manager.wait()  # reported once


def test_a_save_waits_for_the_disk_twice_files_in_one_batch_then_the_swap(tmp_path, monkeypatch):
    manager = CheckpointManager(tmp_path)
    batches, directories = [], []
    real_batch, real_directory = ckpt.fsync_together, ckpt.fsync_directory
    monkeypatch.setattr(ckpt, "fsync_together", lambda p: batches.append(p) or real_batch(p))
    monkeypatch.setattr(
        ckpt, "fsync_directory", lambda p: directories.append(p) or real_directory(p)
    )
    version = manager.save("last", weights(), METADATA, state={"x": np.zeros(2)}, also=("best",))
    version = version.resolve()
    assert [sorted(p.name for p in batch) for batch in batches] == [
        sorted([*(p.name for p in version.iterdir()), version.name])
    ]
    assert directories == [tmp_path]
