"""The planner: Q from batched rollouts in the model, pi ∝ p_phi exp(beta Q), clear errors."""
import pytest
import torch

from agents.harness.runner import make_unit
from agents.ppi import ALGORITHM
from agents.ppi.planner import PlannerConfig, PlanningPlayer, rollout_values
from baselines.tabular import make_player
from ipd_env.player import play_match


def test_q_prefers_defection_against_allc(trained_model):
    model, _ = trained_model
    # Feed 30 rounds against AllC through the player, then read Q at round 30.
    player = PlanningPlayer(model, PlannerConfig(beta=1.0, num_rollouts=8, horizon=15), num_rounds=100)
    co_player = make_player("allc")
    play_match(player, co_player, 64, torch.Generator().manual_seed(0), num_rounds=30)
    q = player.last_q  # [64, 2] at round 29
    assert q.shape == (64, 2)
    # Against a co-player that always cooperates, defecting earns 2 instead of 1 each round.
    assert (q[:, 1] > q[:, 0]).float().mean() > 0.9
    assert float((q[:, 1] - q[:, 0]).mean()) > 0.5
    # pi moves the prior towards the action with the larger Q: odds multiplied by exp(beta * (Q_D - Q_C)).
    prior_odds = player.last_prior[:, 1] / player.last_prior[:, 0]
    policy_odds = player.last_policy[:, 1] / player.last_policy[:, 0]
    torch.testing.assert_close(policy_odds, prior_odds * torch.exp(1.0 * (q[:, 1] - q[:, 0])), rtol=1e-3, atol=0)


def test_rollouts_stop_at_the_end_of_the_episode(trained_model):
    model, _ = trained_model
    features, hidden = model.step(torch.zeros(8, dtype=torch.long), torch.full((8,), -1), torch.zeros(8),
                                  model.initial_hidden(8))
    long = PlannerConfig(horizon=15, num_rollouts=4)
    short = PlannerConfig(horizon=1, num_rollouts=4)
    last_round = rollout_values(model, features, hidden, 1, long, generator=torch.Generator().manual_seed(5))
    one_step = rollout_values(model, features, hidden, 1, short, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(last_round, one_step)
    three = rollout_values(model, features, hidden, 3, long, generator=torch.Generator().manual_seed(5))
    # With 3 rounds left, Q sums 3 rewards of at most 2 and at least -1 each.
    assert three.max() <= 6.2 and three.min() >= -3.2
    with pytest.raises(ValueError, match="rounds_left must be >= 1"):
        rollout_values(model, features, hidden, 0, long)


def test_beta_zero_and_act_with_prior_play_the_prior(trained_model):
    model, _ = trained_model
    for config in (PlannerConfig(beta=0.0), PlannerConfig(beta=5.0, act_with="prior")):
        player = PlanningPlayer(model, config, num_rounds=5)
        player.reset(4, torch.Generator().manual_seed(0))
        player.act(torch.zeros(4, dtype=torch.int64), torch.zeros(4))
        assert player.last_q is None
        torch.testing.assert_close(player.last_policy, player.last_prior)


@pytest.mark.parametrize("settings, message", [
    (dict(beta=-0.1), "beta must be a finite number >= 0, got -0.1"),
    (dict(num_rollouts=0), r"K \(num_rollouts\) must be an integer >= 1, got 0"),
    (dict(horizon=0), "horizon must be an integer >= 1, got 0"),
    (dict(discount=1.5), r"discount must lie in \[0, 1\], got 1.5"),
    (dict(act_with="greedy"), "act_with must be one of"),
])
def test_invalid_planner_settings_raise_clear_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        PlannerConfig(**settings)


@pytest.mark.parametrize("overrides, message", [
    (dict(num_phases=0), "num_phases must be an integer >= 1, got 0"),
    (dict(beta=-1.0), "beta must be a finite number >= 0"),
    (dict(num_rollouts=0), "num_rollouts must be an integer >= 1, got 0"),
    (dict(horizon=0), "horizon must be an integer >= 1"),
    (dict(episodes_per_phase=15), "does not split"),
    (dict(learning_rate=-1e-3), "learning_rate must be a finite number > 0, got -0.001"),
    (dict(unknown_setting=1), "unknown ppi hyperparameter 'unknown_setting'"),
])
def test_invalid_ppi_hyperparameters_raise_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):  # the harness checks the batch split of the condition too
        make_unit("ppi", "fig1", "mixed", 0, "cpu-quick", overrides)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="known presets: test, cpu-quick, cpu, paper"):
        ALGORITHM.make_config("laptop", paper_step=4)


def test_paper_preset_is_the_papers_scale():
    config = ALGORITHM.make_config("paper", paper_step=4)
    assert (config.pretraining_episodes, config.episodes_per_phase, config.num_phases) == (200_000, 20_000, 30)
    assert (config.learning_rate, config.weight_decay, config.adam_betas) == (1e-4, 1e-2, [0.9, 0.98])
    assert (config.batch_size, config.epochs, config.max_grad_norm) == (256, 10, 1.0)
    assert (config.hidden_size, config.embedding_size, config.beta) == (128, 32, 0.01)
    assert (config.num_rollouts, config.horizon, config.discount) == (8, 15, 1.0)


def test_common_random_numbers_is_a_ppi_setting_reaching_the_planner():
    from agents.ppi.config import PPIConfig
    assert PPIConfig().planner().common_random_numbers is True  # ours, the default
    assert PPIConfig(common_random_numbers=False).planner().common_random_numbers is False
