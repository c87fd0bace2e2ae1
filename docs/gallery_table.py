"""The gallery table of docs/gallery.md, made from the example configs and the measurements
that `python bench/gallery.py --write` records in docs/gallery.json.

Each measurement carries a fingerprint of the settings it was made with (the config's YAML
content, comments and layout aside), so a config whose settings changed shows as stale
instead of keeping numbers it no longer produces.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "gallery.json"
MEASURE = "python bench/gallery.py --write --only {name}"


def fingerprint(config: Path) -> str:
    """A short hash of the config's settings (not of its comments or formatting)."""
    settings = yaml.safe_load(config.read_text())
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def configs() -> list[Path]:
    """The gallery's configs: every top-level file in configs/."""
    return sorted((ROOT / "configs").glob("*.yaml"))


def stale(results: dict[str, Any]) -> list[str]:
    """Configs with no measurement of their current settings."""
    return [
        c.stem
        for c in configs()
        if c.stem not in results or results[c.stem]["fingerprint"] != fingerprint(c)
    ]


def description(config: Path) -> str:
    """What the config shows: the first sentence of its opening comment, up to a colon
    that starts an explanation."""
    words = []
    for line in config.read_text().splitlines():
        if not line.startswith("#") or line.startswith("#  ") or not line.strip("# "):
            break
        words.append(line.strip("# "))
    text = " ".join(words)
    end = re.search(r"[.?](\s|$)", text)
    sentence = text[: end.end()].strip() if end else text
    colon = sentence.find(": ")
    return sentence[:colon] if colon > 30 else sentence


def layer_types(settings: dict[str, Any]) -> list[str]:
    """The distinct layer and node types of the model and its blocks, in order of use."""
    found: list[str] = []

    def walk(network: dict[str, Any]) -> None:
        entries = list(network.get("layers") or []) + list((network.get("nodes") or {}).values())
        for item in entries:
            kind = item if isinstance(item, str) else item.get("type")
            if kind and kind not in found:
                found.append(kind)
            if isinstance(item, dict):
                walk(item)

    for block in (settings.get("blocks") or {}).values():
        walk(block)
    walk(settings.get("model") or {})
    blocks = settings.get("blocks") or {}
    return [f"block `{t}`" if t in blocks else f"`{t}`" for t in found]


def dataset_cell(data: dict[str, Any]) -> str:
    """The dataset's name and the settings that shape its examples."""
    parts = [str(data.get("dataset") or Path(str(data.get("path", ""))).name)]
    for key in ("params", "reshape", "seq_len", "pairs"):
        if key in data:
            value = json.dumps(data[key], separators=(", ", ": ")).replace('"', "")
            parts.append(f"`{key}: {value}`")
    return " ".join(parts)


def training_cell(settings: dict[str, Any]) -> str:
    """Loss, optimizer and schedule as named in the config, and early stopping if on."""
    parts = []
    for key in ("loss", "optimizer", "schedule"):
        value = settings.get(key)
        name = value.get("type") if isinstance(value, dict) else value
        if name:
            parts.append(f"`{name}`")
    if (settings.get("train") or {}).get("early_stopping"):
        parts.append("early stopping")
    return ", ".join(parts)


def row(config: Path, results: dict[str, Any]) -> str:
    settings = yaml.safe_load(config.read_text())
    dataset = dataset_cell(settings.get("data") or {})
    train = settings.get("train") or {}
    planned = train.get("epochs", train.get("max_epochs"))
    result = results.get(config.stem)
    if result is None or result["fingerprint"] != fingerprint(config):
        todo = "not measured" if result is None else "stale"
        measured = [f"{todo}: `{MEASURE.format(name=config.stem)}`", "", ""]
    else:
        epochs = str(result["epochs"])
        if planned is not None and planned != result["epochs"]:
            epochs += f" (of {planned})"
        metrics = ", ".join(f"{k.removeprefix('test_')} {v:.3f}" for k, v in result["test"].items())
        measured = [epochs, metrics, f"{result['seconds']:.1f} s"]
    cells = [
        f"`{config.name}`",
        description(config),
        ", ".join(layer_types(settings)),
        training_cell(settings),
        dataset,
    ]
    return "| " + " | ".join(cells + measured) + " |"


def table() -> str:
    """The Markdown table, one row per config."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    header = [
        "| config | what it shows | layers | training | dataset | epochs | test metrics "
        "| wall time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + [row(c, results) for c in configs()]) + "\n"
