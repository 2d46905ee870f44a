"""What every ``ipd-coop`` command shares: argument types, output-path checks and one-line errors.

The argument types (:func:`positive_int`, :func:`seed_int`, :func:`non_negative_float`,
:func:`torch_device`) make argparse refuse a bad count, seed or device while parsing, in
the words ``expected ..., got ...``; :func:`check_output` refuses an output path that
cannot be written before any work starts; :class:`CommandParser` and :func:`one_line` keep
every error on one line, ``ipd-coop <command>: error: ...``, with exit status 2.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Optional

from ipd_env.game import MAX_RANDOMSTATE_SEED

DEVICE_TYPES = ("cpu", "cuda", "mps")
PLAYER_HELP = ("zoo name (allc, alld, tft, stft, gtft, wsls, random, grim, extort2, generous2), "
               "axelrod:<strategy> (e.g. 'axelrod:Tit For Tat'), or a run folder / checkpoint "
               "(RUN@1 for its learner 1)")


# ---------------------------------------------------------------------------- argument types
def _integer(text: str, low: int, high: Optional[int], expected: str, expected_in_range: str) -> int:
    """``text`` as an integer in ``[low, high]`` (``high`` None: no upper bound), else the
    argparse error "expected ..., got ..." (``expected`` for non-integer text,
    ``expected_in_range`` for an integer out of range)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {expected_in_range}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts: seeds, games, rounds, turns, repetitions, workers, threads)."""
    return _integer(text, 1, None, "a positive integer", "a positive integer (>= 1)")


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32 - 1] (``tournament`` passes it to Axelrod, whose
    numpy ``RandomState`` takes no larger; the other commands keep the same range)."""
    expected = f"an integer seed in [0, {MAX_RANDOMSTATE_SEED}]"
    return _integer(text, 0, MAX_RANDOMSTATE_SEED, expected, expected)


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (e.g. GPUs per unit, fractions allowed)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def torch_device(text: str) -> str:
    """argparse type: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and only one this machine has."""
    if text == "cpu":
        return text  # the default: no torch import at parse time
    device_type, _, index_text = text.partition(":")
    if (device_type not in DEVICE_TYPES or (index_text and not index_text.isdigit())
            or (index_text and device_type != "cuda")):
        raise argparse.ArgumentTypeError(f"expected one of cpu, cuda, cuda:N, mps, got {text!r}")
    import torch

    if device_type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise argparse.ArgumentTypeError(f"{text!r} asked for, but torch sees no CUDA GPU here; use --device cpu")
        if index_text and int(index_text) >= count:
            raise argparse.ArgumentTypeError(
                f"{text!r} asked for, but torch sees {count} CUDA GPU(s): cuda:0..cuda:{count - 1}")
    if device_type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(
            "'mps' asked for, but this machine has no usable Apple MPS device; use --device cpu")
    return text


# ---------------------------------------------------------------------------- output paths
def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``.`` for a relative path with none)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_output(path, argument: str, folder: bool) -> Path:
    """Refuse, before any work, an output path that cannot be written.

    Args:
        path: the folder (``folder=True``) or file to be written; missing parents are fine.
        argument: the flag it came from, named in the error (e.g. ``"--out"``).

    Raises:
        ValueError: the path is a file where a folder is needed or the reverse, lies under
            a file (or a device such as /dev/null), or its nearest existing folder is not
            writable. Paths the kernel refuses later (e.g. under /proc) still fail with an
            OSError, which :func:`main` reports in one line naming ``argument``.
    """
    if not str(path).strip():
        raise ValueError(f"{argument} is empty; give a {'folder' if folder else 'file'} path")
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise ValueError(f"{argument} {path}: exists and is not a folder; choose a folder path")
        if not folder and path.is_dir():
            raise ValueError(f"{argument} {path}: is a folder; give a file name")
    existing = _nearest_existing(path if folder else path.parent)
    if not existing.is_dir():
        raise ValueError(f"{argument} {path}: {existing} is not a folder, so nothing can be created under it")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{argument} {path}: the folder {existing} is not writable")
    return path


def argument_of(args, filename: Optional[str]) -> Optional[str]:
    """``"--out DIR"`` (or ``--plot``, ``--json``) when ``filename`` is that output path or under it, else None:
    the flag that an ``OSError`` on ``filename`` belongs to."""
    if filename is None:
        return None
    target = os.path.abspath(filename)
    for flag in ("out", "plot", "json"):
        value = getattr(args, flag, None)
        if value:
            root = os.path.abspath(value)
            if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
                return f"--{flag} {value}"
    return None


# ---------------------------------------------------------------------------- one-line errors
def one_line(message: str, max_parts: int = 4) -> str:
    """Collapse a multi-line error (e.g. a resume's config differences) into one line, at most ``max_parts`` parts."""
    parts = [part.strip() for part in str(message).splitlines() if part.strip()]
    if len(parts) > max_parts:
        parts = parts[:max_parts] + [f"... and {len(parts) - max_parts} more"]
    text = parts[0] if parts else ""
    for previous, part in zip(parts, parts[1:]):
        text += (" " if previous.endswith(":") else "; ") + part
    return text


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``<prog>: error: <message> (see <prog> --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- lists and --set
def split_names(text: str, argument: str) -> list:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; ``ValueError`` naming ``argument`` for an empty list or an
    empty name in it (``"tft,,alld"``), which would otherwise be dropped or taken as "all"."""
    names = [name.strip() for name in str(text).split(",")]
    if not any(names):
        raise ValueError(f"{argument} is empty; give one or more comma-separated names")
    if "" in names:
        raise ValueError(f"{argument} {text!r} has an empty name (position {names.index('') + 1}); "
                         f"separate names by single commas")
    return names


def parse_overrides(items) -> dict:
    """``["learning_rate=1e-3", "num_iterations=50"]`` -> ``{name: value}``, values parsed as JSON when they are.

    A name given twice is refused (the last one would win silently)."""
    overrides = {}
    for item in items or []:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        if key in overrides:
            raise ValueError(
                f"--set {key} is given twice ({key}={json.dumps(overrides[key])} and {item}); give it once")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides
