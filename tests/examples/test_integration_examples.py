"""Smoke tests of the integration examples (SB3, RLlib, Axelrod) at tiny budgets."""
import importlib.util
import os
import subprocess
import sys

import pytest

from helpers import ROOT, load_script

EXAMPLES = ROOT / "examples"


def load(name):
    return load_script(EXAMPLES / f"{name}.py", f"{name}_example")


def test_sb3_shared_ppo_example(capsys):
    pytest.importorskip("supersuit", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
    rows = load("sb3_shared_ppo").main(["--timesteps", "1600", "--games", "8"])
    assert [row["opponent"] for row in rows] == ["allc", "alld", "tft", "wsls", "extort2", "pool", "learner"]
    assert "| allc |" in capsys.readouterr().out


def test_sb3_recurrent_ppo_example_mixed_pool(capsys):
    pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
    rows = load("sb3_recurrent_ppo").main(["--co-player", "mixed", "--timesteps", "800", "--num-envs", "2",
                                           "--refresh-every", "1", "--games", "8"])
    out = capsys.readouterr().out
    assert "frozen copy refreshed 4 times" in out  # 800 steps / (2 envs * 100) = 4 rollouts
    assert len(rows) == 7


def test_rllib_example_against_allc():
    ray = pytest.importorskip("ray", reason="needs the [rllib] extra: pip install -e '.[rllib]'")
    pytest.importorskip("ray.rllib", reason="needs the [rllib] extra: pip install -e '.[rllib]'")
    try:
        history = load("rllib_multi_agent_ppo").main(["--co-player", "allc", "--iterations", "1", "--max-cycles",
                                                      "10", "--batch", "200"])
    finally:
        ray.shutdown()
    assert len(history) == 1 and set(history[0]["returns"]) >= {"learner", "co_player"}


def test_axelrod_tournament_example_trains_and_ranks(tmp_path):
    pytest.importorskip("axelrod", reason="needs the [axelrod] extra: pip install -e '.[axelrod]'")
    rows = load("axelrod_tournament").main(["--preset", "test", "--iterations", "2", "--turns", "10",
                                            "--repetitions", "1", "--quiet", "--out", str(tmp_path)])
    names = [row["name"] for row in rows]
    assert "a2c-step1 (trained here)" in names and "Tit For Tat" in names and "ipd:extort2" in names
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


# Runs an example as __main__ with one module made unimportable (None in sys.modules), as if not installed.
WITHOUT_MODULE = "import runpy, sys; sys.modules[sys.argv[1]] = None; sys.argv = sys.argv[2:]; " \
                 "runpy.run_path(sys.argv[0], run_name='__main__')"


@pytest.mark.parametrize("example, missing, extra", [
    ("rllib_multi_agent_ppo", "ray", "rllib"),
    ("rllib_multi_agent_ppo", "ray.rllib", "rllib"),  # Ray without its RLlib
    ("axelrod_tournament", "axelrod", "axelrod"),
    ("sb3_shared_ppo", "stable_baselines3", "sb3"),
    ("sb3_recurrent_ppo", "stable_baselines3", "sb3"),
])
def test_example_without_its_extra_fails_in_one_line(example, missing, extra):
    parent = missing.partition(".")[0]
    if parent != missing and importlib.util.find_spec(parent) is None:
        pytest.skip(f"{missing} without {parent}: {parent} itself is not installed here (its own case covers it)")
    script = EXAMPLES / f"{example}.py"
    # --help would print the usage and exit 0 if the missing module's import did not stop the script first.
    result = subprocess.run([sys.executable, "-c", WITHOUT_MODULE, missing, str(script), "--help"],
                            capture_output=True, text=True, timeout=120, cwd=EXAMPLES.parent,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{example}.py: error: {missing!r} is not installed; it is needed for "
        + {"rllib": "the RLlib baseline (baselines.rllib)",
           "axelrod": "the Axelrod adapters (baselines.axelrod_adapter)",
           "sb3": "the Stable-Baselines3 baselines (baselines.sb3)"}[extra]
        + f". Install it with: pip install 'ipd-env[{extra}]' (or pip install -e '.[{extra}]' from a checkout)"]
