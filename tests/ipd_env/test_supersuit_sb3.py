"""SuperSuit + Stable-Baselines3 on the PettingZoo env: vectorise, concatenate, and learn to defect with PPO."""
import pytest
import torch

from ipd_env import ipd_v0

supersuit = pytest.importorskip("supersuit", reason="needs the [sb3] extra: pip install -e '.[sb3]'")
stable_baselines3 = pytest.importorskip("stable_baselines3", reason="needs the [sb3] extra: pip install -e '.[sb3]'")


def make_vec_env(num_copies, max_cycles=20):
    vec_env = supersuit.pettingzoo_env_to_vec_env_v1(ipd_v0.parallel_env(max_cycles=max_cycles))
    # concat pickles the env (cloudpickle) once per copy
    return supersuit.concat_vec_envs_v1(vec_env, num_copies, num_cpus=0, base_class="stable_baselines3")


def test_concatenated_vec_env_steps_both_agents_of_every_copy():
    vec_env = make_vec_env(3, max_cycles=2)
    assert vec_env.num_envs == 6  # 3 copies x 2 agents
    observations = vec_env.reset()
    assert observations.shape == (6, 5) and observations[:, 0].tolist() == [1.0] * 6
    # agents are interleaved per copy: (player_0, player_1) of copy 0, then of copy 1, ...
    actions = [1, 0, 0, 0, 1, 1]
    observations, rewards, dones, _ = vec_env.step(actions)
    assert rewards.tolist() == [2.0, -1.0, 1.0, 1.0, 0.0, 0.0]
    assert observations.argmax(axis=1).tolist() == [3, 2, 1, 1, 4, 4]
    assert not dones.any()
    _, _, dones, infos = vec_env.step(actions)
    assert dones.all()  # the episode ends after 2 rounds; SB3's auto-reset keeps the terminal view in infos
    assert infos[0]["terminal_observation"].argmax() == 3


def test_ppo_shared_policy_learns_to_defect():
    # Parameter-shared PPO on both seats: defection dominates each round, so p(D | o) must
    # rise from 0.5 to near 1 at every observation. (ConcatVecEnv has no seed(): seed SB3 globally.)
    from stable_baselines3 import PPO
    from stable_baselines3.common.utils import set_random_seed

    set_random_seed(0)
    model = PPO(
        "MlpPolicy", make_vec_env(4), n_steps=64, batch_size=128, n_epochs=4, learning_rate=3e-3,
        gamma=0.9, device="cpu", verbose=0,
    )
    every_observation = torch.eye(5)

    def defection_probabilities():
        with torch.no_grad():
            return model.policy.get_distribution(every_observation).distribution.probs[:, 1]

    assert torch.allclose(defection_probabilities(), torch.full((5,), 0.5), atol=0.01)
    model.learn(total_timesteps=4096)
    assert (defection_probabilities() > 0.9).all(), defection_probabilities()
