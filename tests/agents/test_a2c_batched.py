"""Seed-batched A2C: every seed of a batch is the seed trained alone (issue 16.3).

The batched trainer is checked against ``A2CTrainer(..., seed=s)`` run by itself, at the
``test`` preset (B = 32 games, 10 rounds, hidden 16): the metrics of every iteration, the
final weights, Adam states and generator states, and the final behaviour (the trained
players' actions in a match). On CPU with one thread they are bit-identical; the comparisons
say so with ``==``, and ``assert_close_metrics`` states the tolerance (1e-5 relative) that the
issue allows where a BLAS rounds batched products differently.
"""
import copy

import pytest
import torch

from agents.a2c import ALGORITHM, A2CTrainer
from agents.a2c_batched import SeedBatchedA2CTrainer, gru_cell, gru_sequence
from agents.algorithm import TrainedRun, Trainer
from baselines.tabular import make_player
from ipd_env.player import play_match

from helpers import ROOT, load_script

BENCHMARK = ROOT / "benchmarks" / "seed_batching.py"


# One torch thread (tests/conftest.py): bit-identity is a claim about the same kernels on the same slices.
pytestmark = pytest.mark.usefixtures("one_thread")


def config_for(step, **overrides):
    """``(config, settings)`` of Table 2's column ``step`` at the test preset."""
    return ALGORITHM.make_run("test", step, overrides)


def train_both(run, pool_mode, num_learners, seeds, iterations, per_seed=None):
    """Train the batch and each seed alone for ``iterations``; returns (batched, singles, metrics per
    iteration of both: ``[iteration][seed_index]``)."""
    per_seed = per_seed or {}
    batched = SeedBatchedA2CTrainer(*run, pool_mode=pool_mode, num_learners=num_learners, seeds=seeds,
                                    **{key: list(values) for key, values in per_seed.items()})
    singles = [A2CTrainer(*run, pool_mode=pool_mode, num_learners=num_learners, seed=seed,
                          **{key: values[index] for key, values in per_seed.items()})
               for index, seed in enumerate(seeds)]
    batched_metrics, single_metrics = [], []
    for iteration in range(iterations):
        batched_metrics.append(batched.train_unit(iteration))
        single_metrics.append([single.train_unit(iteration) for single in singles])
    return batched, singles, batched_metrics, single_metrics


def max_difference(batched_metrics, single_metrics) -> float:
    return max(abs(batched[key] - single[key])
               for batched_row, single_row in zip(batched_metrics, single_metrics)
               for batched, single in zip(batched_row, single_row) for key in single)


def assert_close_metrics(batched_metrics, single_metrics, rel=1e-5):
    for iteration, (batched_row, single_row) in enumerate(zip(batched_metrics, single_metrics)):
        for seed_index, (batched, single) in enumerate(zip(batched_row, single_row)):
            assert list(batched) == list(single), f"iteration {iteration}, seed index {seed_index}: other keys"
            for key, value in single.items():
                assert batched[key] == pytest.approx(value, rel=rel, abs=1e-7), \
                    f"iteration {iteration}, seed index {seed_index}, {key}"


def assert_same_state(batched, singles):
    """Weights, Adam states and generator of every seed equal the seed trained alone (bit for bit)."""
    for seed_index, single in enumerate(singles):
        alone, together = single.state_dict(), batched.state_dict(seed_index)
        assert set(alone) == set(together)
        for model_alone, model_together in zip(alone["models"], together["models"], strict=True):
            assert list(model_alone) == list(model_together)
            for name in model_alone:
                assert torch.equal(model_alone[name], model_together[name]), f"seed index {seed_index}: {name}"
        for optimizer_alone, optimizer_together in zip(alone["optimizers"], together["optimizers"], strict=True):
            assert optimizer_alone["param_groups"] == optimizer_together["param_groups"]
            assert set(optimizer_alone["state"]) == set(optimizer_together["state"])
            for index, entries in optimizer_alone["state"].items():
                for key, value in entries.items():
                    assert torch.equal(value, optimizer_together["state"][index][key]), f"Adam {index} {key}"
        assert torch.equal(alone["generator"], together["generator"])


def assert_same_behaviour(batched, singles, config):
    """The trained learners play a match against TFT and against each other with the same actions."""
    for seed_index, single in enumerate(singles):
        for alone, together in zip(single.players(), batched.players(seed_index), strict=True):
            first = play_match(alone, make_player("tft"), 64, torch.Generator().manual_seed(7),
                               num_rounds=config[1].num_rounds)
            second = play_match(together, make_player("tft"), 64, torch.Generator().manual_seed(7),
                                num_rounds=config[1].num_rounds)
            assert torch.equal(first["actions"], second["actions"])


