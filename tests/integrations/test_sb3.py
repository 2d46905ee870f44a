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


# ---------------------------------------------------------------------------- tensorboard_log, progress_bar
def scalar_tags(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {tag: [event.step for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_log_writes_sb3_scalars_against_steps(tmp_path):
    pytest.importorskip("tensorboard", reason="needs the [plot] extra: pip install -e '.[plot]'")
    train_shared_ppo(400, seed=0, num_envs=1, max_cycles=10, tensorboard_log=str(tmp_path / "shared"))
    train_recurrent_ppo(200, co_player="allc", seed=0, num_envs=1, max_cycles=10, tensorboard_log=tmp_path / "lstm")
    # Shared PPO: one rollout of 200 steps x 2 agent-envs, logged at 400 agent-steps.
    assert scalar_tags(tmp_path / "shared" / "PPO_1")["time/fps"] == [400]
    # RecurrentPPO: two rollouts of 100 learner steps; the episodes of 10 rounds are in rollout/.
    tags = scalar_tags(tmp_path / "lstm" / "RecurrentPPO_1")
    assert tags["time/fps"] == [100, 200] and tags["rollout/ep_rew_mean"] == [100, 200]


@pytest.mark.parametrize("train", [train_shared_ppo, train_recurrent_ppo])
def test_missing_tensorboard_is_one_error_naming_the_plot_extra(monkeypatch, tmp_path, train):
    import sys

    from baselines.optional import MissingExtraError

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # makes `import tensorboard` raise ImportError
    built = []
    monkeypatch.setattr("baselines.sb3.set_random_seed", lambda seed: built.append(seed))  # the first step of both
    with pytest.raises(MissingExtraError) as error:
        train(200, tensorboard_log=str(tmp_path / "tb"))
    message = str(error.value)
    assert "\n" not in message and "'tensorboard' is not installed" in message
    assert "tensorboard_log= of the SB3 baselines" in message and "pip install 'ipd-env[plot]'" in message
    assert built == [] and not (tmp_path / "tb").exists()  # refused before anything was built or written


def test_unusable_torch_tensorboard_is_the_same_error(monkeypatch, tmp_path):
    from stable_baselines3.common import logger

    from baselines.optional import MissingExtraError

    monkeypatch.setattr(logger, "SummaryWriter", None)  # what SB3 holds when torch.utils.tensorboard fails
    with pytest.raises(MissingExtraError, match=r"'tensorboard' is not usable.*pip install 'ipd-env\[plot\]'"):
        train_recurrent_ppo(200, tensorboard_log=str(tmp_path))


class FakeTqdm:
    """Stands in for ``tqdm.rich.tqdm`` in SB3's progress bar (rich is not a dependency of ours)."""

    instances = []

    def __init__(self, total):
        self.total, self.count, self.closed = total, 0, False
        FakeTqdm.instances.append(self)

    def update(self, steps):
        self.count += steps

    def refresh(self):
        pass

    def close(self):
        self.closed = True


def test_progress_bar_is_passed_to_learn(monkeypatch):
    from stable_baselines3.common import callbacks

    monkeypatch.setattr(callbacks, "tqdm", FakeTqdm)
    FakeTqdm.instances.clear()
    train_shared_ppo(400, seed=0, num_envs=1, max_cycles=10, progress_bar=True)
    train_shared_ppo(400, seed=0, num_envs=1, max_cycles=10)
    [bar] = FakeTqdm.instances  # the second run, without progress_bar, draws none
    assert (bar.total, bar.count, bar.closed) == (400, 400, True)


def test_progress_bar_without_tqdm_rich_and_bad_values_fail_before_training(monkeypatch, tmp_path):
    from stable_baselines3.common import callbacks

    monkeypatch.setattr(callbacks, "tqdm", None)  # what SB3 holds without rich
    with pytest.raises(ImportError, match=r"progress_bar=True needs tqdm and rich.*pip install tqdm rich"):
        train_recurrent_ppo(200, progress_bar=True)
    with pytest.raises(ValueError, match="progress_bar must be True or False, got 'yes'"):
        train_shared_ppo(400, progress_bar="yes")
    with pytest.raises(ValueError, match="tensorboard_log must be a folder path or None, got 3"):
        train_shared_ppo(400, tensorboard_log=3)
