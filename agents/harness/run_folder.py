"""A run folder's guards: one writer at a time, a record of what it holds, and where it came from.

Files at the top of an ``--out`` folder (a ``reproduce`` or a ``sweep`` folder)::

    <out>/
        .ipd-coop.lock      while a process writes the folder: {"pid", "host", "started", "command"}
        run_folder.json     what the folder holds: {"kind": "reproduce" | "sweep", "experiment", "algo"}
        provenance.json     who wrote it: package version, git commit (and dirty flag) of a
                            checkout, torch / numpy / gymnasium / pettingzoo / python versions,
                            device and the exact command; later sessions (resumes) under "resumes"

The lock is created with ``O_CREAT | O_EXCL`` (atomic on local filesystems and NFSv3+), so
of two processes started on one folder exactly one gets it; the other is refused naming
the holder's pid and host. A lock whose pid is no longer alive on this host (the holder
was killed with ``kill -9``), or whose pid now belongs to a process started after the
lock was written (the pid was reused), is stale and taken over: it is renamed away under
a unique name, checked to be the lock that was judged stale (another process may have
taken it over first: then it is put back with ``os.link``, which never overwrites), and a
fresh lock is created, again with ``O_EXCL``. A lock held on another host is never taken
over: its pid cannot be checked from here.

A process holding the lock may take it again (a CLI command that locks the folder and
then calls :func:`agents.harness.runner.run_experiment`, which locks it too); it is
released when the outermost holder leaves, on success or on any exception, and temporary
``*.tmp`` files left under the folder by an interrupted atomic write are removed then (and
``*.tmp.npz``, PPI's phase files as they were written before they went through
:func:`agents.files.write_atomic`).
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Optional, Union

LOCK_FILE = ".ipd-coop.lock"
RECORD_FILE = "run_folder.json"
PROVENANCE_FILE = "provenance.json"
#: Files of the folder itself, not of its runs: a folder holding only these is empty.
GUARD_FILES = (LOCK_FILE, RECORD_FILE, PROVENANCE_FILE)
KINDS = ("reproduce", "sweep")

_held: dict = {}  # resolved folder -> how many times this process holds its lock


class RunFolderLockedError(ValueError):
    """Another live process holds the run folder's lock."""


class ProvenanceWarning(UserWarning):
    """A run folder is resumed by another package version than the one that started it."""


# ---------------------------------------------------------------------------- the lock
_command_words: Optional[list] = None  # set by the CLI while a command runs (main(argv) may be called in-process)


@contextlib.contextmanager
def command_line(words) -> Iterator[None]:
    """Record ``words`` (e.g. ``["ipd-coop", "reproduce", ...]``) as the command of runs made in the block."""
    global _command_words
    previous, _command_words = _command_words, [str(word) for word in words]
    try:
        yield
    finally:
        _command_words = previous


def _command() -> str:
    """The exact command line of this process (the CLI's words when it runs), shell-quoted."""
    if _command_words is not None:
        return shlex.join(_command_words)
    return shlex.join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])


def _process_started(pid: int) -> Optional[float]:
    """Start time (seconds since the epoch) of process ``pid`` on Linux, else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _alive(pid: int, started: float) -> bool:
    """Whether ``pid`` on this host is still the process that wrote a lock at ``started``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    process_started = _process_started(pid)
    # /proc's start time has clock-tick resolution and btime whole seconds: allow 2 s.
    return process_started is None or process_started <= started + 2.0


