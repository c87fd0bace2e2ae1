"""Checkpoints never delete or read outside their own directory (issue 12, root cause 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nnrun.checkpoint import CheckpointManager, load_checkpoint
from nnrun.errors import CheckpointError

WEIGHTS = {"w": np.ones((2, 2), np.float32)}


def save(manager: CheckpointManager, tag: str) -> Path:
    return manager.save(tag, WEIGHTS, {"epoch": 1, "step": 1, "metrics": {}}, {"x": 1})


def test_pruning_a_symlinked_tag_never_deletes_its_target(tmp_path):
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    manager = CheckpointManager(tmp_path / "ckpt", keep=1)
    save(manager, "epoch-0001")
    planted = tmp_path / "ckpt" / "epoch-0000"
    os.symlink(victim, planted)
    (victim / "manifest.json").write_text("{}")  # makes the planted tag look complete
    save(manager, "epoch-0002")  # prunes every periodic tag but the newest
    assert (victim / "data.txt").read_text() == "keep me"
    assert not planted.is_symlink()


def test_removing_a_tag_that_points_outside_unlinks_only_the_tag(tmp_path):
    victim = tmp_path / "elsewhere"
    victim.mkdir()
    (victim / "manifest.json").write_text("{}")
    manager = CheckpointManager(tmp_path / "ckpt")
    save(manager, "last")
    os.symlink(victim, tmp_path / "ckpt" / "epoch-0003")
    manager.remove("epoch-0003")
    assert victim.is_dir() and (victim / "manifest.json").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.bin", ".", "..", "a/b"])
def test_a_manifest_listing_a_path_outside_is_refused(tmp_path, name):
    manager = CheckpointManager(tmp_path / "ckpt")
    directory = save(manager, "last").resolve()
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"][name] = {"bytes": 1, "sha256": "0" * 64}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="plain names"):
        load_checkpoint(tmp_path / "ckpt" / "last")


def test_a_manifest_listing_a_directory_is_refused(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt")
    directory = save(manager, "last").resolve()
    (directory / "sub").mkdir()
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"]["sub"] = {"bytes": 0, "sha256": "0" * 64}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="directory"):
        load_checkpoint(tmp_path / "ckpt" / "last")


def test_a_manifest_entry_symlinked_outside_is_refused(tmp_path):
    (tmp_path / "secret").write_bytes(b"x")
    manager = CheckpointManager(tmp_path / "ckpt")
    directory = save(manager, "last").resolve()
    os.symlink(tmp_path / "secret", directory / "extra")
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"]["extra"] = {"bytes": 1, "sha256": "0" * 64}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="outside"):
        load_checkpoint(tmp_path / "ckpt" / "last")


def test_a_tag_pointing_outside_the_checkpoint_directory_is_not_loaded(tmp_path):
    other = CheckpointManager(tmp_path / "other")
    save(other, "last")
    manager = CheckpointManager(tmp_path / "ckpt")
    save(manager, "best")
    os.symlink((tmp_path / "other" / "last").resolve(), tmp_path / "ckpt" / "last")
    with pytest.raises(CheckpointError, match="outside"):
        manager.load("last")


@pytest.mark.parametrize(
    "tree",
    ["[1, 2]", '{"x": {"__ndarray__": "nope", "__scalar__": false}}', '{"x": {"__tuple__": 5}}'],
)
def test_a_state_json_of_the_wrong_shape_is_a_checkpoint_error(tmp_path, tree):
    import hashlib

    manager = CheckpointManager(tmp_path / "ckpt")
    directory = save(manager, "last").resolve()
    data = tree.encode()
    (directory / "state.json").write_bytes(data)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"]["state.json"] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"state\.json"):
        manager.load("last")


def test_a_device_file_is_not_loaded_as_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="/dev/zero"):
        load_checkpoint(Path("/dev/zero"))
