"""The cost plan: exact counts read from the configs, a credible time estimate, clear errors."""
import argparse
import re
import time

import pytest
import torch

from agents.harness.cli.plan import add_plan_arguments, command_plan
from agents.harness.costs import extrapolate
from agents.harness.plan import format_plan, human_duration, make_plan, schedule_seconds
from agents.harness.runner import run_unit

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def counts(plan):
    return {row.condition: (row.num_units, row.episodes_per_unit, row.num_learners, row.agent_steps,
                            row.training_tokens) for row in plan.rows}


def test_fig1_counts_at_the_test_preset():
    # test preset: 3 iterations of 32 episodes per learner, 10 rounds; two learners in every fig1 condition.
    plan = make_plan("fig1", "a2c", "test", seeds=2, progress=False)
    assert counts(plan) == {name: (3, 32, 2, 3 * 32 * 10 * 2, 0) for name in ("mixed", "opponent-id", "no-tabular")}
    assert plan.num_runs == 6
    assert plan.agent_steps == 6 * 1920


def test_step3_counts_include_its_prerequisites_and_follow_set():
    plan = make_plan("step3", "a2c", "test", seeds=1, overrides={"num_iterations": 7}, progress=False)
    # Step 1 has one learner; Steps 2 and 3 two. 7 iterations x 32 episodes x 10 rounds x learners.
    assert counts(plan) == {"step1": (7, 32, 1, 2240, 0), "step2": (7, 32, 2, 4480, 0), "step3": (7, 32, 2, 4480, 0)}
    assert [row.prerequisites for row in plan.rows] == [(), ("step1",), ("step2",)]
    only_step1 = make_plan("step3", "a2c", "test", seeds=1, conditions=["step1"], progress=False)
    assert [row.condition for row in only_step1.rows] == ["step1"]


def test_ppi_step3_counts_tokens_of_a_growing_data_set():
    # test preset: 2 phases of 16 episodes, D_0 = 32 pretraining episodes, 1 epoch, 10 rounds.
    # Step 1 fits on 32 then 48 episodes: 80 x 10 rounds x 1 learner = 800 tokens.
    # Step 3 starts from Step 2's whole data (32 + 2 x 16 = 64): fits on 64 then 80: 144 x 10 x 2 learners.
    plan = make_plan("step3", "ppi", "test", seeds=1, progress=False)
    assert counts(plan) == {"step1": (2, 16, 1, 320, 800), "step2": (2, 16, 2, 640, 1600),
                            "step3": (2, 16, 2, 640, 2880)}


def test_schedule_runs_prerequisites_first_and_in_parallel():
    jobs = {("step1", 0): (1.0, []), ("step1", 1): (1.0, []),
            ("step2", 0): (2.0, [("step1", 0)]), ("step2", 1): (2.0, [("step1", 1)])}
    assert schedule_seconds(jobs, 1) == 6.0
    assert schedule_seconds(jobs, 2) == 3.0  # both seeds' chains side by side
    assert schedule_seconds(jobs, 4) == 3.0  # a chain cannot be shortened


def test_extrapolation_keeps_the_fixed_cost_per_call_fixed():
    # 1 s fixed + 0.01 s per game, timed at 50 and 100 games: 1,000 games cost 11 s, not 10 x 2 s.
    assert extrapolate((50, 1.5), (100, 2.0), 1000) == pytest.approx(11.0)
    assert extrapolate((50, 1.5), (100, 2.0), 100) == 2.0


def test_human_durations():
    assert human_duration(42) == "42 s"
    assert human_duration(20 * 60) == "20 minutes"
    assert human_duration(5400) == "1.5 hours"
    assert human_duration(3 * 86400) == "3.0 days"
    assert human_duration(21 * 86400) == "3.0 weeks"
    assert human_duration(365.25 * 86400 * 3) == "3.0 years"


@pytest.mark.parametrize("algo, experiment, condition, overrides", [
    ("a2c", "fig1", "mixed", {"num_iterations": 40}),
    ("ppi", "step1", "step1", {"num_phases": 4}),
])
def test_estimate_is_within_2x_of_a_real_run(tmp_path, algo, experiment, condition, overrides):
    """The plan's estimate against the run it describes, at the test preset.

    Both are CPU time of this process (one torch thread): the machine is shared with long
    training jobs, whose load would lengthen the wall time of one but not the other.
    """
    try:  # the runner imports TensorBoard in a process's first run: a one-off cost of the process, not of a run
        import torch.utils.tensorboard  # noqa: F401  (imported for its one-off cost, which is not to be timed)
    except ImportError:
        pass
    plan = make_plan(experiment, algo, "test", seeds=1, overrides=overrides, conditions=[condition],
                     progress=False, clock=time.process_time)
    row = plan.rows[-1]
    started = time.process_time()
    run_unit(algo, experiment, condition, 0, "test", tmp_path, overrides=overrides, progress=False)
    measured = time.process_time() - started
    assert 0.5 < measured / row.seconds_per_seed < 2.0, (measured, row.seconds)


def test_format_says_the_estimate_in_words():
    text = format_plan(make_plan("step1", "a2c", "test", seeds=1, progress=False))
    assert "| step1 | - | 1 | 3 | 32 | 1 | 9.6e+02 |" in text
    assert "estimate: the test preset on this CPU with 1 torch thread, 1 run at a time: ~" in text


def test_more_runs_than_cores_are_counted_as_the_cores():
    plan = make_plan("step1", "a2c", "test", seeds=4, parallel=64, threads=1, progress=False)
    assert any("counted as" in note for note in plan.notes)
    assert plan.wall_seconds > plan.serial_seconds / 64


@pytest.mark.parametrize("arguments, message", [
    (dict(experiment="fig9"), "unknown experiment 'fig9'"),
    (dict(preset="huge"), "unknown preset 'huge'"),
    (dict(overrides={"num_iteration": 5}), "unknown a2c hyperparameter 'num_iteration'"),
    (dict(conditions=["mixed"]), "has no condition 'mixed'"),
    (dict(parallel=0), "parallel (workers) must be a positive integer"),
    (dict(timed_units=0), "timed units must be a positive integer"),
])
def test_bad_arguments_are_one_clear_value_error(arguments, message):
    options = {**dict(experiment="step1", algo="a2c", preset="test", seeds=1, progress=False), **arguments}
    with pytest.raises(ValueError, match=re.escape(message)):
        make_plan(**options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused():
    with pytest.raises(ValueError, match="torch sees no CUDA GPU"):
        make_plan("step1", "a2c", "test", seeds=1, device="cuda", progress=False)


def test_plan_command_prints_the_table(capsys):
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    args = parser.parse_args(["step2", "--preset", "test", "--seeds", "2", "--set", "num_iterations=5",
                              "--workers", "2"])
    assert command_plan(args) == 0
    out = capsys.readouterr().out
    assert "plan: step2 with a2c, preset test (--set num_iterations=5), seeds 0-1" in out
    assert "| step2 | step1 | 2 | 5 | 32 | 2 |" in out
    assert "total: 4 runs" in out
