"""The one process-wide memory setting: keep freed memory for reuse (applied on import).

Training allocates and frees the same multi-megabyte arrays every step. glibc hands blocks
above its mmap threshold back to the OS on free, so every step page-faults them in again
(40% of a small CNN's or LSTM's step). Raising the mmap and trim thresholds keeps freed
memory for reuse, much as PyTorch's caching allocator does, for every op at once; `import
nnrun` applies it, so library use gets it as well as the command line. Set
NNRUN_KEEP_FREED_MEMORY=0 to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold: int = 256 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Ask glibc to keep freed blocks up to these sizes for reuse; True if it applied."""
    if sys.platform != "linux" or os.environ.get("NNRUN_KEEP_FREED_MEMORY") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl): keep the defaults
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
    )
