"""Helpers for the data tests: small files written into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write(name, text) -> path of a new file under tmp_path holding `text`."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write


IRIS_LIKE = "a,b,label\n" + "".join(
    f"{i % 7}.{i % 5},{(i * 3) % 11}.5,{'cat' if i % 3 == 0 else 'dog' if i % 3 == 1 else 'eel'}\n"
    for i in range(60)
)
