"""A run folder's files: config, metrics CSV, checksummed atomic checkpoints. Shared by every algorithm.

Layout of one unit of work (one algorithm x experiment condition x seed)::

    <out>/<condition>/seed_<k>/
        config.json            what was asked for (compared on --resume)
        metrics.csv            one row per training unit (iteration or phase)
        tb/                    TensorBoard events of the same metrics
        checkpoints/last.pt    latest complete checkpoint
        checkpoints/final.pt   the trained learners' state after the last unit
        eval.json              within-episode evaluation; its presence marks the unit done
        data/                  the data set of an algorithm that keeps one (PPI's episodes,
                               :mod:`agents.ppi.dataset`), opened here by the runner

Checkpoint files (file layout 3; what they hold is versioned apart, by :data:`CHECKPOINT_FORMAT`).
One file holds its own checksum, on its last line::

    <payload: the bytes torch.save wrote (a zip of tensors and plain Python)>
    b"ipd-env checkpoint 3 sha256 <64 hex digits> <payload length> <newline>"

so ``torch.load("final.pt")`` reads it as it is (its default ``weights_only=True``; zip
readers find the archive's directory from its end record and ignore what follows it). It
is written to ``<name>.tmp``, flushed to disk and renamed over ``<name>``, so the checksum
and the bytes it covers appear together or not at all: a kill at any moment leaves the
previous complete file. (A sidecar ``<name>.sha256`` cannot be renamed in the same step
as the file it covers, so a kill between the two renames would leave a good checkpoint
with a stale checksum, or the reverse; hence the line in the file.) Reading checks the
length and the sha256 before ``torch.load(..., weights_only=True)`` sees a byte: a flipped
bit anywhere in a tensor is refused with one line naming the file and saying it is
damaged, instead of resuming with different weights. ``weights_only`` loading never runs
code; a payload that would (a crafted pickle) is refused with one line naming the object,
e.g. ``GLOBAL posix.system``.

Layouts 2 and 1 are read too, so that every existing run folder resumes. Layout 2 carries
the same checksum line as its *first* line (``ipd-env checkpoint 2 sha256 ...``; plain
``torch.load`` cannot read it) and is checked as layout 3 is. Layout 1 is the bare
``torch.save`` zip, without a checksum (it starts with ``PK`` and ends with the zip's end
record): it loads with an :class:`UnverifiedCheckpointWarning`, since nothing vouches for
its bytes. A run's next checkpoint is written in layout 3 whatever it resumed from.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import pickle
import re
import warnings
from pathlib import Path
from typing import Optional

import torch

from agents.files import write_atomic, write_bytes_atomic
from agents.legacy_names import current_name, with_current_names

#: Sub-folder of a unit folder that holds the algorithm's data set, if it keeps one.
DATA_FOLDER = "data"
#: Version of what a checkpoint holds: the dict ``{"format", "config", "history", "trainer", ...}``
#: stores it under ``"format"``. Independent of the file's layout (:data:`CHECKPOINT_FILE_LAYOUT`).
CHECKPOINT_FORMAT = 1
#: Version of how a checkpoint file wraps ``torch.save``'s bytes with their checksum (module docstring).
CHECKPOINT_FILE_LAYOUT = 3
#: Last line of a checkpoint file (layout 3), up to the digest.
CHECKSUM_LINE = f"ipd-env checkpoint {CHECKPOINT_FILE_LAYOUT} sha256 ".encode()
#: First line of a layout-2 checkpoint file, up to the digest (read, no longer written).
CHECKSUM_HEADER = b"ipd-env checkpoint 2 sha256 "
_ZIP_SIGNATURE = b"PK\x03\x04"  # what torch.save writes first
_ZIP_END_SIGNATURE = b"PK\x05\x06"  # the zip's 22-byte end record: the last bytes torch.save writes
_TRAILER_LINE = re.compile(re.escape(CHECKSUM_LINE) + rb"([0-9a-f]{64}) ([0-9]+)\n\Z")
_HEADER_LINE = re.compile(re.escape(CHECKSUM_HEADER) + rb"([0-9a-f]{64}) ([0-9]+)\n")


class UnverifiedCheckpointWarning(UserWarning):
    """A checkpoint without a checksum (file layout 1) was loaded without an integrity check."""


def write_json(path: Path, data) -> None:
    def write(tmp):
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
    write_atomic(path, write)


def read_json(path: Path):
    """The JSON content of ``path``, its keys in today's names (:mod:`agents.legacy_names`: a file
    written before the co_player rename spells it the old way); ``ValueError`` naming the file if it
    is truncated or not JSON."""
    try:
        with open(path) as handle:
            return with_current_names(json.load(handle))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON (truncated or edited?): {error.msg} (line {error.lineno}, "
                         f"column {error.colno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not valid JSON: it is not UTF-8 text") from None


def checksummed(payload: bytes) -> bytes:
    """``payload`` (``torch.save``'s bytes) with the checksum line that makes it a checkpoint file (layout 3)."""
    digest = hashlib.sha256(payload).hexdigest()
    return payload + CHECKSUM_LINE + f"{digest} {len(payload)}\n".encode()


class HistoryBuffer:
    """The training history of a run (one row ``{"unit": int, metric: float, ...}`` per unit) kept both
    as rows and as a growing ``[units, columns]`` float64 tensor, so a checkpoint stores it as one
    tensor (:meth:`packed`) instead of pickling every row again at every checkpoint: at 50,000 rows
    a list of dicts took ~0.7 s to save and ~3.8 s to load, the tensor a few ms. float64 holds
    every metric (a Python float) and the unit index exactly. Rows whose keys differ from the
    first row's are kept as the plain list (:meth:`packed` returns it then)."""

    def __init__(self, rows: Optional[list] = None):
        self.rows: list = []
        self.columns: Optional[list] = None
        self._values = torch.empty(0, 0, dtype=torch.float64)
        self._uniform = True
        for row in rows or []:
            self.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if self.columns is None:
            self.columns = list(row)
            self._values = torch.empty(1024, len(self.columns), dtype=torch.float64)
        if not self._uniform or list(row) != self.columns:
            self._uniform = False
            return
        count = len(self.rows)
        if count > self._values.shape[0]:  # grow by doubling: appending stays O(1) amortised
            grown = torch.empty(2 * self._values.shape[0], len(self.columns), dtype=torch.float64)
            grown[:self._values.shape[0]] = self._values
            self._values = grown
        self._values[count - 1] = torch.tensor([float(row[key]) for key in self.columns], dtype=torch.float64)

    def packed(self):
        """What a checkpoint stores: ``{"columns": [...], "values": [units, columns] float64}``, or the rows."""
        if not self._uniform or self.columns is None:
            return list(self.rows)
        return {"columns": list(self.columns), "values": self._values[:len(self.rows)].clone()}


def history_rows(saved) -> list:
    """A checkpoint's ``history`` as rows ``[{"unit": int, metric: float}]``, whether it was stored
    packed (:meth:`HistoryBuffer.packed`) or as a list of rows (its form for rows of different columns,
    and the only form of checkpoints older than the packed one, which resume too)."""
    if isinstance(saved, dict) and set(saved) == {"columns", "values"}:
        columns, values = saved["columns"], saved["values"].tolist()
        return [{key: int(value) if key == "unit" else value for key, value in zip(columns, row)} for row in values]
    return list(saved)


def save_checkpoint(path: Path, state: dict) -> None:
    """Write ``state`` (tensors and plain Python) as a checksummed checkpoint, atomically and durably."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes_atomic(path, checksummed(buffer.getvalue()))


def _checked(path: Path, payload: bytes, digest: bytes, size: int, where: str) -> bytes:
    """``payload`` if its length is ``size`` and its sha256 ``digest``; else one line naming ``path``."""
    if len(payload) != size:
        raise ValueError(f"checkpoint {path} is damaged: {len(payload)} bytes {where} its checksum line, "
                         f"{size} were written (truncated or appended to)")
    if hashlib.sha256(payload).hexdigest() != digest.decode():
        raise ValueError(f"checkpoint {path} is damaged: its sha256 differs from the one recorded when it was "
                         f"written; restore it from a copy, or move the folder away and train again")
    return payload


def _verified_payload(path: Path) -> bytes:
    """The ``torch.save`` bytes of a checkpoint file, after its checksum (layouts 3 and 2) was checked."""
    data = path.read_bytes()
    if data.startswith(_ZIP_SIGNATURE):
        trailer_start = data.rfind(CHECKSUM_LINE, max(0, len(data) - len(CHECKSUM_LINE) - 64 - 24))
        trailer = _TRAILER_LINE.match(data, trailer_start) if trailer_start >= 0 else None
        if trailer is not None:
            return _checked(path, data[:trailer_start], trailer.group(1), int(trailer.group(2)), "before")
        if data[-22:-18] == _ZIP_END_SIGNATURE:
            warnings.warn(f"checkpoint {path} has no checksum (written before checksums were added), so damage to "
                          f"its bytes cannot be detected; it was loaded unverified", UnverifiedCheckpointWarning,
                          stacklevel=3)
            return data
        raise ValueError(f"checkpoint {path} is damaged: its last line is not the 'ipd-env checkpoint 3' checksum "
                         f"line (truncated or appended to)")
    header = _HEADER_LINE.match(data[:len(CHECKSUM_HEADER) + 64 + 24])
    if header is None:
        raise ValueError(f"checkpoint {path} is damaged or not a checkpoint: it is neither a torch.save zip with "
                         f"the 'ipd-env checkpoint 3' checksum line nor a file with the 'ipd-env checkpoint 2' "
                         f"header")
    return _checked(path, data[header.end():], header.group(1), int(header.group(2)), "after")


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint`, its checksum checked first.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: one line naming ``path``: damaged (checksum or length), refused
            (code-bearing objects), unreadable, or not one of our checkpoints.

    Warns:
        UnverifiedCheckpointWarning: a layout-1 file (no checksum) was loaded.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is missing")
    payload = _verified_payload(path)
    try:
        state = torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        what = f"GLOBAL {found.group(1)}" if found else "objects that weights_only loading does not accept"
        raise ValueError(f"refused: {path} contains code-bearing objects ({what}); checkpoints hold only "
                         f"tensors and plain Python, and loading never runs code") from None
    except Exception as error:  # torch raises several types for damaged files
        text = re.sub(r"^\[enforce fail at [^\]]*\][\s.]*", "", str(error).strip())  # torch's C++ location
        first_line = text.splitlines()[0].split(". ")[0] if text else type(error).__name__
        raise ValueError(f"checkpoint {path} is damaged and cannot be loaded: {first_line}") from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a run checkpoint of format {CHECKPOINT_FORMAT}")
    return state


def config_differences(saved: dict, requested: dict, prefix: str = "") -> list:
    """Keys whose values differ between two JSON-like dicts, as readable lines."""
    lines = []
    for key in sorted(set(saved) | set(requested), key=str):
        name = f"{prefix}{key}"
        old, new = saved.get(key, "<absent>"), requested.get(key, "<absent>")
        if isinstance(old, dict) and isinstance(new, dict):
            lines += config_differences(old, new, prefix=f"{name}.")
        elif old != new:
            lines.append(f"{name}: folder has {old!r}, requested {new!r}")
    return lines


class MetricsLog:
    """``metrics.csv`` with one row per unit; the column set is fixed by the first row.

    On resume the file is rewritten from the checkpoint's history (rows after the
    checkpoint would be recomputed identically).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.columns: Optional[list] = None

    def rewrite(self, history: list) -> None:
        self.columns = None
        def write(tmp):
            with open(tmp, "w", newline="") as handle:
                if history:
                    writer = csv.DictWriter(handle, fieldnames=list(history[0]), extrasaction="ignore")
                    writer.writeheader()
                    writer.writerows(history)
        write_atomic(self.path, write)
        if history:
            self.columns = list(history[0])

    def append(self, row: dict) -> None:
        new = self.columns is None
        if new:
            self.columns = list(row)
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
            handle.flush()


