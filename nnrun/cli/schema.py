"""`nnrun schema`: the JSON Schema of config files."""

import json
from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import errors, report_errors
from nnrun.markup import safe


@report_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of config files (for editor completion and checking).

    Examples:
      nnrun schema --out nnrun.schema.json
    """
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
        errors.print(f"schema written to {safe(out)}", highlight=False)
