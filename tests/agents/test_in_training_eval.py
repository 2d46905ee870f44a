"""In-training evaluation, the pool opponent of eval.json / summary.json, and their files.

Training must not depend on evaluation: the in-training evaluation draws from its own
generator, so a run that evaluates after every iteration trains exactly like one that
evaluates only at the end, and a resumed run writes the same evaluation series.
"""
import json

import numpy as np
import pytest
import torch

from agents import a2c
from agents.harness.checkpoint import read_metrics
from agents.harness.evaluation import (
    EVALUATION_CO_PLAYERS,
    FINAL_GAMES_PER_CO_PLAYER,
    InTrainingEvaluator,
    PoolEvaluationSet,
    evaluate_learners,
)
from agents.harness.experiments import get_experiment
from agents.harness.runner import run_experiment, run_unit, unit_dir
from agents.harness.summary import format_summary
from baselines.tabular import MemoryOnePlayer

MIXED = get_experiment("fig1").condition("mixed")
STEP1 = get_experiment("step1").condition("step1")


def training_rows(directory):
    rows = read_metrics(directory / "metrics.csv")
    for row in rows:
        row.pop("wall_time_s")
    return rows


def final_evaluation(directory):
    evaluation = json.loads((directory / "eval.json").read_text())
    evaluation.pop("wall_time_s")
    return evaluation


def test_evaluating_every_iteration_leaves_training_bit_identical(tmp_path):
    overrides = {"num_iterations": 4}
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path / "often", overrides={**overrides, "eval_every": 1},
             progress=False)
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path / "once", overrides={**overrides, "eval_every": 100},
             progress=False)
    often, once = unit_dir(tmp_path / "often", "mixed", 0), unit_dir(tmp_path / "once", "mixed", 0)
    assert training_rows(often) == training_rows(once)
    assert len(training_rows(often)) == 4
    assert final_evaluation(often) == final_evaluation(once)
    often_eval, once_eval = read_metrics(often / "eval_metrics.csv"), read_metrics(once / "eval_metrics.csv")
    assert [row["units_done"] for row in often_eval] == [1, 2, 3, 4]
    assert [row["units_done"] for row in once_eval] == [4]  # the last iteration is always evaluated
    # Same learners, same point, same generator seed: the same numbers.
    assert often_eval[-1] == once_eval[0]


def test_resumed_run_writes_the_same_evaluation_series(tmp_path):
    overrides = {"num_iterations": 4, "eval_every": 1}
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path / "full", overrides=overrides, progress=False)
    parts = tmp_path / "parts"
    assert run_unit("a2c", "fig1", "mixed", 0, "test", parts, overrides=overrides, progress=False,
                    stop_after=2) is None
    run_unit("a2c", "fig1", "mixed", 0, "test", parts, overrides=overrides, progress=False, resume=True)
    full, part = unit_dir(tmp_path / "full", "mixed", 0), unit_dir(parts, "mixed", 0)
    assert read_metrics(full / "eval_metrics.csv") == read_metrics(part / "eval_metrics.csv")
    assert json.loads((full / "eval_curves.json").read_text()) == json.loads((part / "eval_curves.json").read_text())
    curves = json.loads((full / "eval_curves.json").read_text())
    assert curves["units_done"] == [1, 2, 3, 4]
    assert np.asarray(curves["tft_cooperation_per_round"]).shape == (4, 10)  # 4 evaluations x 10 rounds
    assert np.asarray(curves["alld_cooperation_per_round"]).shape == (4, 10)
    assert curves["alld_units_done"] == curves["units_done"]


def test_automatic_eval_every_gives_about_25_points():
    def eval_every(iterations, value=0):
        config, settings = a2c.ALGORITHM.make_run("test", MIXED.paper_step,
                                           {"num_iterations": iterations, "eval_every": value})
        return settings.evaluation_every(config.num_iterations)

    assert eval_every(250) == 10
    assert eval_every(2000) == 80
    assert eval_every(3) == 1
    assert eval_every(250, value=7) == 7


