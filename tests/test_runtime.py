"""The allocator setting the command line applies."""

import sys

import pytest

from nnrun.runtime import keep_freed_memory


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_keep_freed_memory_applies_on_glibc_and_can_be_turned_off(monkeypatch):
    assert keep_freed_memory() is True
    monkeypatch.setenv("NNRUN_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False
