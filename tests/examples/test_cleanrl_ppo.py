"""Smoke tests of examples/cleanrl_ppo.py: the script end to end, learning against AllC, one-line errors."""
import os
import subprocess
import sys

import pytest

from helpers import ROOT, load_script

EXAMPLE = ROOT / "examples" / "cleanrl_ppo.py"
TINY = ["--total-timesteps", "160", "--num-envs", "4", "--max-cycles", "20", "--num-minibatches", "2",
        "--eval-games", "8"]


@pytest.fixture(scope="module")
def cleanrl_ppo():
    yield load_script(EXAMPLE, "cleanrl_ppo_example")
    sys.modules.pop("cleanrl_ppo_example", None)


def test_script_trains_and_prints_the_evaluation_table():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(EXAMPLE), *TINY], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "PPO vs pool: 2 iterations of 80 steps, seed 1"
    assert [line.split()[0] for line in lines[1:3]] == ["global_step=80", "global_step=160"]
    assert "episodic_return=" in lines[1] and "cooperation=" in lines[1]
    assert [line.split(" | ")[0] for line in lines if line.startswith("| ") and "co-player" not in line] == [
        "| tft", "| alld", "| allc"]


@pytest.mark.parametrize("seed", [1, 2])
def test_learns_to_defect_against_allc(cleanrl_ppo, capsys, seed):
    # Two seeds: a broken update (e.g. the surrogate's sign flipped) collapses to one action at random,
    # defection for seed 1 but cooperation for seed 2; the right one moves to defection for both.
    result = cleanrl_ppo.main(["--co-player", "allc", "--max-cycles", "20", "--num-envs", "16",
                               "--total-timesteps", "3200", "--eval-games", "64", "--seed", str(seed)])
    history, evaluation = result["history"], {row["co_player"]: row for row in result["evaluation"]}
    assert len(history) == 10 and history[-1]["global_step"] == 3200
    assert history[0]["cooperation"] > 0.4  # starts near uniform (actor's last layer initialised small)
    # Every defection against AllC earns 2 instead of 1: PPO must find it.
    assert history[-1]["cooperation"] < 0.3 and evaluation["allc"]["cooperation"] < 0.3
    assert evaluation["allc"]["reward"] > 1.7
    # A row's reward and cooperation agree with the game: vs AllD each cooperation costs 1, defection pays 0.
    assert evaluation["alld"]["reward"] == pytest.approx(-evaluation["alld"]["cooperation"])
    assert "| allc | " in capsys.readouterr().out


def test_help_shows_each_field_docstring(cleanrl_ppo, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cleanrl_ppo.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--total-timesteps TOTAL_TIMESTEPS learner steps (rounds) of training, all envs together" in text
    assert "--anneal-lr, --no-anneal-lr anneal the learning rate linearly to 0" in text
    assert len(cleanrl_ppo.field_docstrings(cleanrl_ppo.Args)) == len(cleanrl_ppo.Args.__dataclass_fields__)


@pytest.mark.parametrize("arguments, message", [
    (["--threads", "0"], "--threads must be a positive integer, got 0"),
    (["--total-timesteps", "100"], "--total-timesteps 100 is less than one rollout (--num-envs * --max-cycles = 1600)"),
    (["--co-player", "grim", *TINY], "grim is stateful (not memory-1)"),
    (["--co-player", "nosuch", *TINY], "unknown co-player 'nosuch'"),
])
def test_bad_arguments_fail_in_one_line(cleanrl_ppo, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        cleanrl_ppo.main(arguments)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert captured.out == ""


def test_grim_trains_with_sync_vectorization(cleanrl_ppo, capsys):
    result = cleanrl_ppo.main(["--co-player", "grim", "--vectorization-mode", "sync", *TINY])
    assert len(result["history"]) == 2 and len(result["evaluation"]) == 3
