"""Findings: what a diagnostics record means, in plain words, with a stable code and the
threshold that fired.

Codes: `dead-units`, `vanishing-gradients`, `exploding-gradients`, `saturation`,
`update-ratio-high`, `update-ratio-low`, `non-finite`. Each detector reads one record (the
update-ratio-low one the records so far); `FindingTracker` remembers since when a finding
holds. Thresholds are deliberately far from what healthy training shows (every config under
configs/ trains without a finding), so a finding means something is wrong.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from nnrun.diagnose.stats import ZERO_ACTIVATIONS

DEAD_FRACTION = 0.5  # share of a ReLU layer's units that are zero for the whole batch
SATURATED_FRACTION = 0.5  # share of a tanh/sigmoid layer's outputs in its flat region
VANISHING_RATIO = 1e-2  # a layer's gradient RMS / the largest of the layers after it
EXPLODING_RATIO = 1e2  # a layer's gradient RMS / the largest of the layers after it
EXPLODING_GROWTH = 1e3  # a layer's gradient RMS / its value in the first record
UPDATE_RATIO_HIGH = 1e-1  # median over layers of ‖Δw‖/‖w‖ in one step, twice in a row
UPDATE_RATIO_LOW = 1e-5  # largest over layers, median over the records so far
SPARSE_GRADIENT = 0.5  # gradients mostly exactly zero (embeddings, dead units): not compared

CODES = (
    "non-finite",
    "dead-units",
    "vanishing-gradients",
    "exploding-gradients",
    "saturation",
    "update-ratio-high",
    "update-ratio-low",
)


@dataclass
class Finding:
    """One diagnosis: `code` for scripts, `message` for people, `threshold` that fired."""

    code: str
    layers: list[str]
    message: str
    threshold: str
    value: float | None
    epoch: int | None = None
    step: int | None = None
    since_epoch: int | None = None
    last_epoch: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> str | None:
        return self.layers[0] if self.layers else None

    @property
    def key(self) -> tuple[str, str]:
        # One finding per code and layer for per-layer problems, per code otherwise.
        per_layer = self.code in ("dead-units", "saturation")
        return self.code, self.layers[0] if per_layer and self.layers else ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["layer"] = self.layer
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{k: v for k, v in data.items() if k != "layer"})


def _label(entry: dict[str, Any]) -> str:
    return f"{entry['name']} ({entry['type']})"


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _non_finite(record: dict[str, Any]) -> list[Finding]:
    """Where NaN/Inf first appear: a layer's output (in forward order), else the loss, else
    the gradients (which run backwards from the loss)."""
    layers = record["layers"]
    for entry in layers:
        fraction = entry.get("nonfinite_fraction") or 0
        if fraction > 0:
            return [
                Finding(
                    "non-finite",
                    [entry["name"]],
                    f"non-finite values (NaN/Inf) first appear in the output of {_label(entry)}"
                    f" ({fraction:.0%} of it); the layers before it are finite. Lower the "
                    "learning rate or clip gradients (train.clip_grad_norm).",
                    "any non-finite output (> 0)",
                    fraction,
                )
            ]
    if layers and not _finite(record.get("loss")):
        last = layers[-1]
        return [
            Finding(
                "non-finite",
                [last["name"]],
                f"the loss is non-finite although every layer's output is finite: the outputs "
                f"of {_label(last)} are too large for the loss. Lower the learning rate or clip "
                "gradients (train.clip_grad_norm).",
                "a non-finite loss",
                None,
            )
        ]
    bad = [e for e in layers if "grad_norm" in e and not _finite(e["grad_norm"])]
    if bad:
        return [
            Finding(
                "non-finite",
                [e["name"] for e in bad],
                "non-finite gradients (NaN/Inf) in "
                + ", ".join(_label(e) for e in bad)
                + " while the forward pass is finite. Lower the learning rate or clip "
                "gradients (train.clip_grad_norm).",
                "any non-finite gradient",
                None,
            )
        ]
    return []


def _dead_units(layers: list[dict[str, Any]]) -> list[Finding]:
    found = []
    for index, entry in enumerate(layers):
        fraction = entry.get("dead_fraction")
        if entry.get("activation") not in ZERO_ACTIVATIONS or fraction is None:
            continue
        if fraction >= DEAD_FRACTION:
            # A standalone relu layer names the layer whose outputs it zeroes, too.
            names, source = [entry["name"]], ""
            if "param_norm" not in entry and index > 0:  # a parameterless relu layer
                names.append(layers[index - 1]["name"])
                source = f" (fed by {_label(layers[index - 1])})"
            found.append(
                Finding(
                    "dead-units",
                    names,
                    f"{fraction:.0%} of the units of {_label(entry)}{source} are dead: zero "
                    "for the whole batch, so they pass no gradient and stop learning. "
                    "Check the bias init (a large negative bias kills ReLUs), lower the "
                    "learning rate, or use leaky_relu.",
                    f"dead_fraction >= {DEAD_FRACTION}",
                    fraction,
                )
            )
    return found


def _gradient_layers(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parameterised layers whose gradient RMS can be compared: finite, not mostly zero."""
    return [
        e
        for e in layers
        if _finite(e.get("grad_rms"))
        and e["grad_rms"] > 0
        and (e.get("grad_zero_fraction") or 0) < SPARSE_GRADIENT
    ]


