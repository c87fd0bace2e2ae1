"""`nnrun schema`: the JSON Schema of config files (or of sweep files)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from nnrun.cli.common import errors, report_errors
from nnrun.markup import safe


@report_errors
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="The schema of sweep files.")] = False,
) -> None:
    """Print the JSON Schema of config files (for editor completion and checking).

    Examples:
      nnrun schema --out nnrun.schema.json
      nnrun schema --sweep --out nnrun.sweep.schema.json
    """
    from nnrun.config.jsonschema import config_json_schema, sweep_json_schema
    from nnrun.registry import REGISTRIES
    from nnrun.spec import SECTIONS
    from nnrun.sweep.spec import SWEEP_SPEC

    document = sweep_json_schema(SWEEP_SPEC) if sweep else config_json_schema(SECTIONS, REGISTRIES)
    text = json.dumps(document, indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n")
        errors.print(f"schema written to {safe(out)}", highlight=False)
