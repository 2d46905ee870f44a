"""RLlib multi-agent PPO on the PettingZoo env: returns finite and better than random play vs AllC."""
import math

import pytest

ray = pytest.importorskip("ray", reason="needs the [rllib] extra: pip install -e '.[rllib]'")
pytest.importorskip("ray.rllib", reason="needs the [rllib] extra: pip install -e '.[rllib]'")

from baselines.rllib import FIXED_MODULE, LEARNED_MODULE, ppo_config, train  # noqa: E402  (after importorskip, which skips the module without its extra)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def test_learner_beats_random_play_against_allc(local_ray):
    # 10-round episodes against AllC: a random learner earns 0.5 * 1 + 0.5 * 2 = 1.5 per
    # round (15 per episode); always defecting earns 2 per round (20).
    config = ppo_config(co_player="allc", max_cycles=10, seed=0, train_batch_size=200, minibatch_size=50)
    algorithm = config.build_algo()
    try:
        history = train(algorithm, iterations=6)
    finally:
        algorithm.stop()
    learner = [entry["returns"][LEARNED_MODULE] for entry in history]
    allc = [entry["returns"][FIXED_MODULE] for entry in history]
    assert all(math.isfinite(value) for value in learner + allc)
    assert learner[-1] > 17.0
    assert learner[-1] > learner[0]
    assert allc[-1] < allc[0]  # AllC is exploited more and more


def test_two_learned_policies_train(local_ray):
    algorithm = ppo_config(max_cycles=10, seed=1, train_batch_size=200, minibatch_size=50).build_algo()
    try:
        history = train(algorithm, iterations=2)
    finally:
        algorithm.stop()
    returns = history[-1]["returns"]
    assert set(returns) >= {"player_0", "player_1"}
    # Each round pays between -1 and 2: 10-round returns lie in [-10, 20].
    assert all(-10.0 <= value <= 20.0 for value in returns.values())


def test_unknown_co_player_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown co-player 'alwayscooperate'"):
        ppo_config(co_player="alwayscooperate")