def test_step1_each_seed_equals_that_seed_trained_alone_over_20_iterations():
    # Step 1: one learner vs the tabular pool, three seeds in one batch.
    config = config_for(1)
    batched, singles, batched_metrics, single_metrics = train_both(config, "tabular-only", 1, [0, 1, 2], 20)
    assert max_difference(batched_metrics, single_metrics) == 0.0  # bit-identical on CPU
    assert_close_metrics(batched_metrics, single_metrics)
    assert_same_state(batched, singles)
    assert_same_behaviour(batched, singles, config)
    # The seeds did not train alike: the batch kept them apart.
    assert batched_metrics[-1][0]["loss/value"] != batched_metrics[-1][1]["loss/value"]


def test_fig1_mixed_pool_two_learners_each_seed_equals_that_seed_trained_alone_over_20_iterations():
    config = config_for(4)
    batched, singles, batched_metrics, single_metrics = train_both(config, "mixed", 2, [5, 0], 20)
    assert set(batched_metrics[0][0]) >= {"learner_vs_learner/reward", "learner_vs_tabular/cooperation",
                                          "loss/grad_norm", "entropy_coef"}
    assert max_difference(batched_metrics, single_metrics) == 0.0
    assert_close_metrics(batched_metrics, single_metrics)
    assert_same_state(batched, singles)
    assert_same_behaviour(batched, singles, config)


@pytest.mark.parametrize("pool_mode, step, overrides", [
    ("opponent-id", 4, {}),  # the paper's identity, prepended once
    ("opponent-id", 4, {"opponent_id_input": "every_round", "history_input": "observation_action_reward"}),
    ("tabular-only", 1, {"terminal_value": "bootstrap", "advantage_averaging": "sum_rounds",
                         "updates_per_iteration": 2, "pool": "pure", "entropy_schedule": "linear:0.1,0.01,3"}),
    ("no-tabular", 4, {"td_lambda": 0.5, "policy_head_init": "small"}),
])
def test_every_setting_of_the_update_stays_equal_to_the_single_seed_trainer(pool_mode, step, overrides):
    config = config_for(step, **overrides)
    batched, singles, batched_metrics, single_metrics = train_both(config, pool_mode, 2 if step == 4 else 1,
                                                                   [1, 2], 5)
    assert max_difference(batched_metrics, single_metrics) == 0.0
    assert_same_state(batched, singles)


def test_steps_2_and_3_take_each_seeds_own_earlier_run():
    # Step 1 of two seeds, alone; Step 2 freezes each seed's own Fixed-ICL; Step 3 starts from each seed's Step 2.
    seeds = [0, 1]
    step1_config, step2_config, step3_config = config_for(1), config_for(2), config_for(3)

    def finished(trainer, run, pool_mode, num_learners, seed):
        for iteration in range(run[0].num_iterations):
            trainer.train_unit(iteration)
        return TrainedRun(config=run[0], settings=run[1], pool_mode=pool_mode, num_learners=num_learners,
                          state=trainer.state_dict(),
                          source=f"seed {seed}")

    step1 = [finished(A2CTrainer(*step1_config, pool_mode="tabular-only", num_learners=1, seed=seed), step1_config,
                      "tabular-only", 1, seed)
             for seed in seeds]
    batched2, singles2, metrics2, single_metrics2 = train_both(step2_config, "vs-frozen", 2, seeds, 3,
                                                               per_seed={"frozen_from": step1})
    assert "learner_vs_frozen/co_player_reward" in metrics2[0][0]
    assert max_difference(metrics2, single_metrics2) == 0.0
    step2 = [TrainedRun(config=step2_config[0], settings=step2_config[1], pool_mode="vs-frozen", num_learners=2,
                        state=batched2.state_dict(index), source=f"seed {seed}") for index, seed in enumerate(seeds)]
    batched3, singles3, metrics3, single_metrics3 = train_both(step3_config, "learners-only", 2, seeds, 3,
                                                               per_seed={"init_from": step2})
    assert max_difference(metrics3, single_metrics3) == 0.0
    assert_same_state(batched3, singles3)


def test_resuming_every_seed_from_its_checkpoint_continues_exactly():
    config = config_for(4)
    seeds = [3, 4]
    uninterrupted = SeedBatchedA2CTrainer(*config, pool_mode="mixed", num_learners=2, seeds=seeds)
    for iteration in range(4):
        expected = uninterrupted.train_unit(iteration)
        if iteration == 1:
            # A copy, as a checkpoint on disk is: a state dict holds the live weights.
            checkpoints = [copy.deepcopy(uninterrupted.state_dict(index)) for index in range(len(seeds))]
    resumed = SeedBatchedA2CTrainer(*config, pool_mode="mixed", num_learners=2, seeds=seeds)
    for index, checkpoint in enumerate(checkpoints):
        resumed.seed_view(index).load_state_dict(checkpoint)
    for iteration in range(2, 4):
        got = resumed.train_unit(iteration)
    assert got == expected


