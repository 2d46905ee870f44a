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
    index_envs = [ipd_v0.parallel_env(payoffs=payoffs, max_cycles=num_rounds, obs_type="discrete") for _ in range(num_games)]
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
