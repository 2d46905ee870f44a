"""Keep the memory of large tensors in the process between iterations (glibc's malloc).

An A2C iteration at the paper's batch allocates and frees a few GB of tensors of 100-300 MB
each (the GRU's activations and their gradients over 100 rounds x 2,048 games). glibc serves
every allocation above its mmap threshold (at most 32 MB by default) with a fresh ``mmap`` and
returns it to the kernel when freed, so every iteration touches its memory anew: measured
~180,000-240,000 page faults and ~0.4 s of kernel time per Step-1 iteration at batch 2,048,
about a sixth of the iteration. :func:`keep_freed_memory` raises glibc's mmap and trim
thresholds to 1 GiB with ``mallopt``, so freed blocks are reused by the next iteration instead.
The numbers a run computes do not change (only where its memory comes from); the process keeps
its memory until it exits rather than giving it back between iterations, and its peak grows by
about a third (Step 1 at batch 2,048: 2.1 GB against 1.6 GB) since the heap's free blocks are not
all reused.

The harness calls it in every process that trains (:func:`agents.harness.runner.train`, the
seed-batched trainer, a cost plan's timing); ``IPD_ENV_MALLOC_TUNING=0`` turns it off. Where the C
library is not glibc (macOS, Windows, musl) it does nothing. docs/speed.md has the measurement
(``python benchmarks/allocator.py``).
"""
from __future__ import annotations

import ctypes
import os
import platform

#: The environment variable that turns the tuning off ("0") or on ("1", the default).
ENVIRONMENT_VARIABLE = "IPD_ENV_MALLOC_TUNING"

#: Allocations below this are served from the heap and kept when freed (glibc's M_MMAP_THRESHOLD).
MMAP_THRESHOLD = 1 << 30

#: Free memory at the top of the heap is given back to the kernel only beyond this (M_TRIM_THRESHOLD).
TRIM_THRESHOLD = 1 << 30

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied = None


def tuning_enabled() -> bool:
    """Whether :data:`ENVIRONMENT_VARIABLE` allows the tuning (unset: yes).

    Raises:
        ValueError: the variable holds anything but "0" or "1".
    """
    value = os.environ.get(ENVIRONMENT_VARIABLE, "1").strip()
    if value not in ("0", "1"):
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be 0 (off) or 1 (on), got {value!r}")
    return value == "1"


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once; later calls return the first
    answer). True when they were set; False where turned off, or where the C library is not glibc
    or refuses the values (then allocation stays as it was: slower, never wrong)."""
    global _applied
    if _applied is not None:
        return _applied
    enabled = tuning_enabled()
    _applied = False
    if not enabled or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return _applied
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return _applied
    # mallopt returns 1 on success, 0 for a value it refuses; the trim threshold first, so that a
    # refused mmap threshold leaves nothing half-set that matters (the trim alone changes no allocation).
    _applied = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _applied
