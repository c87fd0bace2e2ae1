"""The `train.diagnose` option: `true` (once per epoch), `{every: N}` (every N steps) or
`false` (off, the default)."""

from __future__ import annotations

from typing import Any

from nnrun.config.spec import Option

DIAGNOSE_SPEC: dict[str, Option] = {
    "every": Option(
        int | None, None, "record every N optimizer steps (default: once per epoch)", min=1
    ),
}

# `None` is accepted (as off) so that leaving the key out keeps the default `false` instead
# of filling in the sub-section's defaults.
DIAGNOSE_OPTION = Option(
    bool | dict | None,
    False,
    "record gradient, update and activation statistics per layer on one fixed batch "
    "(true: once per epoch; {every: N}: every N steps) into diagnostics.jsonl",
    spec=DIAGNOSE_SPEC,
)


def diagnose_schedule(value: Any) -> tuple[bool, int | None]:
    """(on, every N steps or None for once per epoch) from the validated option value."""
    if isinstance(value, dict):
        return True, value.get("every")
    return bool(value), None
