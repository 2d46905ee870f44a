"""The training pool: who plays whom, hand-checkable rewards, seeding, and clear errors."""
import pytest
import torch

from agents.pool import KIND_LEARNER, KIND_TABULAR, TrainingPool, pool_metrics
from baselines.tabular import make_player


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


def test_mixed_pool_gives_each_learner_half_learner_half_tabular_games():
    pool = TrainingPool("mixed", num_learners=2, games_per_learner=8, num_rounds=5)
    trajectories, metrics = pool.play([make_player("alld"), make_player("allc")], generator())
    first, second = trajectories
    assert first.observation_index.shape == (5, 8)
    assert (first.co_player_kind == KIND_LEARNER).sum() == 4 and (first.co_player_kind == KIND_TABULAR).sum() == 4
    # AllD (learner 0) meets AllC (learner 1) in the shared games: 2 vs -1 every round.
    shared = first.co_player_kind == KIND_LEARNER
    assert torch.all(first.rewards[:, shared] == 2.0) and torch.all(second.rewards[:, shared] == -1.0)
    assert torch.all(first.co_player_actions[:, shared] == 0) and torch.all(second.co_player_actions[:, shared] == 1)
    assert metrics["learner_vs_learner/cooperation"] == pytest.approx(0.5)  # AllD never, AllC always
    assert metrics["learner_vs_learner/reward"] == pytest.approx(0.5)  # (2 + -1) / 2
    assert first.observation_index[0].eq(0).all()  # START before round 1
    assert first.observation_index[1, shared].eq(3).all()  # DC: I defected, they cooperated


def test_vs_frozen_rewards_and_co_player_metrics():
    pool = TrainingPool("vs-frozen", num_learners=1, games_per_learner=6, num_frozen=1, num_rounds=4)
    trajectories, metrics = pool.play([make_player("tft")], generator(), frozen=[make_player("alld")])
    # TFT vs AllD: (C, D) then (D, D) forever: rewards -1, 0, 0, 0.
    assert trajectories[0].rewards[:, 0].tolist() == [-1.0, 0.0, 0.0, 0.0]
    assert metrics["learner_vs_frozen/reward"] == pytest.approx(-0.25)
    assert metrics["learner_vs_frozen/co_player_reward"] == pytest.approx(0.5)
    assert metrics["learner_vs_frozen/co_player_cooperation"] == 0.0


def test_same_generator_seed_gives_same_games():
    pool = TrainingPool("tabular-only", num_learners=1, games_per_learner=16, num_rounds=10)
    first, _ = pool.play([make_player("random")], generator(3))
    second, _ = pool.play([make_player("random")], generator(3))
    assert torch.equal(first[0].actions, second[0].actions) and torch.equal(first[0].rewards, second[0].rewards)


def test_pool_metrics_average_over_all_rounds():
    pool = TrainingPool("no-tabular", num_learners=2, games_per_learner=2, num_rounds=3)
    trajectories, _ = pool.play([make_player("allc"), make_player("allc")], generator())
    assert pool_metrics(trajectories) == {"learner_vs_learner/reward": 1.0, "learner_vs_learner/cooperation": 1.0}


@pytest.mark.parametrize("mode, learners, games, frozen, message", [
    ("mixed", 2, 7, 0, "multiple of 2"),
    ("mixed", 3, 6, 0, "divisible by 2"),
    ("mixed", 1, 8, 0, "num_learners >= 2"),
    ("vs-frozen", 1, 8, 0, "at least one frozen"),
    ("nonsense", 2, 8, 0, "known modes: mixed"),
])
def test_bad_pool_settings_name_the_problem(mode, learners, games, frozen, message):
    with pytest.raises(ValueError, match=message):
        TrainingPool(mode, learners, games, num_frozen=frozen)
