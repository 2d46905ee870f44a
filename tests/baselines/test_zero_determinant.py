"""Press-Dyson zero-determinant strategies: the vectors, the enforced relation, bad parameters."""
import numpy as np
import pytest

from baselines.analytic import long_run_values
from baselines.tabular import named_probabilities, zero_determinant
from ipd_env.game import PAYOFF_PRESETS

CLASSICS = ("allc", "alld", "tft", "stft", "gtft", "wsls", "random", "extort2", "generous2")


def random_co_players(count=200, seed=0):
    return np.random.default_rng(seed).random((count, 5))


def test_extort_2_for_the_paper_game():
    # phi_max = 1/(1 + 2 chi) = 1/5; half of it gives (0.9, 0.5, 0.4, 0).
    np.testing.assert_allclose(zero_determinant(2.0), [1, 0.9, 0.5, 0.4, 0.0], atol=1e-12)
    np.testing.assert_allclose(named_probabilities("extort2"), [1, 0.9, 0.5, 0.4, 0.0], atol=1e-12)


def test_paper_game_closed_form():
    # SPEC: p = (1 - phi(chi-1), 1 - phi(1+2chi), phi(chi+2), 0) for (1, -1, 2, 0).
    for chi, phi in [(1.0, 0.3), (3.0, 0.1), (5.0, 1 / 11)]:
        expected = [1 - phi * (chi - 1), 1 - phi * (1 + 2 * chi), phi * (chi + 2), 0.0]
        np.testing.assert_allclose(zero_determinant(chi, phi)[1:], expected, atol=1e-12)


def test_largest_phi_is_allowed():
    np.testing.assert_allclose(zero_determinant(2.0, phi=0.2), [1, 0.8, 0.0, 0.8, 0.0], atol=1e-12)


def test_generous_2_for_the_paper_game():
    # Baseline R: (p_CC - 1, p_CD - 1, p_DC, p_DD) = phi * [(0, -2, 1, -1) - 2 (0, 1, -2, -1)], phi = 0.1.
    np.testing.assert_allclose(zero_determinant(2.0, kind="generous"), [1, 1, 0.6, 0.5, 0.1], atol=1e-12)


@pytest.mark.parametrize("payoffs", ["paper", "axelrod", "lola"])
@pytest.mark.parametrize("chi", [1.5, 2.0, 3.0])
def test_extortion_enforces_the_linear_relation_against_anyone(payoffs, chi):
    # s_X - P = chi (s_Y - P) in the long run, whatever the co-player does.
    punishment = PAYOFF_PRESETS[payoffs][3]
    extortioner = zero_determinant(chi, payoffs=payoffs)
    co_players = np.concatenate([random_co_players(), [named_probabilities(name, payoffs) for name in CLASSICS]])
    rewards = long_run_values(extortioner, co_players, payoffs).rewards  # [2, B]
    np.testing.assert_allclose(rewards[0] - punishment, chi * (rewards[1] - punishment), atol=1e-9)
    # Extortion: never below the baseline, and at least as well off as the co-player.
    assert np.all(rewards[0] >= punishment - 1e-12)
    assert np.all(rewards[0] - punishment >= rewards[1] - punishment - 1e-12)


@pytest.mark.parametrize("payoffs", ["paper", "axelrod", "lola"])
def test_generosity_enforces_the_linear_relation_with_baseline_reward(payoffs):
    reward = PAYOFF_PRESETS[payoffs][0]
    generous = zero_determinant(2.0, payoffs=payoffs, kind="generous")
    co_players = np.concatenate([random_co_players(seed=1), [named_probabilities(name, payoffs) for name in CLASSICS]])
    rewards = long_run_values(generous, co_players, payoffs).rewards
    np.testing.assert_allclose(rewards[0] - reward, 2.0 * (rewards[1] - reward), atol=1e-9)
    # Generous: never above the mutual-cooperation reward, and never better off than the co-player.
    assert np.all(rewards[0] <= reward + 1e-12)
    assert np.all(rewards[0] <= rewards[1] + 1e-12)


def test_extort_2_against_always_cooperate_by_hand():
    # Chain with Y = AllC: states CC and DC only; p_CC = 0.9, p_DC = 0.4, stationary
    # P(CC) = 0.4 / (0.1 + 0.4) = 0.8: s_X = 0.8 * 1 + 0.2 * 2 = 1.2, s_Y = 0.8 - 0.2 = 0.6.
    rewards = long_run_values("extort2", "allc").rewards
    np.testing.assert_allclose(rewards, [1.2, 0.6], atol=1e-12)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(chi=0.5), r"chi must be a finite number >= 1, got 0.5"),
        (dict(chi=float("nan")), r"chi must be a finite number >= 1, got nan"),
        (dict(chi=float("inf")), r"chi must be a finite number >= 1, got inf"),
        (dict(chi=2.0, phi=0.0), r"phi must satisfy 0 < phi <= 0.2 for chi=2.0, got 0.0"),
        (dict(chi=2.0, phi=-0.1), r"phi must satisfy 0 < phi <= 0.2 for chi=2.0, got -0.1"),
        (dict(chi=2.0, phi=0.25), r"phi must satisfy 0 < phi <= 0.2 for chi=2.0, got 0.25"),
        (dict(chi=2.0, kind="greedy"), r"kind must be one of \('extortionate', 'generous'\), got 'greedy'"),
        (dict(chi=2.0, start=1.5), r"start probability must lie in \[0, 1\], got \[1.5\]"),
    ],
)
def test_invalid_parameters_name_the_value_and_the_allowed_range(arguments, message):
    with pytest.raises(ValueError, match=message):
        zero_determinant(**arguments)


def test_asymmetric_payoffs_are_rejected():
    bimatrix = [[[1, 1], [-1, 3]], [[2, -1], [0, 0]]]
    with pytest.raises(ValueError, match="needs a symmetric game.*player_0 sees"):
        zero_determinant(2.0, payoffs=bimatrix)
