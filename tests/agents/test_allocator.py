"""agents/harness/allocator.py: freed memory kept in the process changes where memory comes from,
never what a run computes; the switch is checked and the CLI says a bad value in one line."""
import platform
import subprocess
import sys

import pytest

from agents.harness import allocator
from agents.harness.cli import main

from helpers import ROOT, load_script

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

TRAIN = r"""
import json, torch
from agents.harness.allocator import keep_freed_memory
from agents.a2c import ALGORITHM, A2CTrainer
from agents.harness.experiments import get_experiment
torch.set_num_threads(1)
applied = keep_freed_memory()
condition = get_experiment("step1").condition("step1")
config, settings = ALGORITHM.make_run("test", condition.paper_step, {"games_per_learner": 256, "num_rounds": 30})
trainer = A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=1, seed=3)
rows = [trainer.train_unit(unit) for unit in range(3)]
weights = [float(parameter.double().sum()) for parameter in trainer.models[0].parameters()]
print(json.dumps({"applied": applied, "rows": rows, "weights": weights}))
"""


@pytest.fixture
def fresh(monkeypatch):
    """The module as if no call had been made yet in this process."""
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.delenv(allocator.ENVIRONMENT_VARIABLE, raising=False)


def run_training(tuning: str) -> str:
    environment = {"IPD_ENV_MALLOC_TUNING": tuning, "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", TRAIN], env=environment, cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=300)
    return result.stdout.strip().splitlines()[-1]


def test_a_run_computes_the_same_numbers_with_and_without_it():
    import json
    off, on = json.loads(run_training("0")), json.loads(run_training("1"))
    assert off["applied"] is False and on["applied"] is GLIBC
    assert on["rows"] == off["rows"] and on["weights"] == off["weights"]


def test_off_when_the_variable_says_0_and_the_answer_is_kept(fresh, monkeypatch):
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, "0")
    assert allocator.keep_freed_memory() is False
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, "1")
    assert allocator.keep_freed_memory() is False  # once per process: the first answer stands


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_applied_on_glibc(fresh):
    assert allocator.keep_freed_memory() is True


@pytest.mark.parametrize("value", ["yes", "2", ""])
def test_a_bad_value_is_one_error_naming_the_variable(fresh, monkeypatch, value):
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, value)
    with pytest.raises(ValueError, match="IPD_ENV_MALLOC_TUNING must be 0 .off. or 1 .on., got"):
        allocator.keep_freed_memory()


def test_the_cli_says_a_bad_value_in_one_line(fresh, monkeypatch, capsys):
    monkeypatch.setenv(allocator.ENVIRONMENT_VARIABLE, "on")
    with pytest.raises(SystemExit) as caught:
        main(["pool-stats", "pure"])
    error = capsys.readouterr().err
    assert caught.value.code == 2
    assert error == "ipd-coop pool-stats: error: IPD_ENV_MALLOC_TUNING must be 0 (off) or 1 (on), got 'on'\n"


def test_benchmark_quick_prints_both_variants_per_thread_count(capsys):
    rows = load_script(ROOT / "benchmarks" / "allocator.py", "allocator_benchmark").main(["--quick", "--threads", "1"])
    assert [row["allocator"] for row in rows][0] == "glibc default" and len(rows) == 2
    assert rows[0]["ratio"] == 1.0 and all(row["agent_steps_per_s"] > 0 for row in rows)
    assert "| 1 | glibc default |" in capsys.readouterr().out


def test_benchmark_bad_threads_is_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        load_script(ROOT / "benchmarks" / "allocator.py", "allocator_benchmark").main(["--threads", "one"])
    assert caught.value.code == 2 and "--threads must be comma-separated whole numbers" in capsys.readouterr().err