def read_metrics(path: Path) -> list:
    """Rows of a ``metrics.csv`` (or ``eval_metrics.csv``) as dicts of floats (empty cells dropped), keyed
    by today's column names (:func:`agents.legacy_names.current_name`: the header of a folder written
    before the co_player rename spells it the old way).

    Raises:
        ValueError: one line naming the file and the line: a cell that is not a number (a
            header line in the middle, an edit), a row with more cells than the header, or
            text that is not UTF-8.
    """
    rows = []
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if None in row:
                    raise ValueError(f"{path} is damaged: line {reader.line_num} has more cells than its header "
                                     f"({len(reader.fieldnames)}); restore it, or --resume rewrites it from the "
                                     f"last checkpoint")
                values = {}
                for key, value in row.items():
                    if value in ("", None):
                        continue
                    try:
                        values[current_name(key)] = float(value)
                    except ValueError:
                        what = "a header line in the middle" if value == key else "an edit or a second writer"
                        raise ValueError(f"{path} is damaged: line {reader.line_num}, column {key!r} holds "
                                         f"{value!r}, not a number ({what}?); restore it, or --resume rewrites it "
                                         f"from the last checkpoint") from None
                rows.append(values)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is damaged: it is not UTF-8 text; restore it, or --resume rewrites it from the "
                         f"last checkpoint") from None
    return rows


def repair_note(path: Path, rows: list) -> Optional[str]:
    """What rewriting ``path`` from a checkpoint's ``rows`` repairs, or None when the file already starts
    with exactly those rows (rows written after the checkpoint are expected after a kill: not a repair).

    Returns one line: the file is damaged (:func:`read_metrics`' message), missing, shorter
    than the checkpoint (truncated), or a row differs from the checkpoint's (edited).
    """
    path = Path(path)
    if not path.is_file():
        return f"{path} was missing" if rows else None
    try:
        written = read_metrics(path)
    except ValueError as error:
        return str(error).split("; restore it")[0]
    if len(written) < len(rows):
        return f"{path} held {len(written)} rows where the checkpoint has {len(rows)} (truncated)"
    for number, (found, expected) in enumerate(zip(written, rows), start=1):
        if found != {current_name(key): float(value) for key, value in expected.items()}:
            return f"{path} row {number} differs from the checkpoint's (edited)"
    return None
