"""Pools in play: the in-context gain of players that play in the batched env (not computed
exactly), and the training pool and PPI's pretraining drawing from a pool distribution."""
import numpy as np
import pytest
import torch

from baselines.incontext import ZOO_POOL_MEMBERS, evaluation_set, gain_report, oracle_values
from baselines.tabular import MemoryOnePlayer, named_probabilities, opponent_log_policy, sample_memory_one
from ipd_env.player import play_match

REPEATS = 32  # episodes per co-player: the mean reward of 8,192 games has a standard error ~0.002


def played_rewards(reply_rows: torch.Tensor, co_players: torch.Tensor, seed: int = 0) -> np.ndarray:
    """``[N]`` mean per-round reward of ``reply_rows[i]`` against ``co_players[i]`` over REPEATS episodes."""
    count = co_players.shape[0]
    player = MemoryOnePlayer(reply_rows.repeat(REPEATS, 1), name="reply")
    co_player = MemoryOnePlayer(co_players.repeat(REPEATS, 1), name="pool")
    result = play_match(player, co_player, count * REPEATS, torch.Generator().manual_seed(seed))
    per_game = result["rewards"][0].double().mean(dim=0)  # [REPEATS * N]
    return per_game.reshape(REPEATS, count).mean(dim=0).numpy()


@pytest.mark.parametrize("pool", ["uniform", "sharpened:3"])
def test_a_player_playing_each_co_players_oracle_reply_in_the_env_earns_gain_fraction_one(pool):
    co_players = evaluation_set(pool, size=256, seed=0)
    oracle = oracle_values(co_players)
    replies = torch.as_tensor(oracle["oracle_policy"], dtype=torch.float32)
    report = gain_report(played_rewards(replies, co_players), oracle)
    # The prize is ~0.05 (uniform) or ~0.2 (sharpened) per round; sampling error in the
    # gain fraction is ~0.03 and ~0.01: 0.15 is about five standard errors.
    assert report["gain_fraction"] == pytest.approx(1.0, abs=0.15)
    always_defect = gain_report(played_rewards(torch.zeros_like(co_players), co_players, seed=1), oracle)
    assert always_defect["gain_fraction"] == pytest.approx(0.0, abs=0.15)


class IdentityRecorder(MemoryOnePlayer):
    """Always cooperates and remembers the identity vectors the pool hands it."""

    def __init__(self):
        super().__init__([1.0] * 5, name="recorder")
        self.identities = None

    def reset(self, num_games, generator=None, opponent_identity=None):
        super().reset(num_games, generator)
        self.identities = opponent_identity


def test_training_pool_draws_its_tabular_co_players_from_the_pool_distribution():
    from agents.pool import KIND_TABULAR, TrainingPool

    pool = TrainingPool("opponent-id", 2, 16, num_rounds=5, pool="pure")
    learners = [IdentityRecorder(), IdentityRecorder()]
    trajectories, _ = pool.play(learners, torch.Generator().manual_seed(0))
    drawn = pool.tabular.cooperation_probabilities  # [16, 5]: 8 tabular games per learner
    assert set(drawn.unique().tolist()) == {0.0, 1.0}
    assert pool.tabular.name == "memory-1 pool pure"
    for learner, trajectory in enumerate(trajectories):
        tabular = trajectory.co_player_kind == KIND_TABULAR
        # The identity vector follows the drawn co-player: log 1 = 0, log(1e-6) = -13.8.
        expected = opponent_log_policy(drawn[learner * 8:(learner + 1) * 8])
        assert torch.equal(trajectory.opponent_identity[tabular], expected)
        # Against a learner that always cooperates, a pure co-player opens with its start
        # entry, then plays its CC entry after it cooperated and its DC entry after it defected.
        rows = drawn[learner * 8:(learner + 1) * 8]
        observation = torch.zeros(8, dtype=torch.int64)  # START
        for round_index in range(5):
            expected_cooperation = rows.gather(1, observation[:, None]).squeeze(1)
            assert torch.equal((trajectory.co_player_actions[round_index, tabular] == 0).float(), expected_cooperation)
            observation = torch.where(expected_cooperation == 1, 1, 3)  # CC or DC


def test_training_pool_default_draws_the_papers_uniform_pool_unchanged():
    from agents.pool import TrainingPool

    pool = TrainingPool("tabular-only", 1, 8, num_rounds=3)
    pool.play([MemoryOnePlayer([1.0] * 5)], torch.Generator().manual_seed(4))
    assert torch.equal(pool.tabular.cooperation_probabilities, sample_memory_one(8, torch.Generator().manual_seed(4)))
    assert pool.pool_distribution.spec == "uniform" and pool.tabular.name == "uniform-memory-1"


def test_training_pool_refuses_a_bad_pool_spec():
    from agents.pool import TrainingPool

    with pytest.raises(ValueError, match="bad pool spec 'sharpened:-1'"):
        TrainingPool("tabular-only", 1, 8, pool="sharpened:-1")


def test_ppi_pretraining_games_follow_the_pool():
    from agents.ppi.collect import pretraining_episodes

    default = pretraining_episodes(8, "tabular", 4, torch.Generator().manual_seed(2))
    uniform = pretraining_episodes(8, "tabular", 4, torch.Generator().manual_seed(2), pool="uniform")
    assert all(torch.equal(default[key], uniform[key]) for key in default)
    zoo = pretraining_episodes(200, "tabular", 4, torch.Generator().manual_seed(2), pool="zoo")
    # Identities are log pi(a | o) of zoo members: every row is one of the nine classics'.
    members = opponent_log_policy(torch.tensor(np.array([named_probabilities(name) for name in ZOO_POOL_MEMBERS]),
                                       dtype=torch.float32))
    matches = (zoo["identity"][:, None, :] == members[None]).all(dim=2)
    assert matches.any(dim=1).all() and matches.any(dim=0).all()


@pytest.mark.parametrize("algorithm", ["a2c", "ppi"])
def test_the_pool_setting_is_checked_and_made_canonical_when_the_run_is_made(algorithm):
    from agents.algorithm import RunSettings
    from agents.harness.algorithms import get_algorithm

    assert RunSettings().pool == "uniform"
    assert RunSettings(pool=" Beta: 2, 2.0").pool == "beta:2,2"
    assert get_algorithm(algorithm).make_settings("test", 1, {"pool": " Beta: 2, 2.0"}).pool == "beta:2,2"
    with pytest.raises(ValueError, match=r"^run setting pool: bad pool spec 'gauss'.*accepted forms"):
        get_algorithm(algorithm).make_run("test", 1, {"pool": "gauss"})
