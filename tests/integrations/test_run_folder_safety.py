"""Issue 19.1 "nothing lost, nothing mixed": a run folder has one writer, holds one experiment,
survives Ctrl-C, says when it repairs a file, names a damaged one, and records its provenance.

Before: two processes on one ``--out`` interleaved ``metrics.csv`` for good (every later
``--resume`` failed with ``could not convert string to float: 'unit'``, no file named);
``reproduce fig1 --resume`` trained into a step1 folder and overwrote its summary; Ctrl-C
ended in a 23-line traceback leaving ``last.pt.tmp``; a truncated ``metrics.csv`` was
rewritten silently; no folder recorded the package version or the command.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.harness import run_folder
from agents.harness.checkpoint import read_metrics, write_atomic
from agents.harness.cli import main
from agents.harness.run_folder import LOCK_FILE, PROVENANCE_FILE, RECORD_FILE, RunFolderLockedError
from agents.harness.runner import run_unit

STEP1 = ["reproduce", "step1", "--preset", "test", "--seeds", "1", "--quiet"]
ENVIRONMENT = dict(os.environ, OMP_NUM_THREADS="1")


def ipd_coop(*argv, **options):
    return subprocess.run([sys.executable, "-m", "agents.harness.cli", *argv], capture_output=True, text=True,
                          env=ENVIRONMENT, timeout=300, **options)


def snapshot(root: Path) -> dict:
    return {str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in sorted(root.rglob("*"))}


def refused(capsys, *argv) -> str:
    """Run ``ipd-coop argv`` in this process; assert exit 2 and one stderr line; return that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    lines = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2, lines
    assert len(lines) == 1, lines
    return lines[0]


def write_lock(folder: Path, pid: int, started: float, host: str = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": started,
                                "command": "ipd-coop reproduce step1"}))
    return path


@pytest.fixture(scope="module")
def step1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("safety") / "step1"
    assert main([*STEP1, "--out", str(out)]) == 0
    return out


@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


# ---------------------------------------------------------------------------- the lock
def test_a_live_holder_is_named_and_nothing_changes(tmp_path, capsys, live_process):
    out = tmp_path / "run"
    write_lock(out, live_process.pid, time.time())
    before = snapshot(tmp_path)
    line = refused(capsys, *STEP1, "--out", str(out))
    assert f"is in use by pid {live_process.pid} on host {socket.gethostname()}" in line
    assert "(ipd-coop reproduce step1)" in line
    assert snapshot(tmp_path) == before


def test_a_lock_on_another_host_is_never_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    write_lock(out, 999999999, time.time(), host="another-host")
    assert "is in use by pid 999999999 on host another-host" in refused(capsys, *STEP1, "--out", str(out))


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)  # that process is gone: its lock is stale (a kill -9)
    out = tmp_path / "run"
    write_lock(out, dead_pid, time.time() - 60)
    assert main([*STEP1, "--out", str(out)]) == 0
    assert not (out / LOCK_FILE).exists()
    assert (out / "step1" / "seed_0" / "eval.json").is_file()


def test_a_reused_pid_does_not_keep_a_lock(tmp_path, live_process):
    # The pid is alive, but its process started an hour after the lock was written: another process.
    out = tmp_path / "run"
    write_lock(out, live_process.pid, time.time() - 3600)
    with run_folder.locked(out):
        holder = json.loads((out / LOCK_FILE).read_text())
        assert holder["pid"] == os.getpid()
    assert not (out / LOCK_FILE).exists()