def _gradient_flow(layers: list[dict[str, Any]]) -> list[Finding]:
    """Compare each layer's gradient RMS with the largest RMS among the layers after it."""
    comparable = _gradient_layers(layers)
    vanishing, exploding = [], []
    for index, entry in enumerate(comparable[:-1]):
        later = max(comparable[index + 1 :], key=lambda e: e["grad_rms"])
        ratio = entry["grad_rms"] / later["grad_rms"]
        if ratio < VANISHING_RATIO:
            vanishing.append((entry, later, ratio))
        elif ratio > EXPLODING_RATIO:
            exploding.append((entry, later, ratio))
    found = []
    if vanishing:
        worst = min(vanishing, key=lambda item: item[2])
        labels = ", ".join(_label(e) for e, _, _ in vanishing)
        found.append(
            Finding(
                "vanishing-gradients",
                [e["name"] for e, _, _ in vanishing],
                f"gradients vanish in the early layers {labels}: the gradient of "
                f"{_label(worst[0])} is {_fmt(worst[2])}× that of {_label(worst[1])}, so "
                "these layers barely learn. Use relu-family activations, a normalization "
                "layer, residual connections, or an init matched to the activation.",
                f"gradient RMS / largest later layer's < {VANISHING_RATIO:g}",
                worst[2],
            )
        )
    if exploding:
        worst = max(exploding, key=lambda item: item[2])
        names = [e["name"] for e, _, _ in exploding]
        found.append(
            Finding(
                "exploding-gradients",
                names,
                f"gradients explode towards the input: {', '.join(names)} get "
                f"{_fmt(worst[2])}× the gradient of {_label(worst[1])}. Clip gradients "
                "(train.clip_grad_norm), lower the learning rate, or use a smaller init.",
                f"gradient RMS / largest later layer's > {EXPLODING_RATIO:g}",
                worst[2],
            )
        )
    return found


def _gradient_growth(history: list[dict[str, Any]]) -> list[Finding]:
    """A layer whose gradient grew by orders of magnitude since the first record."""
    first = {e["name"]: e for e in _gradient_layers(history[0]["layers"])}
    grown = []
    for entry in _gradient_layers(history[-1]["layers"]):
        start = first.get(entry["name"])
        if start is not None and entry["grad_rms"] / start["grad_rms"] > EXPLODING_GROWTH:
            grown.append((entry, entry["grad_rms"] / start["grad_rms"]))
    if len(history) < 2 or not grown:
        return []
    worst = max(grown, key=lambda item: item[1])
    names = [e["name"] for e, _ in grown]
    return [
        Finding(
            "exploding-gradients",
            names,
            f"gradients explode: the gradient of {_label(worst[0])} grew {_fmt(worst[1])}× "
            f"since epoch {history[0].get('epoch')}. Clip gradients (train.clip_grad_norm) or "
            "lower the learning rate.",
            f"gradient RMS / its first recorded value > {EXPLODING_GROWTH:g}",
            worst[1],
        )
    ]


