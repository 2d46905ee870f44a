"""The PettingZoo env: API conformance, the game in visible rounds, errors, render, pickling, registry."""
import pickle
import warnings

import numpy as np
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

import ipd_env
from ipd_env import ipd_v0
from ipd_env.ipd import IPDParallelEnv

C, D = 0, 1


def play(env, joint_actions):
    """Step ``env`` through ``[(a0, a1), ...]``; returns per round (obs_0, obs_1, r_0, r_1, truncated)."""
    rounds = []
    for action_0, action_1 in joint_actions:
        observations, rewards, terminations, truncations, _ = env.step({"player_0": action_0, "player_1": action_1})
        assert terminations == {"player_0": False, "player_1": False}
        rounds.append(
            (
                int(np.argmax(observations["player_0"])),
                int(np.argmax(observations["player_1"])),
                rewards["player_0"],
                rewards["player_1"],
                truncations["player_0"],
            )
        )
    return rounds


# ---------------------------------------------------------------- PettingZoo's own tests
@pytest.mark.parametrize("obs_type", ["one_hot", "discrete"])
def test_parallel_api_test(obs_type):
    parallel_api_test(ipd_v0.parallel_env(obs_type=obs_type), num_cycles=300)


def test_aec_api_test_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api_test(ipd_v0.env(), num_cycles=300)


def test_aec_api_test_discrete_observations():
    # The discrete view hands out numpy int64 scalars (not arrays), which api_test only warns about.
    with pytest.warns(UserWarning, match="Observation is not a NumPy array"):
        api_test(ipd_v0.env(obs_type="discrete"), num_cycles=50)


def test_pettingzoo_seed_tests():
    parallel_seed_test(ipd_v0.parallel_env, num_cycles=200)
    seed_test(ipd_v0.env, num_cycles=200)


def test_pettingzoo_max_cycles_render_and_state_tests(capsys):
    max_cycles_test(ipd_v0)
    render_test(ipd_v0.env, custom_tests={"ansi": lambda text: text.startswith("round ")})
    state_test(ipd_v0.env(), ipd_v0.parallel_env())
    assert "round 4/100: player_0" in capsys.readouterr().out  # human mode printed the rounds


def test_same_seed_same_multi_round_trajectory():
    def trajectory(seed):
        env = ipd_v0.parallel_env(max_cycles=30)
        observations, _ = env.reset(seed=seed)
        history = []
        while env.agents:
            actions = {agent: env.action_space(agent).sample() for agent in env.agents}
            observations, rewards, _, truncations, infos = env.step(actions)
            history.append(
                (tuple(observations["player_0"]), tuple(observations["player_1"]), rewards["player_0"],
                 rewards["player_1"], truncations["player_0"], infos["player_0"]["round"])
            )
        return history

    first, second, other = trajectory(7), trajectory(7), trajectory(8)
    assert len(first) == 30
    assert first == second
    assert first != other  # 30 rounds of 4 joint actions: equal by chance with probability 4**-30


# ---------------------------------------------------------------- the game, round by round
def test_first_person_observations_and_paper_rewards():
    env = ipd_v0.parallel_env(max_cycles=4)
    observations, infos = env.reset()
    assert observations["player_0"].tolist() == [1, 0, 0, 0, 0]  # START
    assert observations["player_0"].dtype == np.float32
    assert infos == {"player_0": {"round": 0}, "player_1": {"round": 0}}
    # (own obs index, other's obs index, r0, r1, truncated): CC=1, CD=2, DC=3, DD=4 in each one's own frame
    assert play(env, [(C, C), (C, D), (D, C), (D, D)]) == [
        (1, 1, 1.0, 1.0, False),
        (2, 3, -1.0, 2.0, False),
        (3, 2, 2.0, -1.0, False),
        (4, 4, 0.0, 0.0, True),
    ]
    assert env.agents == []


def test_rewards_are_python_floats_and_flags_python_bools():
    env = ipd_v0.parallel_env(max_cycles=1)
    env.reset()
    _, rewards, terminations, truncations, infos = env.step({"player_0": np.int64(1), "player_1": 0})
    assert type(rewards["player_0"]) is float and rewards == {"player_0": 2.0, "player_1": -1.0}
    assert type(terminations["player_0"]) is bool and type(truncations["player_1"]) is bool
    assert truncations == {"player_0": True, "player_1": True}
    assert infos["player_1"] == {"round": 1}