@pytest.mark.parametrize("value", [-1, 1.5, True, "10"])
def test_bad_eval_every_is_refused(value):
    with pytest.raises(ValueError, match="eval_every must be an integer >= 0"):
        a2c.ALGORITHM.make_run("test", MIXED.paper_step, {"eval_every": value})


def test_in_training_metrics_name_every_co_player_and_the_pool():
    config, settings = a2c.ALGORITHM.make_run("test", MIXED.paper_step, {})
    trainer = a2c.A2CTrainer(config, settings, pool_mode=MIXED.pool_mode, num_learners=MIXED.num_learners, seed=0)
    evaluator = InTrainingEvaluator(MIXED, seed=0, num_rounds=10, pool_size=64, games_per_co_player=8)
    record = evaluator(trainer.players(), units_done=3)
    expected = {f"eval/{name}/{key}" for name in (*EVALUATION_CO_PLAYERS, "learner")
                for key in ("late_reward", "late_cooperation")}
    expected |= {f"eval/pool/{key}" for key in ("reward", "cooperation", "alld_reward", "oracle_reward",
                                                 "gain_fraction")}
    # A2C learners also give their exact p(cooperate) along the games played.
    expected |= {f"eval/{name}/policy_cooperation" for name in (*EVALUATION_CO_PLAYERS, "pool")}
    assert set(record["metrics"]) == expected
    assert record["units_done"] == 3
    for name in ("tft", "alld", "allc"):  # the within-episode probes of the paper's Fig. 4B
        assert len(record[f"{name}_cooperation_per_round"]) == 10
    assert 0.0 <= record["metrics"]["eval/pool/cooperation"] <= 1.0
    # Late cooperation against AllD: in the paper's game, reward = -1 per cooperation, 0 per defection.
    assert record["metrics"]["eval/alld/late_reward"] == pytest.approx(-record["metrics"]["eval/alld/late_cooperation"])
    assert record == evaluator(trainer.players(), units_done=3)  # seeded from (seed, units_done)
    single = a2c.A2CTrainer(*a2c.ALGORITHM.make_run("test", STEP1.paper_step), pool_mode=STEP1.pool_mode,
                            num_learners=STEP1.num_learners, seed=0)
    evaluator = InTrainingEvaluator(STEP1, 0, 10, pool_size=8, games_per_co_player=4)
    assert not any(key.startswith("eval/learner/") for key in evaluator(single.players(), 1)["metrics"])


def test_pool_gain_is_0_for_always_defect_and_1_for_the_oracle_reply():
    """On the deterministic "pure" pool every game is deterministic, so the gain is exact."""
    pool_set = PoolEvaluationSet("pure", size=256, seed=0, num_rounds=100)
    classic_rows = len(EVALUATION_CO_PLAYERS) * 4

    def learner_with_pool_rows(pool_rows):
        rows = torch.cat([torch.zeros(classic_rows, 5), torch.as_tensor(pool_rows, dtype=torch.float32)])
        return MemoryOnePlayer(rows, name="scripted")

    always_defect = learner_with_pool_rows(np.zeros((256, 5)))
    oracle = learner_with_pool_rows(pool_set.oracle["oracle_policy"])
    gains = []
    for learner in (always_defect, oracle):
        evaluation = evaluate_learners([learner], [], STEP1, num_games=4, pool_set=pool_set)
        pool = evaluation["learners"][0]["opponents"]["pool"]
        assert pool["num_co_players"] == 256
        gains.append(pool["gain_fraction"])
    assert gains[0] == pytest.approx(0.0, abs=1e-5)
    assert gains[1] == pytest.approx(1.0, abs=1e-5)
    assert pool["oracle_reward"] > pool["alld_reward"]  # the pure pool has a prize (e.g. TFT-like members)