def test_the_lock_is_released_and_temporary_files_removed_on_an_exception(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        with run_folder.locked(out):
            (out / "step1").mkdir()
            (out / "step1" / "last.pt.tmp").write_bytes(b"half a checkpoint")
            raise KeyboardInterrupt
    assert sorted(path.name for path in out.rglob("*")) == ["step1"]


def test_a_process_may_take_its_own_lock_again(tmp_path):
    out = tmp_path / "run"
    with run_folder.locked(out):
        with run_folder.locked(out):
            pass
        assert (out / LOCK_FILE).exists()  # the outer holder still holds it
    assert not (out / LOCK_FILE).exists()


def test_a_folder_inside_a_locked_one_is_refused(tmp_path, live_process):
    write_lock(tmp_path / "sweep", live_process.pid, time.time())
    with pytest.raises(RunFolderLockedError, match=f"sweep is in use by pid {live_process.pid}.*lies inside it"):
        run_folder.acquire_lock(tmp_path / "sweep" / "point")


def test_two_processes_on_one_folder_one_is_refused_and_the_folder_stays_good(tmp_path):
    """The issue's reproduction: the same command twice at once. One trains, the other is refused
    in one line naming the holder, and a later --resume reads a clean folder."""
    out = tmp_path / "run"
    argv = [*STEP1, "--set", "num_iterations=200", "--out", str(out)]
    processes = [subprocess.Popen([sys.executable, "-m", "agents.harness.cli", *argv], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=ENVIRONMENT) for _ in range(2)]
    results = sorted((process.wait(timeout=300), process.stderr.read()) for process in processes)
    (ok, _), (failed, error) = results
    assert (ok, failed) == (0, 2), results
    assert len(error.splitlines()) == 1 and "is in use by pid" in error, error
    rows = read_metrics(out / "step1" / "seed_0" / "metrics.csv")
    assert [row["unit"] for row in rows] == list(range(200))
    assert ipd_coop(*argv, "--resume").returncode == 0


# ---------------------------------------------------------------------------- what the folder holds
def test_the_folder_records_what_it_holds(step1_run):
    assert json.loads((step1_run / RECORD_FILE).read_text()) == {"kind": "reproduce", "experiment": "step1",
                                                                 "algo": "a2c"}


def test_resume_into_a_folder_of_another_experiment_is_refused(step1_run, capsys):
    before = snapshot(step1_run)
    line = refused(capsys, "reproduce", "fig1", "--preset", "test", "--seeds", "1", "--quiet", "--resume",
                   "--out", str(step1_run))
    assert line.endswith("holds a reproduce run of step1 with a2c, not a reproduce run of fig1 with a2c; "
                         "choose another --out (a folder holds one experiment)")
    line = refused(capsys, "sweep", "step1", "--preset", "test", "--seeds", "1", "--quiet", "--grid",
                   "entropy_coef=0.1", "--resume", "--out", str(step1_run))
    assert "holds a reproduce run of step1 with a2c, not a sweep run of step1 with a2c" in line
    assert snapshot(step1_run) == before


def test_an_experiment_containing_the_folders_continues_it(tmp_path):
    # step2 = step1 + its own condition: a step1 folder is continued as step2's first part.
    run_folder.check_contents(tmp_path, "reproduce", "step1", "a2c")
    with pytest.raises(ValueError,
                       match="holds a reproduce run of step1 with a2c, not a reproduce run of step1 with ppi"):
        run_folder.check_contents(tmp_path, "reproduce", "step1", "ppi")
    run_folder.check_contents(tmp_path, "reproduce", "step2", "a2c", extends=("step1",))
    assert json.loads((tmp_path / RECORD_FILE).read_text())["experiment"] == "step2"
    with pytest.raises(ValueError, match="holds a reproduce run of step2"):
        run_folder.check_contents(tmp_path, "reproduce", "step1", "a2c")


def test_a_folder_from_before_the_record_is_read_from_its_own_files(step1_run, tmp_path, capsys):
    old = tmp_path / "old"
    (old / "step1" / "seed_0").mkdir(parents=True)
    (old / "step1" / "seed_0" / "config.json").write_text(json.dumps({"algo": "a2c", "experiment": "step1"}))
    assert "holds a reproduce run of step1 with a2c, not a reproduce run of fig1" in refused(
        capsys, "reproduce", "fig1", "--preset", "test", "--seeds", "1", "--quiet", "--resume", "--out", str(old))


# ---------------------------------------------------------------------------- damaged and repaired files
def test_a_damaged_metrics_csv_is_named(tmp_path, step1_run, capsys):
    path = tmp_path / "metrics.csv"
    path.write_text("unit,reward\n0,0.5\nunit,reward\n1,0.25\n")  # what two writers left
    with pytest.raises(ValueError, match=rf"{path} is damaged: line 3, column 'unit' holds 'unit', not a number "
                                         r"\(a header line in the middle\?\)"):
        read_metrics(path)
    damaged = tmp_path / "damaged"
    import shutil

    shutil.copytree(step1_run, damaged)
    metrics = damaged / "step1" / "seed_0" / "metrics.csv"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text("".join(lines[:2] + lines[:1] + lines[2:]))
    line = refused(capsys, *STEP1, "--resume", "--out", str(damaged))
    assert f"{metrics} is damaged: line 3" in line


def test_resume_says_when_it_rewrites_a_truncated_metrics_csv(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_unit("a2c", "step1", "step1", 0, "test", out, progress=False,
                    overrides={"num_iterations": 6}, stop_after=4) is None
    metrics = out / "step1" / "seed_0" / "metrics.csv"
    metrics.write_text("".join(metrics.read_text().splitlines(keepends=True)[:3]))  # header and 2 of 4 rows
    assert main([*STEP1, "--set", "num_iterations=6", "--resume", "--out", str(out)]) == 0
    warnings_said = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings_said == [f"ipd-coop reproduce: warning: {metrics} held 2 rows where the checkpoint has 4 "
                             f"(truncated); rewritten from the checkpoint (4 rows)"]
    assert [row["unit"] for row in read_metrics(metrics)] == list(range(6))


def test_rows_after_the_checkpoint_are_dropped_without_a_word(tmp_path, capsys):
    out = tmp_path / "run"
    run_unit("a2c", "step1", "step1", 0, "test", out, progress=False, overrides={"num_iterations": 6,
                                                                                  "checkpoint_every": 3},
             stop_after=5)  # checkpoint after 3 units, 5 rows written: what a kill leaves
    assert main([*STEP1, "--set", "num_iterations=6", "--set", "checkpoint_every=3", "--resume",
                 "--out", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err


# ---------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_is_one_line_exit_130_and_resume_is_exact(tmp_path):
    out, reference = tmp_path / "run", tmp_path / "reference"
    argv = [*STEP1, "--set", "num_iterations=400", "--set", "checkpoint_every=5"]
    # Ctrl-C as at a terminal: the child starts with SIGINT's default action even when this test runs under
    # something that ignores SIGINT (a background job or nohup passes SIG_IGN on, and Python keeps it).
    # PYTHONFAULTHANDLER: a child that does not exit is aborted below and shows where every thread stood.
    process = subprocess.Popen([sys.executable, "-m", "agents.harness.cli", *argv, "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(ENVIRONMENT, PYTHONFAULTHANDLER="1"),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    metrics = out / "step1" / "seed_0" / "metrics.csv"
    deadline = time.monotonic() + 200
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) > 12) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    try:
        _, error = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _, error = process.communicate()
        pytest.fail(f"no exit within 120 s of Ctrl-C; the child's threads when aborted:\n{error[-6000:]}")
    assert process.returncode == 130, error
    # Without the [plot] extra (CI's core-only step) the run first says once that TensorBoard is missing.
    lines = [line for line in error.splitlines() if "tensorboard is not installed" not in line]
    assert lines == [f"ipd-coop reproduce: interrupted; {out} keeps its last checkpoints: run the same "
                     f"command with --resume to continue"]
    assert not list(out.rglob("*.tmp")) and not (out / LOCK_FILE).exists()
    assert ipd_coop(*argv, "--out", str(out), "--resume").returncode == 0
    assert ipd_coop(*argv, "--out", str(reference)).returncode == 0

    def rows(folder):
        return [{key: value for key, value in row.items() if key != "wall_time_s"}
                for row in read_metrics(folder / "step1" / "seed_0" / "metrics.csv")]

    assert rows(out) == rows(reference)


def test_an_interrupted_atomic_write_leaves_no_temporary_file(tmp_path):
    def write(tmp):
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "last.pt", write)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- provenance
def test_provenance_in_the_folder_and_the_summary(step1_run):
    provenance = json.loads((step1_run / PROVENANCE_FILE).read_text())
    from importlib.metadata import version

    import ipd_env

    assert provenance["version"] == ipd_env.__version__
    assert provenance["libraries"] == {name: version(name) for name in ("torch", "numpy", "gymnasium", "pettingzoo")}
    assert provenance["device"] == "cpu"
    assert provenance["command"] == f"ipd-coop reproduce step1 --preset test --seeds 1 --quiet --out {step1_run}"
    if (Path(run_folder.__file__).resolve().parents[2] / ".git").exists():
        assert len(provenance["git"]["commit"]) == 40 and isinstance(provenance["git"]["dirty"], bool)
    summary = json.loads((step1_run / "summary.json").read_text())
    assert summary["provenance"] == provenance


def test_resume_warns_in_one_line_on_another_package_version(step1_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(step1_run, copy)
    provenance = json.loads((copy / PROVENANCE_FILE).read_text())
    (copy / PROVENANCE_FILE).write_text(json.dumps({**provenance, "version": "0.0.1"}))
    assert main([*STEP1, "--resume", "--out", str(copy)]) == 0
    warnings_said = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings_said) == 1 and "was started by ipd-env 0.0.1 and is resumed by" in warnings_said[0]
    assert len(json.loads((copy / PROVENANCE_FILE).read_text())["resumes"]) == 1
