"""Issue 19.1: inputs the CLI used to accept silently, or answer with a traceback, are one line.

Each case runs ``ipd-coop`` in this process (``main``) and checks exit status 2, exactly one
stderr line ``ipd-coop <command>: error: ...`` with the expected text, and no file created
or changed in the folder it was pointed at. Sizes are chosen to fit no machine (petabytes),
so the refusal does not depend on the memory of the machine running the tests.

Before: ``--out ''`` wrote to the default folder, ``--conditions ''`` ran all conditions,
empty names in lists were dropped, a ``--set`` given twice kept the last value, an unknown
``--sort`` metric was refused only after training, and the sizes ended in 17-26 line
``MemoryError`` tracebacks.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.harness.cli import main, pool_stats

SWEEP = "sweep step1 --preset test --seeds 1 --quiet --no-plot --grid entropy_coef=0.1 --out {folder}/sweep"
CASES = [
    ("out-empty", ["reproduce", "step1", "--preset", "test", "--out", ""], "--out is empty; give a folder path"),
    ("sweep-out-empty", ["sweep", "step1", "--preset", "test", "--grid", "entropy_coef=0.1", "--out", ""],
     "--out is empty"),
    ("conditions-empty", "reproduce step1 --preset test --out {folder}/run --conditions ''",
     "--conditions is empty; give one or more comma-separated names"),
    ("conditions-empty-name", "reproduce fig1 --preset test --out {folder}/run --conditions mixed,",
     "--conditions 'mixed,' has an empty name (position 2)"),
    ("against-empty-name", "evaluate tft --no-plot --against tft,,alld",
     "--against 'tft,,alld' has an empty name (position 2); separate names by single commas"),
    ("grid-trailing-semicolon", SWEEP.replace("entropy_coef=0.1", "pool=uniform;"),
     "--grid 'pool=uniform;' has an empty value"),
    ("set-twice", "reproduce step1 --preset test --out {folder}/run --set num_iterations=2 --set num_iterations=3",
     "--set num_iterations is given twice (num_iterations=2 and num_iterations=3); give it once"),
    ("sort-unknown", SWEEP + " --sort nosuch/metric", "--sort 'nosuch/metric' names no metric of this sweep"),
    ("heatmap-unknown", SWEEP + " --heatmap onlyone", "--heatmap 'onlyone' names no metric of this sweep"),
    ("heatmap-empty-name", SWEEP + " --heatmap tft/late_reward,", "--heatmap 'tft/late_reward,' has an empty name"),
    ("seeds-too-many", "reproduce step1 --preset test --out {folder}/run --seeds 100000000000000",
     "100000000000000 seeds x 1 conditions = 100000000000000 runs needs at least 50.0 PB, but "),
    ("sweep-seeds-too-many", SWEEP + " --seeds 100000000000000", "1 points x 1 conditions x 100000000000000 seeds"),
    ("games-too-many", "reproduce step1 --preset test --out {folder}/run --set games_per_learner=100000000000000",
     "training step1 (100000000000000 games per learner x 10 rounds; games_per_learner=100000000000000) needs at "
     "least 80.0 PB, but "),
    ("rounds-too-many", "evaluate tft --no-plot --rounds 100000000000000",
     "playing 256 games of 100000000000000 rounds needs at least 1024.0 PB, but "),
    ("pool-size-too-large", "pool-stats uniform --size 100000000000000",
     "--size 100000000000000 co-players needs at least 29.6 PB, but "),
]


def snapshot(root: Path) -> dict:
    return {str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns) for path in root.rglob("*")}


def words(argv, folder: Path) -> list:
    if isinstance(argv, list):
        return argv
    import shlex

    return shlex.split(argv.format(folder=folder))


@pytest.mark.parametrize("name, argv, expected", CASES, ids=[case[0] for case in CASES])
def test_refused_in_one_line_and_nothing_written(tmp_path, capsys, monkeypatch, name, argv, expected):
    monkeypatch.chdir(tmp_path)  # --out '' would have written runs/ here
    (tmp_path / "kept.txt").write_text("keep me\n")
    before = snapshot(tmp_path)
    argv = words(argv, tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    lines = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"ipd-coop {argv[0]}: error: ") and expected in lines[0], lines[0]
    assert snapshot(tmp_path) == before


def test_an_allocation_failure_is_one_line(capsys, monkeypatch):
    """Where the size is not knowable up front, the allocator's failure is turned into one line."""
    def out_of_memory(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 800000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(pool_stats, "command_pool_stats", out_of_memory)
    with pytest.raises(SystemExit) as exit_info:
        main(["pool-stats", "uniform"])
    lines = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and len(lines) == 1
    assert lines[0].startswith("ipd-coop pool-stats: error: out of memory ([enforce fail at alloc_cpu.cpp:117]")


def test_a_memory_error_is_one_line(capsys, monkeypatch):
    def memory_error(args):
        raise MemoryError()

    monkeypatch.setattr(pool_stats, "command_pool_stats", memory_error)
    with pytest.raises(SystemExit) as exit_info:
        main(["pool-stats", "uniform"])
    lines = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2 and lines == [
        "ipd-coop pool-stats: error: out of memory (MemoryError); use fewer games, rounds, seeds or --workers"]


def test_version_is_printed(capsys):
    import ipd_env

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"ipd-coop (ipd-env) {ipd_env.__version__}\n"


def test_output_into_a_closed_pipe_ends_quietly():
    """``ipd-coop play ... | head -2``: no ``Broken pipe`` error, status 141 as ``yes | head`` ends."""
    result = subprocess.run(f"{sys.executable} -m agents.harness.cli play tft alld --rounds 200 | head -2; "
                            f"exit ${{PIPESTATUS[0]}}", shell=True, executable="/bin/bash", capture_output=True,
                            text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), timeout=120)
    assert result.stdout.splitlines()[0].startswith("player_0 = tft, player_1 = alld, 200 rounds")
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == "" and result.returncode == 141


def test_evaluate_says_when_a_learner_plays_another_game_than_its_own(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reproduce", "step1", "--preset", "test", "--seeds", "1", "--quiet", "--out", str(out)]) == 0
    unit = out / "step1" / "seed_0"
    assert json.loads((unit / "config.json").read_text())["settings"]["payoffs"] == [1.0, -1.0, 2.0, 0.0]
    capsys.readouterr()
    assert main(["evaluate", str(unit), "--against", "tft", "--games", "2", "--rounds", "4", "--no-plot",
                 "--payoffs", "axelrod"]) == 0
    assert (f"note: {unit} was trained with payoffs paper (1.0, -1.0, 2.0, 0.0); here it plays, and observes the "
            f"rewards of, payoffs axelrod (pass --payoffs paper to evaluate it in its own game)"
            ) in capsys.readouterr().out.splitlines()
    assert main(["evaluate", str(unit), "--against", "tft", "--games", "2", "--rounds", "4", "--no-plot"]) == 0
    assert "note:" not in capsys.readouterr().out
