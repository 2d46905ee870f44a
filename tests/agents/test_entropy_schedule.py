"""A2C's entropy schedule and floor, and how the policy loss is averaged over rounds."""
import dataclasses

import pytest

from agents import a2c
from agents.a2c import entropy_coefficient, parse_entropy_schedule
from agents.harness.experiments import get_experiment

MIXED = get_experiment("fig1").condition("mixed")


def coefficients(schedule, iterations, entropy_coef=0.01, floor=0.0):
    parsed = parse_entropy_schedule(schedule)
    return [entropy_coefficient(parsed, entropy_coef, floor, iteration) for iteration in iterations]


def test_constant_is_table2s_coefficient_throughout():
    assert parse_entropy_schedule("constant") is None
    assert coefficients("constant", [0, 10, 5000], entropy_coef=0.001) == [0.001, 0.001, 0.001]


def test_linear_anneals_from_start_to_end_then_stays():
    assert parse_entropy_schedule("linear:0.1,0.0,100") == (0.1, 0.0, 0, 100)
    assert coefficients("linear:0.1,0.0,100", [0, 50, 100, 200]) == pytest.approx([0.1, 0.05, 0.0, 0.0])


def test_linear_with_a_hold_keeps_exploring_then_anneals():
    schedule = "linear:0.1,0.001,50,150"
    assert parse_entropy_schedule(schedule) == (0.1, 0.001, 50, 150)
    assert coefficients(schedule, [0, 49, 50, 100, 150, 400]) == pytest.approx([0.1, 0.1, 0.1, 0.0505, 0.001, 0.001])


def test_floor_bounds_every_schedule_from_below():
    assert coefficients("linear:0.1,0.0,100", [0, 50, 90, 100], floor=0.02) == pytest.approx([0.1, 0.05, 0.02, 0.02])
    assert coefficients("constant", [0], entropy_coef=0.001, floor=0.01) == [0.01]


@pytest.mark.parametrize("schedule", ["linear:0.1", "linear:0.1,0.0", "cosine:0.1,0.0,10", "linear:a,0.0,10",
                                      "linear:0.1,0.0,10.5", "linear:0.1,0.0,20,10", "linear:-0.1,0.0,10",
                                      "linear:0.1,0.0,0", "linear:inf,0,10", "Constant", ""])
def test_bad_schedules_are_refused_when_the_config_is_made(schedule):
    with pytest.raises(ValueError, match="entropy_schedule must be"):
        a2c.ALGORITHM.make_config("test", MIXED.paper_step, {"entropy_schedule": schedule})


def test_the_coefficient_of_each_iteration_is_logged_and_used():
    config, settings = a2c.ALGORITHM.make_run("test", MIXED.paper_step, {"entropy_schedule": "linear:0.3,0.0,2"})
    trainer = a2c.A2CTrainer(config, settings, pool_mode=MIXED.pool_mode, num_learners=MIXED.num_learners, seed=0)
    assert [trainer.train_unit(unit)["entropy_coef"] for unit in range(3)] == pytest.approx([0.3, 0.15, 0.0])
    constant = a2c.A2CTrainer(*a2c.ALGORITHM.make_run("test", MIXED.paper_step), pool_mode=MIXED.pool_mode,
                              num_learners=MIXED.num_learners, seed=0)
    assert constant.train_unit(0)["entropy_coef"] == a2c.TABLE2[4]["entropy_coef"]


def test_sum_over_rounds_is_num_rounds_times_the_mean():
    """Same batch, same model: "sum_rounds" sums the T rounds of an episode where "mean" averages them."""
    losses = {}
    for averaging in ("mean", "sum_rounds"):
        config, settings = a2c.ALGORITHM.make_run("test", MIXED.paper_step, {"advantage_averaging": averaging})
        trainer = a2c.A2CTrainer(config, settings, pool_mode=MIXED.pool_mode, num_learners=MIXED.num_learners, seed=0)
        trajectories, _ = trainer.pool.play(trainer.players(), trainer.generator)
        losses[averaging] = trainer.update(trainer.models[0], trainer.optimizers[0], trajectories[0])
    num_rounds = settings.num_rounds
    assert losses["sum_rounds"]["loss/policy"] == pytest.approx(num_rounds * losses["mean"]["loss/policy"], rel=1e-4)
    # Logged entropy and value loss stay per-decision means, comparable between the two.
    assert losses["sum_rounds"]["loss/entropy"] == pytest.approx(losses["mean"]["loss/entropy"], rel=1e-6)
    assert losses["sum_rounds"]["loss/value"] == pytest.approx(losses["mean"]["loss/value"], rel=1e-6)


def test_unknown_averaging_is_refused():
    with pytest.raises(ValueError, match="advantage_averaging must be one of 'mean', 'sum_rounds'"):
        a2c.ALGORITHM.make_config("test", MIXED.paper_step, {"advantage_averaging": "median"})


def test_defaults_are_the_paper_settings():
    defaults = {field.name: field.default for field in dataclasses.fields(a2c.A2CConfig)}
    assert defaults["entropy_schedule"] == "constant" and defaults["entropy_floor"] == 0.0
    assert defaults["advantage_averaging"] == "mean"
