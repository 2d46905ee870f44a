"""The Gymnasium env against a co-player: checkers, co-players in visible rounds, seeding, opponent ID, errors."""
import math
import pickle
import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import ipd_env  # noqa: F401  (registers the Gymnasium id)
from baselines.tabular import GrimTrigger, MemoryOnePlayer
from ipd_env.single_agent import IPDvsCoPlayerEnv

C, D = 0, 1
CHECKED_CONFIGS = [
    {},
    {"co_player": "tft"},
    {"co_player": "grim"},
    {"opponent_id": True},
    {"obs_type": "discrete"},
    {"obs_type": "discrete", "opponent_id": True},
    {"co_player": [0.1, 0.2, 0.3, 0.4, 0.5], "payoffs": "axelrod"},
]


def learner_rounds(env, actions):
    """(own observation index, reward, co-player action, truncated) per round."""
    rounds = []
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        assert terminated is False
        rounds.append((int(np.argmax(observation[:5])), reward, info["co_player_action"], truncated))
    return rounds


@pytest.mark.parametrize("kwargs", CHECKED_CONFIGS, ids=[str(config) for config in CHECKED_CONFIGS])
def test_gymnasium_checker_passes(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker may not even warn
        check_env(IPDvsCoPlayerEnv(**kwargs), skip_render_check=True)


@pytest.mark.parametrize("kwargs", CHECKED_CONFIGS, ids=[str(config) for config in CHECKED_CONFIGS])
def test_sb3_checker_passes(kwargs):
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker",
                                      reason="needs the [sb3] extra: pip install -e '.[sb3]'")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker may not even warn
        env_checker.check_env(IPDvsCoPlayerEnv(**kwargs), warn=True)


def test_gymnasium_make_with_arguments():
    env = gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player="alld", max_cycles=3)
    observation, info = env.reset(seed=0)
    assert observation.tolist() == [1, 0, 0, 0, 0] and info["co_player"] == "alld"
    assert learner_rounds(env, [C, D, C]) == [(2, -1.0, D, False), (4, 0.0, D, False), (2, -1.0, D, True)]


def test_tit_for_tat_copies_the_learner():
    env = IPDvsCoPlayerEnv(co_player="tft", max_cycles=5)
    env.reset(seed=1)
    # TFT: C first, then the learner's last move.  (obs, reward, tft's action, truncated)
    assert learner_rounds(env, [D, D, C, C, D]) == [
        (3, 2.0, C, False),
        (4, 0.0, D, False),
        (2, -1.0, D, False),
        (1, 1.0, C, False),
        (3, 2.0, C, True),
    ]
    with pytest.raises(RuntimeError, match=r"after the episode ended \(5 rounds played\)"):
        env.step(C)


def test_grim_trigger_through_the_torch_player_path():
    env = IPDvsCoPlayerEnv(co_player=GrimTrigger(), max_cycles=4)
    env.reset(seed=0)
    assert [co for _, _, co, _ in learner_rounds(env, [C, D, C, C])] == [C, C, D, D]


def test_factory_is_called_every_episode_with_a_generator():
    calls = []

    def factory(generator):
        assert isinstance(generator, torch.Generator)
        calls.append(generator.initial_seed())
        return MemoryOnePlayer([1, 1, 1, 1, 1], name="cooperator")

    env = IPDvsCoPlayerEnv(co_player=factory, max_cycles=2)
    env.reset(seed=5)
    env.reset()
    assert len(calls) == 2 and calls[0] != calls[1]
    assert learner_rounds(env, [D, D]) == [(3, 2.0, C, False), (3, 2.0, C, True)]


def test_same_seed_same_episode_against_the_pool():
    def episode(seed):
        env = IPDvsCoPlayerEnv(max_cycles=40, opponent_id=True)
        observation, info = env.reset(seed=seed)
        learner = np.random.default_rng(123)
        trace = [observation.tolist(), info["co_player_probabilities"].tolist()]
        for _ in range(40):
            observation, reward, _, _, info = env.step(int(learner.integers(2)))
            trace.append((observation.tolist(), reward, info["co_player_action"]))
        return trace

    assert episode(11) == episode(11)
    assert episode(11) != episode(12)


