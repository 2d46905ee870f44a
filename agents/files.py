"""Atomic file writes: a file is either its old content or its new content, never half of one.

Shared by the harness's run folders (:mod:`agents.harness.checkpoint`: checkpoints, JSON,
metrics, weights) and PPI's data set (:mod:`agents.ppi.dataset`: its manifest), so both
sides of the algorithm/harness boundary write files one way.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Union


def write_atomic(path: Union[str, Path], write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp_path)`` and an ``os.replace``: never a half-written file.

    The temporary file is ``<name>.tmp`` beside ``path`` (the folder is created if missing); it is
    removed when ``write`` fails or is interrupted (Ctrl-C, a full disk).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C or a full disk mid-write: leave no half-written temporary file
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Union[str, Path], data: bytes) -> None:
    """``data`` into ``path`` through :func:`write_atomic`, flushed to disk before the rename (so that
    a power cut after the rename cannot leave the new name with bytes the disk never got)."""
    def write(tmp):
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    write_atomic(path, write)
