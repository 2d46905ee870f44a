"""The batched env and N PettingZoo envs are one game: identical views, rewards and episode ends."""
import numpy as np
import pytest
import torch

from ipd_env import ipd_v0
from ipd_env.vector import IPDVectorEnv

AGENTS = ("player_0", "player_1")
ASYMMETRIC = [[(1.5, -2.0), (0.25, 3.0)], [(4.0, -1.0), (-0.5, 0.75)]]


@pytest.mark.parametrize("payoffs", ["paper", "axelrod", ASYMMETRIC])
def test_vector_env_matches_parallel_envs_on_random_joint_actions(payoffs):
    num_games, num_rounds = 16, 12
    generator = np.random.default_rng(0)
    vector = IPDVectorEnv(num_games, payoffs=payoffs, num_rounds=num_rounds)
    one_hot_envs = [ipd_v0.parallel_env(payoffs=payoffs, max_cycles=num_rounds) for _ in range(num_games)]
    index_envs = [ipd_v0.parallel_env(payoffs=payoffs, max_cycles=num_rounds, obs_type="discrete")
                  for _ in range(num_games)]
    for _episode in range(2):
        vector_observations = vector.reset()
        for env, index_env in zip(one_hot_envs, index_envs):
            env.reset()
            index_env.reset()
        for agent in AGENTS:
            assert vector_observations[agent].tolist() == [[1, 0, 0, 0, 0]] * num_games
        for _round in range(num_rounds):
            joint = generator.integers(0, 2, size=(2, num_games))
            observations, rewards, terminations, truncations, infos = vector.step(torch.as_tensor(joint))
            for game, (env, index_env) in enumerate(zip(one_hot_envs, index_envs)):
                actions = {agent: joint[i, game] for i, agent in enumerate(AGENTS)}
                env_observations, env_rewards, env_terminations, env_truncations, env_infos = env.step(actions)
                index_observations, index_rewards, *_ = index_env.step(actions)
                for i, agent in enumerate(AGENTS):
                    assert observations[agent][game].numpy().tolist() == env_observations[agent].tolist()
                    assert int(vector.observation_index[i, game]) == int(index_observations[agent])
                    assert float(rewards[agent][game]) == env_rewards[agent] == index_rewards[agent]
                    assert bool(terminations[agent][game]) is env_terminations[agent] is False
                    assert bool(truncations[agent][game]) is env_truncations[agent]
                    assert infos[agent]["round"] == env_infos[agent]["round"]
            assert vector.done is (not one_hot_envs[0].agents)
        assert vector.done and all(not env.agents for env in one_hot_envs)


def test_unchecked_hot_path_gives_the_same_rounds():
    checked, unchecked = IPDVectorEnv(64, num_rounds=5), IPDVectorEnv(64, num_rounds=5, validate_actions=False)
    checked.reset()
    unchecked.reset()
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        joint = torch.randint(0, 2, (2, 64), generator=generator)
        index, rewards = checked.step_indices(joint)
        index, rewards = index.clone(), rewards.clone()
        unchecked_index, unchecked_rewards = unchecked.step_indices(joint)
        assert torch.equal(index, unchecked_index) and torch.equal(rewards, unchecked_rewards)


@pytest.mark.parametrize(
    "bad_value, message",
    [(2, r"action for 'player_1' in game 3 must be 0 \(cooperate\) or 1 \(defect\), got 2"),
     (-1, r"action for 'player_1' in game 3 must be 0 \(cooperate\) or 1 \(defect\), got -1")],
)
def test_vector_env_names_the_bad_action(bad_value, message):
    env = IPDVectorEnv(5)
    env.reset()
    joint = torch.zeros(2, 5, dtype=torch.int64)
    joint[1, 3] = bad_value
    with pytest.raises(ValueError, match=message):
        env.step_indices(joint)