def _read_lock(path: Path) -> Optional[dict]:
    """The lock's content, ``{}`` for an unreadable one, None when it is gone."""
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _create_lock(path: Path) -> bool:
    """Create ``path`` holding this process's lock record; False when it exists already."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "command": _command()}
    with os.fdopen(descriptor, "w") as handle:
        json.dump(record, handle)
        handle.write("\n")
    return True


def _holder_text(holder: dict) -> str:
    when = holder.get("started")
    since = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(when)) if isinstance(when, (int, float)) else ""
    command = f" ({holder['command']})" if holder.get("command") else ""
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}{since}{command}"


def _is_stale(holder: dict) -> bool:
    """A lock of this host whose process is gone (or whose pid was reused). Unreadable locks are
    not stale: a process may be between creating the file and writing it."""
    pid, started = holder.get("pid"), holder.get("started")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or not isinstance(started, (int, float)):
        return False
    return not _alive(pid, float(started))


def _take_over(path: Path, stale: dict) -> bool:
    """Move the stale lock ``stale`` at ``path`` away; False when ``path`` turned out to hold another lock."""
    aside = path.with_name(f"{path.name}.stale-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True  # someone removed it: try to create ours
    if _read_lock(aside) == stale:
        aside.unlink()
        return True
    # Another process took the stale lock over first and we moved its fresh lock: put it back
    # (os.link never overwrites), unless a third one has created a lock meanwhile.
    with contextlib.suppress(FileExistsError):
        os.link(aside, path)
    aside.unlink()
    return False


def check_unlocked(folder: Union[str, Path], itself: bool = True) -> None:
    """Raise :class:`RunFolderLockedError` when another live process holds ``folder`` (with ``itself``)
    or a folder around it (a point of a running sweep is part of the sweep). Reads only: a command
    calls it before its other checks of the folder, whose files a holder may be writing."""
    folder = Path(folder)
    key = folder.resolve()
    for candidate in (key, *key.parents) if itself else key.parents:
        if candidate in _held:
            continue
        holder = _read_lock(candidate / LOCK_FILE)
        if holder is None or _is_stale(holder):
            continue
        inside = "" if candidate == key else f", and {folder} lies inside it"
        raise RunFolderLockedError(f"{candidate if inside else folder} is in use by {_holder_text(holder)}{inside}; "
                                   f"wait for it to finish, or choose another --out")


def acquire_lock(folder: Union[str, Path]) -> Path:
    """Lock ``folder`` (created if missing) for this process; returns the lock file's path.

    Raises:
        RunFolderLockedError: another live process holds it (one line naming its pid, host,
            start time and command), or an enclosing folder is locked by one.
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        _held[key] += 1
        return folder / LOCK_FILE
    check_unlocked(folder, itself=False)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    for _ in range(5):
        if _create_lock(path):
            _held[key] = 1
            return path
        holder = _read_lock(path)
        if holder is None:
            continue  # released meanwhile
        if _is_stale(holder):
            _take_over(path, holder)
            continue
        if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
            raise RunFolderLockedError(f"{folder} is locked by this process ({_holder_text(holder)}) but not "
                                       f"through this module; remove {path} if no run of this process writes it")
        where = "" if holder else f" (its lock file {path} is unreadable; remove it if no process writes there)"
        raise RunFolderLockedError(f"{folder} is in use by {_holder_text(holder)}{where}; wait for it to "
                                   f"finish, or choose another --out")
    raise RunFolderLockedError(f"{folder}: could not take its lock {path} after several tries (other processes "
                               f"keep taking it); try again")


