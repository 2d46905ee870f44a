"""Every failure a user can cause on the ``ipd-coop`` command line is one line and exit 2.

Each case runs ``ipd-coop`` as a subprocess (so nothing of pytest's capture hides a
traceback) and checks: exit status 2, exactly one line on stderr, starting
``ipd-coop <command>: error:`` and naming the argument at fault, and no file created,
changed or deleted in the sandbox the command was pointed at (names, sizes and mtimes
before and after). Every subprocess imports torch (about 2 s), so the cases are started
together and the table is kept to the cases of issue 11 plus a few of the same kinds.
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from agents.harness.cli import main

CUDA = torch.cuda.is_available()

# (case id, argv with {file}/{folder}/{run} placeholders, the text the error line must contain)
CASES = [
    ("threads-0", "reproduce step1 --preset test --out {folder}/out --threads 0",
     "argument --threads: expected a positive integer (>= 1), got 0"),
    ("threads-negative", "reproduce step1 --preset test --out {folder}/out --threads -1",
     "argument --threads: expected a positive integer (>= 1), got -1"),
    ("device-tpu", "reproduce step1 --preset test --out {folder}/out --device tpu",
     "argument --device: expected one of cpu, cuda, cuda:N, mps, got 'tpu'"),
    ("out-is-file", "reproduce step1 --preset test --out {file}", "--out {file}: exists and is not a folder"),
    ("out-under-file", "reproduce step1 --preset test --out {file}/run", "--out {file}/run: {file} is not a folder"),
    ("out-dev-null", "reproduce step1 --preset test --out /dev/null", "--out /dev/null: exists and is not a folder"),
    ("out-under-proc", "reproduce step1 --preset test --quiet --out /proc/ipd-coop-test",
     "--out /proc/ipd-coop-test: cannot write /proc/ipd-coop-test"),
    ("resume-other-config", "reproduce step1 --preset test --seeds 1 --quiet --resume --out {run}",
     "cannot resume {run}/step1/seed_0: its config differs from the requested one: hyperparameters."),
    ("plot-under-file", "evaluate tft --games 2 --rounds 2 --plot {file}/heat.png",
     "--plot {file}/heat.png: {file} is not a folder"),
    ("json-is-folder", "evaluate tft --games 2 --rounds 2 --no-plot --json {folder}",
     "--json {folder}: is a folder; give a file name"),
    ("json-under-proc", "evaluate tft --against alld --games 2 --rounds 2 --no-plot --json /proc/ipd-coop-test.json",
     "--json /proc/ipd-coop-test.json: cannot write /proc/ipd-coop-test.json"),
    ("play-seed-negative", "play tft alld --seed -1",
     "argument --seed: expected an integer seed in [0, 4294967295], got -1"),
    ("repetitions-0", "tournament tft alld --repetitions 0 --plot {folder}/t.png",
     "argument --repetitions: expected a positive integer (>= 1), got 0"),
    ("turns-0", "tournament tft alld --turns 0 --plot {folder}/t.png",
     "argument --turns: expected a positive integer (>= 1), got 0"),
    ("turns-negative", "tournament tft alld --turns -1 --plot {folder}/t.png",
     "argument --turns: expected a positive integer (>= 1), got -1"),
]
# More of the same kinds, run in this process through main() (no torch import per case).
IN_PROCESS_CASES = [
    ("seeds-0", "reproduce step1 --preset test --out {folder}/out --seeds 0",
     "argument --seeds: expected a positive integer"),
    ("gpus-nan", "reproduce step1 --preset test --out {folder}/out --gpus-per-unit nan",
     "argument --gpus-per-unit: expected a finite number >= 0, got 'nan'"),
    ("out-under-dev-null", "reproduce step1 --preset test --out /dev/null/run",
     "--out /dev/null/run: /dev/null is not a folder"),
    ("games-0", "evaluate tft --games 0 --no-plot", "argument --games: expected a positive integer"),
    ("play-rounds-word", "play tft alld --rounds ten", "argument --rounds: expected a positive integer, got 'ten'"),
]
if not CUDA:
    CASES.append(("device-cuda-without-gpu", "evaluate tft --no-plot --device cuda",
                  "argument --device: 'cuda' asked for, but torch sees no CUDA GPU"))


def snapshot(root: Path) -> dict:
    """``{relative path: (size, mtime_ns)}`` of everything under ``root``, folders included."""
    entries = {}
    for folder, subfolders, files in os.walk(root):
        for name in subfolders + files:
            path = Path(folder) / name
            status = path.stat()
            entries[str(path.relative_to(root))] = (status.st_size if path.is_file() else 0, status.st_mtime_ns)
    return entries


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case at once in one sandbox; returns ``({case: (status, stderr)}, sandbox, before, after)``."""
    sandbox = tmp_path_factory.mktemp("cli_errors")
    places = {"file": sandbox / "a_file.txt", "folder": sandbox / "a_folder", "run": sandbox / "a_run"}
    places["file"].write_text("keep me\n")
    places["folder"].mkdir()
    (places["folder"] / "kept.txt").write_text("keep me too\n")
    # A run folder whose unit was written with another config: --resume must refuse it, listing the differences.
    unit = places["run"] / "step1" / "seed_0"
    unit.mkdir(parents=True)
    (unit / "config.json").write_text(json.dumps({"algo": "a2c", "experiment": "step1", "condition": "step1",
                                                  "seed": 0, "preset": "test", "overrides": {},
                                                  "hyperparameters": {"learning_rate": 0.5, "hidden_size": 3}}))
    before = snapshot(sandbox)
    script = Path(sys.executable).parent / "ipd-coop"  # the installed console script, next to this python
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "agents.harness.cli"]
    environment = dict(os.environ, OMP_NUM_THREADS="1")

    def run(case):
        name, argv, _ = case
        words = [word.format(**{key: str(value) for key, value in places.items()}) for word in argv.split()]
        result = subprocess.run(command + words, capture_output=True, text=True, cwd=sandbox, env=environment,
                                timeout=300)
        return name, (result.returncode, result.stderr)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(pool.map(run, CASES))
    return results, places, before, snapshot(sandbox)


