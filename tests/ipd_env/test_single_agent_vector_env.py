"""The native Gymnasium vector env: same game as N single envs, next-step autoreset, seeding, errors."""
import gymnasium
import numpy as np
import pytest

import ipd_env  # noqa: F401  (registers the Gymnasium id)
from ipd_env.single_agent import IPDvsCoPlayerEnv
from ipd_env.single_agent_vector import IPDvsCoPlayerVectorEnv


@pytest.mark.parametrize("co_player", ["tft", "wsls", "stft", "alld"])
def test_matches_single_envs_against_deterministic_co_players(co_player):
    num_envs, max_cycles = 8, 6
    vector = gymnasium.make_vec("ipd_env/IPDvsCoPlayer-v0", num_envs=num_envs, co_player=co_player,
                                max_cycles=max_cycles)
    assert isinstance(vector, IPDvsCoPlayerVectorEnv)
    singles = [IPDvsCoPlayerEnv(co_player=co_player, max_cycles=max_cycles) for _ in range(num_envs)]
    observations, _ = vector.reset(seed=0)
    assert observations.tolist() == [single.reset(seed=0)[0].tolist() for single in singles]
    learner = np.random.default_rng(1)
    for _ in range(max_cycles):
        actions = learner.integers(0, 2, num_envs)
        observations, rewards, terminations, truncations, infos = vector.step(actions)
        for index, single in enumerate(singles):
            observation, reward, terminated, truncated, info = single.step(int(actions[index]))
            assert observations[index].tolist() == observation.tolist()
            assert rewards[index] == reward
            assert (terminations[index], truncations[index]) == (terminated, truncated)
            assert infos["co_player_action"][index] == info["co_player_action"]
            assert infos["co_player_reward"][index] == info["co_player_reward"]
    assert truncations.all()


def test_next_step_autoreset_returns_start_with_zero_reward():
    vector = IPDvsCoPlayerVectorEnv(3, co_player="allc", max_cycles=2)
    vector.reset(seed=0)
    vector.step(np.array([1, 1, 1]))
    _, rewards, _, truncations, _ = vector.step(np.array([1, 1, 1]))
    assert rewards.tolist() == [2.0] * 3 and truncations.all()
    observations, rewards, terminations, truncations, _ = vector.step(np.array([0, 0, 0]))  # actions ignored
    assert observations.argmax(axis=1).tolist() == [0, 0, 0]
    assert rewards.tolist() == [0.0] * 3 and not terminations.any() and not truncations.any()
    observations, rewards, *_ = vector.step(np.array([0, 1, 0]))
    assert observations.argmax(axis=1).tolist() == [1, 3, 1] and rewards.tolist() == [1.0, 2.0, 1.0]


def test_pool_is_seeded_and_draws_per_env_and_episode():
    def run(seed):
        vector = IPDvsCoPlayerVectorEnv(64, opponent_id=True, max_cycles=3)
        observations, _ = vector.reset(seed=seed)
        trace = [observations.copy()]
        for _ in range(4):  # 3 rounds, then the autoreset draws new co-players
            trace.append(vector.step(np.ones(64, dtype=np.int64))[0])
        return trace

    first, second, other = run(4), run(4), run(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], other[0])
    identities, after_autoreset = first[0][:, 5:], first[4][:, 5:]
    assert len({tuple(row) for row in identities}) == 64  # each env its own co-player
    assert not np.array_equal(identities, after_autoreset)  # a new draw per episode
    assert identities.max() <= 0.0


def test_co_player_cooperation_rate_matches_its_probability():
    vector = IPDvsCoPlayerVectorEnv(4096, co_player=[0.3] * 5, max_cycles=10)
    vector.reset(seed=0)
    cooperations = [1 - vector.step(np.zeros(4096, dtype=np.int64))[4]["co_player_action"] for _ in range(10)]
    # 40,960 Bernoulli(0.3) draws: standard error 0.0023, tolerance 0.01 is over 4 standard errors.
    assert abs(np.mean(cooperations) - 0.3) < 0.01


def test_discrete_observations_with_opponent_id_fit_the_batched_space():
    vector = IPDvsCoPlayerVectorEnv(5, co_player="tft", obs_type="discrete", opponent_id=True)
    observations, _ = vector.reset(seed=0)
    assert vector.observation_space.contains(observations)
    observations, *_ = vector.step(np.array([0, 1, 0, 1, 0]))
    assert observations["observation"].tolist() == [1, 3, 1, 3, 1]
    assert vector.observation_space.contains(observations)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"co_player": "grim"}, ValueError, r"grim is stateful.*vectorization_mode='sync'"),
        ({"co_player": object()}, TypeError, r"memory-1 co-players only"),
        ({"co_player": np.full((3, 5), 0.5)}, ValueError, r"shape \[5\] or \[num_envs=4, 5\], got \(3, 5\)"),
        ({"render_mode": "ansi"}, ValueError, r"does not render"),
    ],
)
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        IPDvsCoPlayerVectorEnv(4, **kwargs)


@pytest.mark.parametrize(
    "actions, message",
    [(np.array([0, 2, 0]), r"action for env 1 must be 0 \(cooperate\) or 1 \(defect\), got 2"),
     (np.array([0.0, 1.0, 0.0]), r"got shape \(3,\) dtype float64"),
     (np.array([0, 1]), r"got shape \(2,\)")],
)
def test_bad_actions_raise(actions, message):
    vector = IPDvsCoPlayerVectorEnv(3)
    vector.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        vector.step(actions)