def test_a_checkpoint_taken_at_another_iteration_is_refused():
    config = config_for(1)
    early = SeedBatchedA2CTrainer(*config, pool_mode="tabular-only", num_learners=1, seeds=[0, 1])
    early.train_unit(0)
    late = SeedBatchedA2CTrainer(*config, pool_mode="tabular-only", num_learners=1, seeds=[0, 1])
    late.train_unit(0)
    late.train_unit(1)
    resumed = SeedBatchedA2CTrainer(*config, pool_mode="tabular-only", num_learners=1, seeds=[0, 1])
    resumed.load_state_dict(early.state_dict(0), 0)
    with pytest.raises(ValueError, match="taken 2 Adam steps but the other seeds 1"):
        resumed.load_state_dict(late.state_dict(1), 1)


def test_seed_view_is_a_trainer_for_the_harness_but_does_not_train_alone():
    batched = SeedBatchedA2CTrainer(*config_for(1), pool_mode="tabular-only", num_learners=1, seeds=[7, 8])
    view = batched.seed_view(1)
    assert isinstance(view, Trainer)
    assert (view.seed, view.num_units, view.unit_name) == (8, 3, "iteration")
    assert view.players()[0].name == "a2c_0" and view.frozen_players() == []
    with pytest.raises(RuntimeError, match=r"SeedBatchedA2CTrainer.train_unit\(0\)"):
        view.train_unit(0)


@pytest.mark.parametrize("seeds, message", [
    ([], "at least one seed"),
    ([0, 1, 0], r"distinct .* \[0\] repeated"),
    ([0, 1.5], "must be an integer, got 1.5"),
])
def test_bad_seed_lists_are_named(seeds, message):
    with pytest.raises(ValueError, match=message):
        SeedBatchedA2CTrainer(*config_for(1), pool_mode="tabular-only", num_learners=1, seeds=seeds)


def test_per_seed_arguments_and_seed_indices_are_checked():
    with pytest.raises(ValueError, match=r"frozen_from needs one entry per seed \(2\), got 1"):
        SeedBatchedA2CTrainer(*config_for(2), pool_mode="vs-frozen", num_learners=2, seeds=[0, 1],
                              frozen_players=None, frozen_from=[None])
    batched = SeedBatchedA2CTrainer(*config_for(1), pool_mode="tabular-only", num_learners=1, seeds=[4, 9])
    with pytest.raises(ValueError, match=r"seed_index must be an integer in 0..1 .* got 9"):
        batched.players(9)


def test_batched_gru_matches_torch_gru_member_by_member():
    # 3 members, T = 4 rounds, B = 32 games, K = 5 inputs, H = 16: each member's slice is torch.gru's.
    generator = torch.Generator().manual_seed(0)
    members, rounds, batch, width, hidden = 3, 4, 32, 5, 16
    inputs = torch.rand(members, rounds, batch, width, generator=generator)
    state = torch.rand(members, batch, hidden, generator=generator)
    weights = [torch.rand(members, 3 * hidden, width, generator=generator),
               torch.rand(members, 3 * hidden, hidden, generator=generator),
               torch.rand(members, 3 * hidden, generator=generator),
               torch.rand(members, 3 * hidden, generator=generator)]
    sequence = gru_sequence(inputs, state, *weights)
    for member in range(members):
        alone, _ = torch.gru(inputs[member], state[member].unsqueeze(0), [weight[member] for weight in weights],
                             True, 1, 0.0, False, False, False)
        assert torch.equal(sequence[member], alone)
        cell = torch.gru_cell(inputs[member, 0], state[member], *(weight[member] for weight in weights))
        assert torch.equal(gru_cell(inputs[:, 0], state, *weights)[member], cell)


def test_the_seed_batching_benchmark_prints_its_table_quickly(capsys):
    # benchmarks/seed_batching.py --quick: B = 32, 10 rounds, N = 1 and 2 (no timing asserts).
    rows = load_script(BENCHMARK, "seed_batching").main(["--quick"])
    assert [(batch, num_seeds) for batch, num_seeds, _ in rows] == [(32, 1), (32, 2)]
    assert all(rate > 0 for *_, rates in rows for pair in rates.values() for rate in pair)
    assert "| B | seeds N | batched agent-steps/s (wall) |" in capsys.readouterr().out