def release_lock(folder: Union[str, Path]) -> None:
    """Undo one :func:`acquire_lock`; the last one removes the lock file (if it is still ours)."""
    folder = Path(folder)
    key = folder.resolve()
    count = _held.get(key, 0)
    if count > 1:
        _held[key] = count - 1
        return
    _held.pop(key, None)
    path = folder / LOCK_FILE
    holder = _read_lock(path)
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_temporary_files(folder: Union[str, Path]) -> list:
    """Delete the ``*.tmp`` files of interrupted atomic writes under ``folder``; returns their paths.

    Only for a folder this process holds locked: no other writer can own a temporary file there.
    """
    removed = []
    # *.tmp.npz: PPI's phase files as written before they went through agents.files.write_atomic
    for path in [*Path(folder).rglob("*.tmp"), *Path(folder).rglob("*.tmp.npz")]:
        if path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def locked(folder: Union[str, Path]) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (see :func:`acquire_lock`); on leaving by an
    exception (Ctrl-C included) the outermost holder removes temporary files first."""
    path = acquire_lock(folder)
    outermost = _held.get(Path(folder).resolve()) == 1
    try:
        yield path
    except BaseException:
        if outermost:
            remove_temporary_files(folder)
        raise
    finally:
        release_lock(folder)


def is_empty(folder: Union[str, Path]) -> bool:
    """True when ``folder`` is missing or holds nothing but the guard files of this module."""
    folder = Path(folder)
    return not folder.is_dir() or all(entry.name in GUARD_FILES for entry in folder.iterdir())


# ---------------------------------------------------------------------------- what the folder holds
def _inferred_record(folder: Path) -> Optional[dict]:
    """What a folder written before ``run_folder.json`` existed holds, read from its own files."""
    request = folder / "sweep_request.json"
    if request.is_file():
        content = _read_json(request)
        return {"kind": "sweep", "experiment": content.get("experiment"), "algo": content.get("algo")}
    for config_path in sorted(folder.glob("*/seed_*/config.json")):
        content = _read_json(config_path)
        return {"kind": "reproduce", "experiment": content.get("experiment"), "algo": content.get("algo")}
    return None


def _read_json(path: Path) -> dict:
    from agents.harness.checkpoint import read_json

    content = read_json(path)
    if not isinstance(content, dict):
        raise ValueError(f"{path} is not a JSON object (edited?); move the folder away or restore the file")
    return content


def check_contents(folder: Union[str, Path], kind: str, experiment: str, algo: str,
                   extends: tuple = (), record: bool = True) -> None:
    """Refuse to write a ``kind`` run of ``experiment`` with ``algo`` into a folder holding something else;
    with ``record`` (under the folder's lock), record what it holds in ``run_folder.json``.

    Args:
        kind: ``"reproduce"`` or ``"sweep"``.
        extends: experiments this one contains (every condition of theirs is one of its own):
            a reproduce folder of one of them is continued as part of ``experiment``
            (``step2`` reuses a folder's ``step1`` runs) and is recorded as ``experiment`` from then on.

    Raises:
        ValueError: one line: the folder holds another kind, experiment or algorithm.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    folder = Path(folder)
    record_path = folder / RECORD_FILE
    held = _read_json(record_path) if record_path.is_file() else _inferred_record(folder) if folder.is_dir() else None
    wanted = {"kind": kind, "experiment": experiment, "algo": algo}
    if held is not None:
        def describe(record):
            return f"a {record.get('kind')} run of {record.get('experiment')} with {record.get('algo')}"

        same_kind_algo = held.get("kind") == kind and held.get("algo") == algo
        continued = kind == "reproduce" and held.get("experiment") in extends
        if not same_kind_algo or not (held.get("experiment") == experiment or continued):
            raise ValueError(f"{folder} holds {describe(held)}, not {describe(wanted)}; choose another --out "
                             f"(a folder holds one experiment)")
        if held == wanted and record_path.is_file():
            return
    if not record:
        return
    from agents.harness.checkpoint import write_json

    write_json(record_path, wanted)


# ---------------------------------------------------------------------------- provenance
def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("ipd-env")
    except PackageNotFoundError:
        import ipd_env

        return ipd_env.__version__


def _git(root: Path, *arguments: str) -> Optional[str]:
    try:
        result = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_state() -> Optional[dict]:
    """``{"commit", "dirty"}`` of the checkout this package runs from, or None when it is installed
    (no ``.git`` beside the packages) or git is missing. ``dirty``: tracked files differ from the commit."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _library_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version(name)
    except PackageNotFoundError:
        return None


def provenance(device: str = "cpu") -> dict:
    """Where a run comes from: package version and git state, library versions, device, command, host, time."""
    return {"package": "ipd-env", "version": _package_version(), "git": git_state(),
            "python": platform.python_version(),
            "libraries": {name: _library_version(name) for name in ("torch", "numpy", "gymnasium", "pettingzoo")},
            "device": str(device), "command": _command(), "host": socket.gethostname(),
            "platform": platform.platform(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def record_provenance(folder: Union[str, Path], device: str = "cpu") -> dict:
    """Write this session's provenance into ``<folder>/provenance.json`` and return the file's content.

    A new folder gets this session's record; a resumed one keeps its first record and appends
    this one under ``"resumes"``, warning (:class:`ProvenanceWarning`, one line) when the
    package version differs from the one that started the folder.
    """
    from agents.harness.checkpoint import write_json

    path = Path(folder) / PROVENANCE_FILE
    current = provenance(device)
    if path.is_file():
        content = _read_json(path)
        if content.get("version") != current["version"]:
            warnings.warn(f"{folder} was started by ipd-env {content.get('version')} and is resumed by "
                          f"{current['version']}; its results mix the two versions", ProvenanceWarning, stacklevel=2)
        content.setdefault("resumes", []).append(current)
    else:
        content = current
    write_json(path, content)
    return content


def attach_provenance(folder: Union[str, Path], document: Union[str, Path] = "summary.json") -> None:
    """Copy ``provenance.json`` of ``folder`` into ``<folder>/<document>`` (under ``"provenance"``), if both exist."""
    from agents.harness.checkpoint import write_json

    folder = Path(folder)
    source, target = folder / PROVENANCE_FILE, folder / document
    if source.is_file() and target.is_file():
        content = _read_json(target)
        content["provenance"] = _read_json(source)
        write_json(target, content)
