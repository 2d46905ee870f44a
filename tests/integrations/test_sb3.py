"""Stable-Baselines3 baselines: seeded shared PPO, RecurrentPPO learning to exploit AllC, the mixed pool."""
import math

import pytest
import torch

pytest.importorskip("stable_baselines3", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
pytest.importorskip("supersuit", reason="needs the [sb3] extra: pip install -e '.[sb3]'")

from baselines.sb3 import (
    MixedCoPlayer,
    SB3Player,
    evaluate_sb3,
    policy_fingerprint,
    train_recurrent_ppo,
    train_shared_ppo,
)
from baselines.tabular import MemoryOnePlayer, make_player
from ipd_env.player import play_episodes


def test_shared_ppo_on_supersuit_is_seeded_and_learns_to_defect():
    first = train_shared_ppo(6000, seed=3)
    second = train_shared_ppo(6000, seed=3)
    assert policy_fingerprint(first) == policy_fingerprint(second)
    evaluation = evaluate_sb3(first, seed=0, num_games=128)
    opponents = evaluation["learners"][0]["opponents"]
    assert set(opponents) == {"allc", "alld", "tft", "wsls", "extort2", "pool", "learner"}
    for summary in opponents.values():
        assert math.isfinite(summary["reward"]) and 0.0 <= summary["cooperation"] <= 1.0
    # Self-play on the one-shot-like memory-1 policy drifts to defection (starts at 0.5).
    assert opponents["allc"]["cooperation"] < 0.35


def test_recurrent_ppo_against_allc_ends_defecting():
    model = train_recurrent_ppo(8000, co_player="allc", seed=0)
    allc = evaluate_sb3(model, seed=0, num_games=128, self_play=False)["learners"][0]["opponents"]["allc"]
    # Against AllC every defection earns 2 instead of 1: a random policy cooperates half the time.
    assert allc["cooperation"] < 0.2
    assert allc["reward"] > 1.7


def test_mixed_pool_draws_tabular_and_frozen_copies_and_refreshes():
    model = train_recurrent_ppo(2000, co_player="mixed", seed=1, num_envs=2, refresh_every_rollouts=2)
    counts = model.mixed_co_player.counts
    assert counts["tabular"] > 0 and counts["frozen"] > 0
    assert sum(counts.values()) >= 2000 // 100  # one co-player per 100-round episode
    # 2000 steps / (2 envs * 100 steps) = 10 rollouts, a refresh every 2nd.
    assert model.refresh_callback.refreshes == 5
    # Refreshed at the end of rollout 10, before that rollout's update: one update behind.
    frozen = model.mixed_co_player.frozen_policy.state_dict()
    assert any(not torch.equal(value, frozen[name]) for name, value in model.policy.state_dict().items())


def test_mixed_co_player_fraction_is_respected():
    factory = MixedCoPlayer(frozen_policy=None, tabular_fraction=1.0)
    generator = torch.Generator().manual_seed(0)
    players = [factory(generator) for _ in range(10)]
    assert all(isinstance(player, MemoryOnePlayer) for player in players)
    with pytest.raises(ValueError, match="tabular_fraction must lie in \\[0, 1\\], got 1.5"):
        MixedCoPlayer(None, 1.5)


def test_sb3_player_plays_seeded_games_in_batched_env():
    model = train_recurrent_ppo(400, co_player="pool", seed=2, num_envs=1)
    player = SB3Player(model.policy)

    def actions(seed):
        return play_episodes((player, make_player("tft")), num_games=8, num_rounds=20, seed=seed)["actions"][0]

    assert torch.equal(actions(4), actions(4))
    assert actions(4).shape == (20, 8)
    with pytest.raises(RuntimeError, match="before reset"):
        SB3Player(model.policy).act(torch.zeros(1, dtype=torch.int64), torch.zeros(1))