def test_pool_opponent_in_eval_json_and_summary(tmp_path):
    summary = run_experiment("step1", "a2c", "test", seeds=2, out=tmp_path, progress=False,
                             overrides={"num_iterations": 2, "eval_pool_size": 32})  # test preset: 64
    evaluation = json.loads((unit_dir(tmp_path, "step1", 0) / "eval.json").read_text())
    pool = evaluation["learners"][0]["opponents"]["pool"]
    assert evaluation["pool"] == {"spec": "uniform", "size": 32, "seed": 0}
    assert pool["num_co_players"] == 32 and len(pool["cooperation_per_round"]) == 10
    assert evaluation["num_games"] == FINAL_GAMES_PER_CO_PLAYER
    aggregated = summary["conditions"]["step1"]["evaluation"]
    assert set(aggregated) == {*EVALUATION_CO_PLAYERS, "pool"}
    gain = aggregated["pool"]["gain_fraction"]
    assert len(gain["values"]) == 2 and gain["mean"] == pytest.approx(np.mean(gain["values"]))
    assert "gain_fraction" not in aggregated["tft"]
    table = format_summary(summary)
    assert f"gain fraction {gain['mean']:.3f} ± {gain['std']:.3f}" in table
    if "plots" in summary and isinstance(summary["plots"], list):  # matplotlib installed
        assert (unit_dir(tmp_path, "step1", 1) / "plots" / "in_training.png").stat().st_size > 1000
        assert (tmp_path / "plots" / "in_training_step1.png").stat().st_size > 1000  # mean over the 2 seeds


def test_ppi_is_evaluated_after_every_phase_without_changing_training(tmp_path):
    run_unit("ppi", "step1", "step1", 0, "test", tmp_path / "every", progress=False)
    run_unit("ppi", "step1", "step1", 0, "test", tmp_path / "end", progress=False, overrides={"eval_every": 5})
    every, end = unit_dir(tmp_path / "every", "step1", 0), unit_dir(tmp_path / "end", "step1", 0)
    rows = read_metrics(every / "eval_metrics.csv")
    assert [row["units_done"] for row in rows] == [1, 2]
    assert [row["units_done"] for row in read_metrics(end / "eval_metrics.csv")] == [2]
    assert all(-1.0 <= row["eval/alld/late_reward"] <= 0.0 for row in rows)
    assert training_rows(every) == training_rows(end)
    assert final_evaluation(every) == final_evaluation(end)


def test_tensorboard_steps_count_units_from_1_and_hold_the_hyperparameters(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path, overrides={"num_iterations": 3, "eval_every": 2},
             progress=False)
    accumulator = event_accumulator.EventAccumulator(str(unit_dir(tmp_path, "mixed", 0) / "tb"))
    accumulator.Reload()

    def steps(tag):
        return [event.step for event in accumulator.Scalars(tag)]

    assert steps("learner_vs_learner/reward") == [1, 2, 3]
    assert steps("eval/pool/gain_fraction") == [2, 3]
    assert steps("final/tft/late_cooperation") == [3]
    plugins = accumulator.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in plugins and "_hparams_/session_start_info" in plugins


def test_a2c_learners_report_their_exact_cooperation_probability():
    config, settings = a2c.ALGORITHM.make_run("test", STEP1.paper_step)
    trainer = a2c.A2CTrainer(config, settings, pool_mode=STEP1.pool_mode, num_learners=STEP1.num_learners, seed=0)
    record = InTrainingEvaluator(STEP1, seed=0, num_rounds=10, pool_size=16, games_per_co_player=8)(
        trainer.players(), units_done=1)
    curve = record["alld_policy_cooperation_per_round"]
    assert len(curve) == 10 and all(0.0 < value < 1.0 for value in curve)  # probabilities, not 0/1 draws
    # An untrained policy is near-uniform: its exact p(C) is near 0.5 where the sampled rate is noisy.
    assert abs(record["metrics"]["eval/pool/policy_cooperation"] - 0.5) < 0.2
    assert 0.0 < record["metrics"]["eval/tft/policy_cooperation"] < 1.0
