"""Findings from records: each code fires on its symptom, names the layer and the threshold,
and stays silent on healthy numbers."""

from __future__ import annotations

from typing import Any

from nnrun.diagnose.findings import (
    DEAD_FRACTION,
    FindingTracker,
    detect,
)


def layer(name: str, **stats: Any) -> dict[str, Any]:
    """A record entry of a healthy linear+relu layer, with `stats` overriding."""
    entry = {
        "name": name,
        "type": "linear",
        "path": f"model.{name}",
        "activation": "relu",
        "grad_norm": 0.5,
        "grad_rms": 1e-2,
        "grad_zero_fraction": 0.05,
        "param_norm": 10.0,
        "update_ratio": 3e-3,
        "mean": 0.4,
        "std": 0.6,
        "zero_fraction": 0.5,
        "dead_fraction": 0.0,
        "saturated_fraction": None,
        "nonfinite_fraction": 0.0,
    }
    entry.update(stats)
    return entry


def record(*layers: dict[str, Any], epoch: int = 1) -> dict[str, Any]:
    return {"epoch": epoch, "step": 10 * epoch, "loss": 1.0, "layers": list(layers)}


def codes(history: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {f.code: f.layers for f in detect(history)}


def test_healthy_numbers_give_no_finding():
    healthy = record(layer("layers.0"), layer("layers.1"), layer("layers.2", activation=None))
    assert detect([healthy]) == []


def test_dead_relu_layer_is_named_with_fraction_and_threshold():
    dead = layer("layers.1", dead_fraction=0.9, grad_zero_fraction=0.95)
    [finding] = detect([record(layer("layers.0"), dead, layer("layers.2"))])
    assert finding.code == "dead-units" and finding.layers == ["layers.1"]
    assert finding.value == 0.9 and str(DEAD_FRACTION) in finding.threshold
    assert "layers.1" in finding.message and "90%" in finding.message


def test_dead_units_are_only_reported_for_zeroing_activations():
    dropout = layer("layers.1", activation=None, dead_fraction=1.0)
    assert "dead-units" not in codes([record(layer("layers.0"), dropout)])


def test_vanishing_gradients_name_every_early_layer_far_below_a_later_one():
    history = [
        record(
            layer("layers.0", grad_rms=1e-7),
            layer("layers.1", grad_rms=1e-5),
            layer("layers.2", grad_rms=1e-3),
            layer("layers.3", grad_rms=1e-2),
        )
    ]
    assert codes(history) == {"vanishing-gradients": ["layers.0", "layers.1"]}


def test_sparse_gradients_are_not_compared():
    embedding = layer("embed", grad_rms=1e-8, grad_zero_fraction=0.97)
    assert detect([record(embedding, layer("head"))]) == []


def test_exploding_gradients_grow_towards_the_input():
    history = [record(layer("layers.0", grad_rms=5.0), layer("layers.1", grad_rms=1e-2))]
    assert codes(history) == {"exploding-gradients": ["layers.0"]}


def test_exploding_gradients_grow_over_the_run():
    first = record(layer("layers.0"), layer("layers.1"), epoch=1)
    later = record(layer("layers.0", grad_rms=50.0), layer("layers.1", grad_rms=40.0), epoch=4)
    assert codes([first, later])["exploding-gradients"] == ["layers.0", "layers.1"]


def test_saturated_tanh_layer_is_named():
    tanh = layer("layers.0", activation="tanh", saturated_fraction=0.8)
    assert codes([record(tanh, layer("layers.1"))]) == {"saturation": ["layers.0"]}


def test_update_ratio_too_high_needs_two_records_in_a_row():
    fast = [layer("layers.0", update_ratio=0.5), layer("layers.1", update_ratio=0.3)]
    first = record(*fast, epoch=1)
    assert detect([first]) == []
    assert "update-ratio-high" in codes([first, record(*fast, epoch=2)])


def test_update_ratio_too_low_when_even_the_fastest_layer_crawls():
    slow = record(layer("layers.0", update_ratio=1e-8), layer("layers.1", update_ratio=1e-7))
    assert codes([slow]) == {"update-ratio-low": []}


def test_a_schedule_decaying_the_rate_at_the_end_is_not_a_low_update_ratio():
    normal = [record(layer("layers.0"), epoch=e) for e in range(1, 6)]
    decayed = record(layer("layers.0", update_ratio=1e-9), epoch=6)
    assert detect([*normal, decayed]) == []


def test_non_finite_values_name_the_first_layer_they_appear_in():
    history = [
        record(
            layer("layers.0"),
            layer("layers.1", nonfinite_fraction=0.25),
            layer("layers.2", nonfinite_fraction=1.0),
        )
    ]
    assert codes(history)["non-finite"] == ["layers.1"]


def test_tracker_reports_a_finding_once_with_the_epoch_it_began():
    tracker = FindingTracker()
    healthy = record(layer("layers.0"), layer("layers.1"), epoch=1)
    dead = [layer("layers.0", dead_fraction=1.0, grad_zero_fraction=1.0), layer("layers.1")]
    assert tracker.add(healthy) == []
    assert [f.code for f in tracker.add(record(*dead, epoch=2))] == ["dead-units"]
    assert tracker.add(record(*dead, epoch=3)) == []
    [summary] = tracker.summary()
    assert summary["code"] == "dead-units" and summary["layer"] == "layers.0"
    assert (summary["since_epoch"], summary["last_epoch"]) == (2, 3)


def test_a_non_finite_loss_with_finite_outputs_names_the_last_layer():
    history = [record(layer("layers.0"), layer("layers.1", activation=None))]
    history[0]["loss"] = None  # NaN, as strict JSON writes it
    assert codes(history) == {"non-finite": ["layers.1"]}


def test_non_finite_gradients_alone_are_named():
    history = [record(layer("layers.0", grad_norm=None), layer("layers.1"))]
    assert codes(history)["non-finite"] == ["layers.0"]
