"""Sizes that cannot fit: refuse them before allocating, with the estimate and the memory available.

A batch of ``10**12`` games, or a training run of ``10**8`` games per learner, would end
in a ``MemoryError`` or an allocator traceback after a long wait; where the bytes needed are
knowable up front, :func:`check_fits` refuses them in one line instead::

    ValueError: num_games=1000000000000 needs at least 40.0 TB, but 15.2 GB of memory is available on cpu; ...

The memory available is, on CPU, Linux's ``MemAvailable`` (``/proc/meminfo``), lowered to
the room left under a cgroup limit (containers), or ``os.sysconf``'s available pages
elsewhere; on CUDA, the device's free memory. Where none of these can be read nothing is
refused. Estimates are lower bounds, so nothing that fits is refused.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import torch


def format_bytes(count: float) -> str:
    """``1.5e9`` -> ``"1.5 GB"`` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(count) < 1000 or unit == "PB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _meminfo_available() -> Optional[int]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> Optional[int]:
    """Bytes left under this process's cgroup (v2) memory limit, None without a limit."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text().strip()))
    except (OSError, ValueError):
        return None


def available_memory(device: Union[str, torch.device] = "cpu") -> Optional[int]:
    """Bytes of memory that an allocation on ``device`` can take now, or None when unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except (RuntimeError, AssertionError, ValueError):
            return None
        return int(free)
    if device.type != "cpu":
        return None
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    room = _cgroup_room()
    return available if room is None else min(available, room)


def check_fits(num_bytes: int, what: str, device: Union[str, torch.device] = "cpu", hint: str = "") -> None:
    """Raise ``ValueError`` (one line: ``what``, the estimate, the memory available, ``hint``) when
    ``num_bytes`` exceed the memory available on ``device``; do nothing when it cannot be read."""
    available = available_memory(device)
    if available is not None and num_bytes > available:
        raise ValueError(f"{what} needs at least {format_bytes(num_bytes)}, but {format_bytes(available)} of "
                         f"memory is available on {device}" + (f"; {hint}" if hint else ""))
