"""The native vector env and SyncVectorEnv: same game and distributions, different random streams (as documented)."""
import gymnasium
import numpy as np

import ipd_env  # noqa: F401  (registers the Gymnasium id)
from ipd_env.single_agent_vector import IPDvsCoPlayerVectorEnv

NUM_ENVS, ROUNDS = 1000, 3


def _first_round_cooperation(vectorization_mode: str, seed: int) -> np.ndarray:
    """The co-players' first moves ``[NUM_ENVS]`` (1 = cooperated) against a learner that cooperates."""
    env = gymnasium.make_vec("ipd_env/IPDvsCoPlayer-v0", num_envs=NUM_ENVS, vectorization_mode=vectorization_mode,
                             co_player="pool", max_cycles=ROUNDS, obs_type="discrete")
    env.reset(seed=seed)
    observations, *_ = env.step(np.zeros(NUM_ENVS, dtype=np.int64))
    env.close()
    return (observations == 1).astype(np.float64)  # CC = 1, CD = 2 from the learner's side


def test_native_env_repeats_itself_at_the_same_seed():
    assert isinstance(gymnasium.make_vec("ipd_env/IPDvsCoPlayer-v0", num_envs=2).unwrapped, IPDvsCoPlayerVectorEnv)
    first, second = _first_round_cooperation("vector_entry_point", 0), _first_round_cooperation("vector_entry_point", 0)
    np.testing.assert_array_equal(first, second)


def test_native_and_sync_envs_play_different_pool_episodes_from_the_same_distribution():
    native = _first_round_cooperation("vector_entry_point", 0)
    sync = _first_round_cooperation("sync", 0)
    # Different streams: the two envs disagree on many of the 1,000 games (about half, as
    # two independent draws with P(C) = E[p_start] = 1/2 disagree half the time).
    assert 0.4 < np.mean(native != sync) < 0.6
    # Same distribution: p_start ~ U(0, 1), so each co-player opens with C with probability 1/2;
    # the mean of 1,000 such moves has standard deviation 0.016, and 0.06 is 3.8 of them.
    assert abs(native.mean() - 0.5) < 0.06 and abs(sync.mean() - 0.5) < 0.06