def test_pool_draws_a_fresh_uniform_co_player_each_episode():
    env = IPDvsCoPlayerEnv()
    env.reset(seed=0)
    draws = np.array([env.reset()[1]["co_player_probabilities"] for _ in range(400)])
    assert draws.shape == (400, 5) and ((draws >= 0) & (draws <= 1)).all()
    assert len({tuple(row) for row in draws}) == 400
    # Mean of 2000 U(0, 1) draws: 0.5 +- 3 * 0.289 / sqrt(2000) = 0.5 +- 0.019.
    assert abs(draws.mean() - 0.5) < 0.019


def test_opponent_id_is_log_cooperation_probabilities():
    env = IPDvsCoPlayerEnv(co_player="tft", opponent_id=True)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (10,) and observation.dtype == np.float32
    assert observation[:5].tolist() == [1, 0, 0, 0, 0]
    log_floor = math.log(1e-6)
    np.testing.assert_allclose(observation[5:], [0, 0, log_floor, 0, log_floor], rtol=1e-6)
    assert env.observation_space.contains(observation)

    discrete = IPDvsCoPlayerEnv(co_player=[0.5, 0.25, 1, 1, 1], obs_type="discrete", opponent_id=True)
    observation, _ = discrete.reset(seed=0)
    assert observation["observation"] == 0
    np.testing.assert_allclose(observation["opponent_id"], np.log([0.5, 0.25, 1, 1, 1]), rtol=1e-6)

    learner_like = IPDvsCoPlayerEnv(co_player="grim", opponent_id=True)
    assert learner_like.reset(seed=0)[0][5:].tolist() == [0.0] * 5  # z = 0 without cooperation probabilities


def test_render_ansi_names_the_co_player():
    env = IPDvsCoPlayerEnv(co_player="alld", render_mode="ansi", max_cycles=10)
    env.reset(seed=0)
    env.step(C)
    assert env.render() == (
        "round 1/10: player_0 (learner) C, player_1 (alld) D | rewards -1, 2 | "
        "totals player_0 (learner) -1, player_1 (alld) 2"
    )


def test_pickle_round_trip_keeps_the_episode():
    env = IPDvsCoPlayerEnv(max_cycles=20)
    env.reset(seed=3)
    env.step(C)
    copy = pickle.loads(pickle.dumps(env))
    assert learner_rounds(copy, [C, D, D, C]) == learner_rounds(env, [C, D, D, C])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"co_player": "tit-for-two-tats"}, ValueError, r"unknown co-player 'tit-for-two-tats'"),
        ({"co_player": [0.5, 1.5, 0, 0, 0]}, ValueError, r"must lie in \[0, 1\], got \[1\.5\]"),
        ({"co_player": 42}, TypeError, r"co_player must be 'pool'.*got 42"),
        ({"max_cycles": -3}, ValueError, r"positive integer, got -3"),
        ({"obs_type": "image"}, ValueError, r"got 'image'"),
        ({"opponent_id": "yes"}, TypeError, r"opponent_id must be True or False, got 'yes'"),
        ({"payoffs": [[1, 2], [3]]}, ValueError, r"payoffs"),
    ],
)
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        IPDvsCoPlayerEnv(**kwargs)


@pytest.mark.parametrize(
    "action, error, message",
    [(2, ValueError, r"'player_0' must be 0 \(cooperate\) or 1 \(defect\), got 2"), (0.5, TypeError, r"got 0\.5")],
)
def test_bad_learner_action_raises(action, error, message):
    env = IPDvsCoPlayerEnv()
    env.reset(seed=0)
    with pytest.raises(error, match=message):
        env.step(action)


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        IPDvsCoPlayerEnv().step(C)


def test_co_player_returning_a_bad_action_raises():
    class Broken:
        name = "broken"

        def reset(self, num_games, generator=None):
            pass

        def act(self, observation, reward):
            return torch.tensor([3])

    env = IPDvsCoPlayerEnv(co_player=Broken())
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"'player_1 \(broken\)' must be 0 \(cooperate\) or 1 \(defect\), got 3"):
        env.step(C)


def test_a_co_player_factory_of_the_wrong_signature_is_refused_at_construction():
    from ipd_env.single_agent import IPDvsCoPlayerEnv
    with pytest.raises(TypeError, match="co_player: a co-player factory is called as factory\\(generator\\)"):
        IPDvsCoPlayerEnv(co_player=lambda: None)
