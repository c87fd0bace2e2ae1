"""The allocator setting, nnrun's one memory-reuse mechanism."""

import subprocess
import sys

import pytest

from nnrun.runtime import keep_freed_memory


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_keep_freed_memory_applies_on_glibc_and_can_be_turned_off(monkeypatch):
    assert keep_freed_memory() is True
    monkeypatch.setenv("NNRUN_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_importing_nnrun_applies_the_setting_for_library_use():
    # A fresh interpreter, with libc replaced by a recorder before nnrun is first imported.
    code = (
        "from unittest import mock\n"
        "with mock.patch('ctypes.CDLL') as libc:\n"
        "    import nnrun\n"
        "print(sorted(c.args[0] for c in libc.return_value.mallopt.call_args_list))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "[-3, -1]", result.stderr