@pytest.mark.parametrize(
    "payoffs, expected_cd_rewards",
    [("axelrod", (0.0, 5.0)), ("lola", (-3.0, 0.0)), ((3, 0, 5, 1), (0.0, 5.0))],
)
def test_payoff_presets(payoffs, expected_cd_rewards):
    env = ipd_v0.parallel_env(payoffs=payoffs)
    env.reset()
    _, rewards, _, _, _ = env.step({"player_0": C, "player_1": D})
    assert (rewards["player_0"], rewards["player_1"]) == expected_cd_rewards


def test_asymmetric_bimatrix_rewards_each_player_its_own_entry():
    # table[a0][a1] = (reward of player_0, reward of player_1)
    bimatrix = [[(1, 10), (2, 20)], [(3, 30), (4, 40)]]
    env = ipd_v0.parallel_env(payoffs=bimatrix)
    env.reset()
    rounds = play(env, [(C, C), (C, D), (D, C), (D, D)])
    assert [(r0, r1) for _, _, r0, r1, _ in rounds] == [(1, 10), (2, 20), (3, 30), (4, 40)]


def test_discrete_observations_are_int64_indices():
    env = ipd_v0.parallel_env(obs_type="discrete")
    observations, _ = env.reset()
    assert observations == {"player_0": 0, "player_1": 0}
    observations, *_ = env.step({"player_0": D, "player_1": C})
    assert type(observations["player_0"]) is np.int64
    assert (observations["player_0"], observations["player_1"]) == (3, 2)
    assert env.observation_space("player_0").contains(observations["player_0"])


def test_mutating_an_observation_does_not_change_later_ones():
    env = ipd_v0.parallel_env()
    observations, _ = env.reset()
    observations["player_0"][:] = 7.0
    observations, *_ = env.step({"player_0": C, "player_1": C})
    observations["player_1"][0] = 9.0
    fresh, _ = env.reset()
    assert fresh["player_0"].tolist() == [1, 0, 0, 0, 0]
    assert env.step({"player_0": C, "player_1": C})[0]["player_1"].tolist() == [0, 1, 0, 0, 0]


def test_spaces_are_cached_and_reset_seed_seeds_them():
    env = ipd_v0.parallel_env()
    assert env.observation_space("player_0") is env.observation_space("player_0")
    assert env.action_space("player_1") is env.action_space("player_1")
    assert env.observation_space("player_0") is not env.observation_space("player_1")
    env.reset(seed=3)
    draws = [env.action_space("player_0").sample() for _ in range(20)]
    env.reset(seed=3)
    assert [env.action_space("player_0").sample() for _ in range(20)] == draws


def test_state_is_player_0_view():
    env = ipd_v0.parallel_env()
    env.reset()
    assert env.state().tolist() == [1, 0, 0, 0, 0]
    env.step({"player_0": C, "player_1": D})
    assert env.state().tolist() == [0, 0, 1, 0, 0]


def test_max_cycles_ends_episode_and_reset_restarts():
    env = ipd_v0.parallel_env(max_cycles=3)
    for _ in range(2):
        env.reset()
        truncated = [play(env, [(C, C)])[0][4] for _ in range(3)]
        assert truncated == [False, False, True]
        assert env.agents == []


# ---------------------------------------------------------------- render
def test_render_ansi_text():
    env = ipd_v0.parallel_env(render_mode="ansi", max_cycles=5)
    env.reset()
    assert env.render() == "round 0/5: no round played yet | totals player_0 0, player_1 0"
    env.step({"player_0": D, "player_1": C})
    env.step({"player_0": C, "player_1": C})
    assert env.render() == "round 2/5: player_0 C, player_1 C | rewards 1, 1 | totals player_0 3, player_1 0"


