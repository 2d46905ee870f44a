"""The Step-1 agent (model trained on tabular games + planner) best-responds within an episode.

This is the agent of Step 1's first phase: the sequence model trained on tabular-vs-tabular
games (the conftest's model) acting with pi (the CPU presets' planner: beta 1, K 4, horizon 10).
"""
import pytest

from agents.ppi.planner import PlannerConfig, PlanningPlayer
from baselines.tabular import make_player
from ipd_env.player import play_episodes

LATE = slice(75, 100)  # the last quarter of the episode, as in the evaluation
CPU_PLANNER = PlannerConfig(beta=1.0, num_rollouts=4, horizon=10)


def _late(model, co_player, config=CPU_PLANNER, num_games=64):
    """Late-episode (cooperation rate, per-round reward) of pi against a zoo member."""
    player = PlanningPlayer(model, config, num_rounds=100)
    result = play_episodes((player, make_player(co_player)), num_games, num_rounds=100, seed=11)
    cooperation = (result["actions"][0, LATE] == 0).float().mean().item()
    reward = result["rewards"][0, LATE].mean().item()
    return cooperation, reward


def test_step1_agent_defects_against_alld_and_exploits_allc_late_in_the_episode(trained_model):
    model, _ = trained_model
    alld_cooperation, alld_reward = _late(model, "alld")
    allc_cooperation, allc_reward = _late(model, "allc")
    assert alld_cooperation < 0.1 and alld_reward > -0.1  # mutual defection pays 0, being the sucker -1
    assert allc_cooperation < 0.1 and allc_reward > 1.8  # exploiting AllC pays 2 per round
    # The prior alone (beta = 0) plays like an average tabular agent: about half cooperation.
    prior_cooperation, _ = _late(model, "alld", PlannerConfig(beta=0.0))
    assert prior_cooperation > 0.3


@pytest.mark.xfail(strict=True, reason=(
    "measured: after pretraining only (and after 10 cpu-quick phases of Step 1), pi defects "
    "against TFT late in the episode (cooperation 0.02-0.09): it locks into mutual defection before "
    "it has seen TFT answer its cooperation, and Q_C - Q_D is then about 0 under the model's "
    "belief. The paper reaches ~0.97 after 30 phases of 20,000 episodes; see docs/mechanism.md (PPI)."))
def test_step1_agent_cooperates_with_tft_late_in_the_episode(trained_model):
    model, _ = trained_model
    tft_cooperation, tft_reward = _late(model, "tft")
    assert tft_cooperation > 0.6 and tft_reward > 0.6  # mutual cooperation pays 1 per round