@pytest.mark.parametrize("name, argv, expected", CASES, ids=[case[0] for case in CASES])
def test_failure_is_one_line_exit_2(outcomes, name, argv, expected):
    results, places, _, _ = outcomes
    status, stderr = results[name]
    command = argv.split()[0]
    lines = stderr.splitlines()
    assert status == 2, f"{name}: exit {status}, stderr:\n{stderr}"
    assert len(lines) == 1, f"{name}: {len(lines)} stderr lines:\n{stderr}"
    assert lines[0].startswith(f"ipd-coop {command}: error: "), lines[0]
    assert expected.format(**{key: str(value) for key, value in places.items()}) in lines[0]


def test_no_file_created_changed_or_deleted(outcomes):
    _, _, before, after = outcomes
    assert after == before, {
        "created": sorted(set(after) - set(before)), "deleted": sorted(set(before) - set(after)),
        "changed": sorted(path for path in set(before) & set(after) if before[path] != after[path]),
    }


@pytest.mark.parametrize("name, argv, expected", IN_PROCESS_CASES, ids=[case[0] for case in IN_PROCESS_CASES])
def test_failure_is_one_line_exit_2_in_process(tmp_path, capsys, name, argv, expected):
    places = {"folder": tmp_path / "a_folder"}
    places["folder"].mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([word.format(**places) for word in argv.split()])
    lines = capsys.readouterr().err.splitlines()
    assert exit_info.value.code == 2
    assert len(lines) == 1 and lines[0].startswith(f"ipd-coop {argv.split()[0]}: error: ")
    assert expected in lines[0]
    assert snapshot(tmp_path) == before


def test_evaluate_ppi_run_honours_rounds_other_than_training(tmp_path, capsys):
    """Issue 10: a PPI run trained on 10-round games evaluated with --rounds 20 plays 20 rounds.

    Before, its planner stopped at the 10 rounds of training and ``evaluate`` ended in a
    RuntimeError traceback; now the rounds given are the planner's horizon.
    """
    out = tmp_path / "ppi"
    assert main(["reproduce", "step1", "--algo", "ppi", "--preset", "test", "--seeds", "1", "--out", str(out),
                 "--quiet"]) == 0
    unit = out / "step1" / "seed_0"
    assert json.loads((unit / "config.json").read_text())["settings"]["num_rounds"] == 10
    capsys.readouterr()
    curves = tmp_path / "curves.json"
    assert main(["evaluate", str(unit), "--against", "alld", "--games", "3", "--rounds", "20", "--no-plot",
                 "--json", str(curves)]) == 0
    results = json.loads(curves.read_text())["results"]["alld"]
    assert len(results["reward_per_round"]) == 20
    # Against AllD every round pays the learner -1 (it cooperated) or 0 (it defected).
    assert all(-1.0 <= reward <= 0.0 for reward in results["reward_per_round"])