def test_render_human_prints_every_round(capsys):
    env = ipd_v0.parallel_env(render_mode="human", max_cycles=2)
    env.reset()
    env.step({"player_0": C, "player_1": D})
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "round 0/2: no round played yet | totals player_0 0, player_1 0",
        "round 1/2: player_0 C, player_1 D | rewards -1, 2 | totals player_0 -1, player_1 2",
    ]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "actions, error, message",
    [
        ({"player_0": 2, "player_1": 0}, ValueError,
         r"action for 'player_0' must be 0 \(cooperate\) or 1 \(defect\), got 2"),
        ({"player_0": 0, "player_1": -1}, ValueError, r"'player_1'.*got -1"),
        ({"player_0": 0.0, "player_1": 0}, TypeError, r"'player_0'.*got 0\.0 of type float"),
        ({"player_0": True, "player_1": 0}, TypeError, r"'player_0'.*got True of type bool"),
        ({"player_0": "C", "player_1": 0}, TypeError, r"'player_0'.*got 'C'"),
        ({"player_0": np.array([0, 1]), "player_1": 0}, TypeError, r"'player_0'.*array\(\[0, 1\]\)"),
        ({"player_0": 0}, ValueError, r"missing \['player_1'\], unknown \[\]"),
        ({"player_0": 0, "player_1": 1, "player_2": 0}, ValueError, r"unknown \['player_2'\]"),
        ([0, 1], TypeError, r"actions must be a dict.*got list"),
    ],
)
def test_bad_actions_raise_naming_the_value(actions, error, message):
    env = ipd_v0.parallel_env()
    env.reset()
    with pytest.raises(error, match=message):
        env.step(actions)


def test_numpy_integer_scalars_and_0d_arrays_are_accepted():
    env = ipd_v0.parallel_env()
    env.reset()
    _, rewards, *_ = env.step({"player_0": np.array(1), "player_1": np.int32(1)})
    assert rewards == {"player_0": 0.0, "player_1": 0.0}


def test_step_before_reset_and_after_the_end_raise():
    env = ipd_v0.parallel_env(max_cycles=1)
    with pytest.raises(RuntimeError, match=r"before reset\(\)"):
        env.step({"player_0": 0, "player_1": 0})
    env.reset()
    env.step({"player_0": 0, "player_1": 0})
    with pytest.raises(RuntimeError, match=r"after the episode ended \(all 1 rounds played, max_cycles=1\)"):
        env.step({"player_0": 0, "player_1": 0})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"payoffs": "chicken"}, r"unknown payoff preset 'chicken'"),
        ({"payoffs": (1, 2, 3)}, r"shape \(3,\)"),
        ({"payoffs": (1, float("nan"), 2, 0)}, r"finite"),
        ({"max_cycles": 0}, r"positive integer, got 0"),
        ({"max_cycles": 10.5}, r"positive integer, got 10\.5"),
        ({"obs_type": "rgb"}, r"obs_type must be one of \('one_hot', 'discrete'\), got 'rgb'"),
        ({"render_mode": "rgb"}, r"render_mode must be None or one of \('human', 'ansi', 'rgb_array'\), got 'rgb'"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ipd_v0.parallel_env(**kwargs)


def test_unknown_agent_space_raises():
    with pytest.raises(ValueError, match=r"unknown agent 'player_7'"):
        ipd_v0.parallel_env().observation_space("player_7")


# ---------------------------------------------------------------- pickling and registry
def test_pickle_round_trip_mid_episode():
    env = ipd_v0.parallel_env(payoffs="axelrod", max_cycles=5, render_mode="ansi")
    env.reset()
    env.step({"player_0": D, "player_1": C})
    copy = pickle.loads(pickle.dumps(env))
    assert copy.render() == env.render()
    assert play(copy, [(C, D)]) == play(env, [(C, D)]) == [(2, 3, 0.0, 5.0, False)]
    aec_copy = pickle.loads(pickle.dumps(ipd_v0.env(max_cycles=2)))
    aec_copy.reset()
    assert aec_copy.agent_selection == "player_0"


def test_pettingzoo_registry_make_parallel_and_aec():
    pettingzoo = pytest.importorskip("pettingzoo")
    parallel = pettingzoo.make("parallel", "ipd_env/IPD-v0", max_cycles=7, payoffs="lola")
    assert isinstance(parallel, IPDParallelEnv) and parallel.max_cycles == 7
    aec = pettingzoo.make("aec", "ipd_env/IPD-v0")
    aec.reset()
    assert aec.unwrapped.max_cycles == 100 and aec.agents == ["player_0", "player_1"]


def test_public_names_and_idempotent_registration():
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(ipd_env)  # registering twice must neither warn nor fail
    assert isinstance(ipd_env.parallel_env(), IPDParallelEnv)
    assert ipd_env.env().metadata["name"] == "ipd_v0"
    assert ipd_env.IPDVectorEnv(3).num_games == 3