def _saturation(layers: list[dict[str, Any]]) -> list[Finding]:
    found = []
    for entry in layers:
        fraction = entry.get("saturated_fraction")
        if fraction is not None and fraction >= SATURATED_FRACTION:
            found.append(
                Finding(
                    "saturation",
                    [entry["name"]],
                    f"{fraction:.0%} of the outputs of {_label(entry)} are saturated (in the "
                    f"flat part of {entry['activation']}, where the gradient is ~0). Scale "
                    "the inputs (data.normalize), use a smaller init, or add a normalization "
                    "layer before it.",
                    f"saturated_fraction >= {SATURATED_FRACTION}",
                    fraction,
                )
            )
    return found


def _update_ratios(layers: list[dict[str, Any]]) -> list[float]:
    """‖Δw‖/‖w‖ of the layers whose gradient is not mostly zero (a dead or sparse layer does
    not move for reasons other than the learning rate)."""
    return [
        e["update_ratio"]
        for e in layers
        if _finite(e.get("update_ratio")) and (e.get("grad_zero_fraction") or 0) < SPARSE_GRADIENT
    ]


def _update_ratio(history: list[dict[str, Any]]) -> list[Finding]:
    medians = [
        statistics.median(r) for r in (_update_ratios(h["layers"]) for h in history[-2:]) if r
    ]
    if not medians:
        return []
    # Two records in a row: small fresh weights move fast for a moment in healthy runs too.
    if len(medians) == 2 and min(medians) > UPDATE_RATIO_HIGH:
        return [
            Finding(
                "update-ratio-high",
                [],
                f"one optimizer step changes the weights by {_fmt(medians[-1])} of their norm "
                "(median over layers, two records in a row; about 1e-3 is usual): the "
                "learning rate is likely too high.",
                f"median ‖Δw‖/‖w‖ > {UPDATE_RATIO_HIGH:g} in two records in a row",
                medians[-1],
            )
        ]
    # Too low when even the fastest-moving layer crawls (vanishing gradients slow the early
    # layers for another reason), typically over the records so far (so a schedule that
    # decays the rate at the end is not a finding).
    fastest = [max(r) for r in (_update_ratios(h["layers"]) for h in history) if r]
    typical = statistics.median(fastest)
    if typical < UPDATE_RATIO_LOW:
        return [
            Finding(
                "update-ratio-low",
                [],
                f"optimizer steps change the weights by only {_fmt(typical)} of their norm "
                "(largest over layers, median over the steps so far; about 1e-3 is usual): "
                "the learning rate is likely too low.",
                f"largest ‖Δw‖/‖w‖ < {UPDATE_RATIO_LOW:g}",
                typical,
            )
        ]
    return []


def detect(history: list[dict[str, Any]]) -> list[Finding]:
    """The findings of the latest record in `history` (records in order, latest last)."""
    record = history[-1]
    layers = record["layers"]
    found = _non_finite(record)
    found += _dead_units(layers)
    found += _gradient_flow(layers)
    if not any(f.code == "exploding-gradients" for f in found):
        found += _gradient_growth(history)
    found += _saturation(layers)
    found += _update_ratio(history)
    paths = {e["name"]: e.get("path") for e in layers}
    for finding in found:
        finding.epoch, finding.step = record.get("epoch"), record.get("step")
        # Where each named layer is in the config (model.layers[1], model.nodes.h1).
        finding.details["paths"] = [paths.get(name) for name in finding.layers]
    return found


class FindingTracker:
    """Findings over a run: each one once, with the epoch it first and last held."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.findings: dict[tuple[str, str], Finding] = {}

    def add(self, record: dict[str, Any]) -> list[Finding]:
        """Take the next record; returns the findings that are new with it."""
        self.history.append(record)
        new = []
        for finding in detect(self.history):
            known = self.findings.get(finding.key)
            if known is None:
                finding.since_epoch = finding.last_epoch = finding.epoch
                self.findings[finding.key] = finding
                new.append(finding)
            else:
                since = known.since_epoch
                finding.since_epoch, finding.last_epoch = since, finding.epoch
                self.findings[finding.key] = finding
        return new

    def summary(self) -> list[dict[str, Any]]:
        order = {code: i for i, code in enumerate(CODES)}
        ranked = sorted(self.findings.values(), key=lambda f: (order[f.code], f.since_epoch or 0))
        return [f.to_json() for f in ranked]
