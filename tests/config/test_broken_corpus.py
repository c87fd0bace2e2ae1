"""Every file in broken/ is a deliberate mistake; its first line says where it must be reported.

Format of that line: ``# expect: LINE:COLUMN text the message must contain``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnrun.config.resolve import resolve_config
from nnrun.config.validate import validate_top_level
from nnrun.errors import ConfigError

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
EXPECT = re.compile(r"# expect: (\d+):(\d+) (.+)")


def test_corpus_is_not_empty():
    assert len(BROKEN) >= 20


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_config_is_reported_at_its_line_and_column(path, sections):
    expectation = EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert expectation, f"{path.name} lacks an '# expect: LINE:COL text' first line"
    line, column, text = expectation.groups()
    with pytest.raises(ConfigError) as info:
        validate_top_level(resolve_config(path), sections)
    message = str(info.value)
    # An extends cycle is reported in whichever file closes the loop, so match any file.
    assert any(
        p.location and str(p).startswith(f"{p.location.file}:{line}:{column}: ") and text in str(p)
        for p in info.value.problems
    ), message
