"""The exact evaluator: hand computations, limits, validation, and agreement with simulation."""
import math

import numpy as np
import pytest
import torch

from baselines.analytic import (
    OUTCOME_NAMES,
    finite_horizon_values,
    long_run_values,
    markov_chain,
    per_round_values,
)
from baselines.tabular import GrimTrigger, MemoryOnePlayer, UniformMemoryOnePool, make_player
from ipd_env.player import play_episodes

# Player_1 cooperates only right after it defected while player_0 cooperated (its own
# view DC, index 3), and opens with D. Against AllC it alternates D, C, D, C: a check
# that player_1's view swaps CD and DC (with the swap forgotten it would defect forever).
REPENTANT = [0, 0, 0, 1, 0]
# An asymmetric game: table[a0][a1] = (reward of player_0, reward of player_1).
BIMATRIX = [[[1, 1], [-1, 3]], [[2, -1], [0, 0.5]]]


def test_tit_for_tat_against_always_defect_over_three_rounds_by_hand():
    # Rounds: (C, D), (D, D), (D, D): player_0 gets -1, 0, 0; player_1 gets 2, 0, 0.
    values = finite_horizon_values("tft", "alld", num_rounds=3)
    np.testing.assert_allclose(values.rewards, [-1 / 3, 2 / 3])
    np.testing.assert_allclose(values.cooperation_rates, [1 / 3, 0])
    np.testing.assert_allclose(values.outcome_frequencies, [0, 1 / 3, 0, 2 / 3])
    assert values.num_rounds == 3
    curves = per_round_values("tft", "alld", num_rounds=3)
    np.testing.assert_allclose(curves.rewards, [[-1, 0, 0], [2, 0, 0]])
    np.testing.assert_allclose(curves.cooperation_rates, [[1, 0, 0], [0, 0, 0]])


def test_random_against_tit_for_tat_over_two_rounds_by_hand():
    # Round 1: Random cooperates w.p. 1/2, TFT cooperates: player_0 gets 1/2 * 1 + 1/2 * 2 = 1.5,
    # player_1 1/2 * 1 + 1/2 * (-1) = 0. Round 2: TFT copies the coin, Random flips a new one:
    # all four outcomes 1/4, each player (1 - 1 + 2 + 0) / 4 = 0.5. Means: 1.0 and 0.25.
    values = finite_horizon_values("random", "tft", num_rounds=2)
    np.testing.assert_allclose(values.rewards, [1.0, 0.25])
    np.testing.assert_allclose(values.cooperation_rates, [0.5, 0.75])


def test_player_1_sees_cd_and_dc_swapped():
    curves = per_round_values("allc", REPENTANT, num_rounds=4)
    np.testing.assert_allclose(curves.rewards, [[-1, 1, -1, 1], [2, 1, 2, 1]])
    np.testing.assert_allclose(curves.cooperation_rates[1], [0, 1, 0, 1])
    assert long_run_values("allc", REPENTANT).rewards.tolist() == [0.0, 1.5]


def test_asymmetric_bimatrix_pays_each_player_its_own_column():
    # AllC (player_0) vs AllD (player_1): outcome CD, rewards table[0][1] = (-1, 3).
    np.testing.assert_allclose(long_run_values("allc", "alld", BIMATRIX).rewards, [-1, 3])
    # AllD vs AllD: table[1][1] = (0, 0.5).
    np.testing.assert_allclose(finite_horizon_values("alld", "alld", 7, BIMATRIX).rewards, [0, 0.5])


def test_transition_matrix_of_tit_for_tat_against_win_stay_lose_shift():
    initial, transition = markov_chain("tft", "wsls")
    np.testing.assert_array_equal(initial, [[1, 0, 0, 0]])
    # From CD (player_0's view) player_1 sees DC (a win): it stays with D; TFT answers D: DD.
    assert OUTCOME_NAMES[int(np.argmax(transition[0, 1]))] == "DD"
    np.testing.assert_allclose(transition.sum(axis=-1), 1.0)


@pytest.mark.parametrize(
    "first, second, rewards, cooperation",
    [
        ("tft", "stft", [0.5, 0.5], [0.5, 0.5]),  # periodic: CD, DC, CD, ...
        ("tft", "tft", [1, 1], [1, 1]),  # absorbed in CC
        ("tft", "alld", [0, 0], [0, 0]),  # absorbed in DD
        ("random", "random", [0.5, 0.5], [0.5, 0.5]),  # uniform over the four outcomes
        ("allc", "alld", [-1, 2], [1, 0]),
        ("wsls", "wsls", [1, 1], [1, 1]),
    ],
)
def test_long_run_limits_by_hand(first, second, rewards, cooperation):
    values = long_run_values(first, second)
    np.testing.assert_allclose(values.rewards, rewards, atol=1e-12)
    np.testing.assert_allclose(values.cooperation_rates, cooperation, atol=1e-12)
    assert values.num_rounds == math.inf


def test_long_run_depends_on_the_start_when_the_chain_is_not_ergodic():
    # TFT against a TFT that opens with probability 0.3: CC forever w.p. 0.3; otherwise
    # the first round is CD, and then CD/DC alternate forever (reward 0.5 each).
    values = long_run_values("tft", [0.3, 1, 0, 1, 0])
    np.testing.assert_allclose(values.rewards, [0.3 * 1 + 0.7 * 0.5] * 2, atol=1e-12)


def test_long_run_is_the_limit_of_the_finite_horizon_mean():
    rng = np.random.default_rng(0)
    first, second = rng.random((300, 5)), rng.random((300, 5))
    # Add chains with transient states, periodic and absorbing ones.
    first = np.concatenate([first, [[1, 1, 0, 1, 0], [0.3, 1, 0, 1, 0], [1, 0.9, 0.5, 0.4, 0]]])
    second = np.concatenate([second, [[0, 1, 0, 1, 0], [1, 1, 0, 1, 0], [0.5, 0.5, 1, 0.2, 0]]])
    limit = long_run_values(first, second)
    long = finite_horizon_values(first, second, num_rounds=10**6)
    # The gap shrinks as 1/T; 1e-4 leaves room for slowly mixing pairs.
    np.testing.assert_allclose(long.rewards, limit.rewards, atol=1e-4)
    np.testing.assert_allclose(long.cooperation_rates, limit.cooperation_rates, atol=1e-4)
    np.testing.assert_allclose(limit.outcome_frequencies.sum(axis=0), 1.0)


def test_finite_horizon_mean_is_the_mean_of_the_per_round_curve():
    rng = np.random.default_rng(1)
    first, second = rng.random((50, 5)), rng.random((50, 5))
    for num_rounds in (1, 2, 37, 100):
        curves = per_round_values(first, second, num_rounds)
        means = finite_horizon_values(first, second, num_rounds)
        assert curves.rewards.shape == (2, num_rounds, 50) and means.rewards.shape == (2, 50)
        np.testing.assert_allclose(curves.rewards.mean(axis=1), means.rewards, atol=1e-12)
        np.testing.assert_allclose(curves.outcome_frequencies.mean(axis=1), means.outcome_frequencies, atol=1e-12)


def test_accepts_numpy_torch_lists_players_and_names_alike():
    expected = finite_horizon_values([1, 1, 0, 1, 0], [0.5] * 5, 10).rewards
    for policy in (np.array([1, 1, 0, 1, 0.0]), torch.tensor([1, 1, 0, 1, 0.0]), make_player("tft"), "tft"):
        np.testing.assert_allclose(finite_horizon_values(policy, "random", 10).rewards, expected, atol=1e-7)


def test_a_single_policy_broadcasts_against_a_batch():
    batch = np.array([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 0.0]])
    values = long_run_values("tft", batch)
    np.testing.assert_allclose(values.rewards, [[1, 0, 1], [1, 0, 1]])
    assert values.outcome_frequencies.shape == (4, 3)


def test_pool_after_reset_is_a_batch_of_policies():
    pool = UniformMemoryOnePool()
    pool.reset(8, torch.Generator().manual_seed(0))
    values = long_run_values(pool, "tft")
    assert values.rewards.shape == (2, 8)


@pytest.mark.parametrize(
    "policy, message",
    [
        ([1, 1, 0, 1, 1.2], r"must lie in \[0, 1\], got \[1.2\]"),
        ([1, 1, 0, -1, 1], r"must lie in \[0, 1\], got \[-1.0\]"),
        ([1, float("nan"), 0, 1, 1], r"must lie in \[0, 1\], got \[nan\]"),
        ([1, 1, 0, 1], r"shape \[5\] or \[B, 5\]; got shape \(4,\)"),
        (np.full((2, 2, 5), 0.5), r"shape \[5\] or \[B, 5\]; got shape \(2, 2, 5\)"),
        ("nice", r"unknown co-player 'nice'; the zoo has: allc"),
        ("grim", r"grim is stateful"),
        (GrimTrigger(), r"needs memory-1 policies.*'grim' has memory depth inf"),
        (UniformMemoryOnePool(), r"call reset\(\) on a pool first"),
        ("abcde", r"unknown co-player"),
        ([["a"] * 5], r"must be 5 numbers in \[0, 1\]"),
    ],
)
def test_bad_policies_raise_with_the_value(policy, message):
    with pytest.raises(ValueError, match=message):
        long_run_values(policy, "tft")


def test_mismatched_batches_and_bad_horizons_raise():
    with pytest.raises(ValueError, match="same number of rows.*got 2 and 3"):
        finite_horizon_values(np.full((2, 5), 0.5), np.full((3, 5), 0.5))
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match=f"positive integer, got {bad!r}"):
            finite_horizon_values("tft", "tft", num_rounds=bad)
    with pytest.raises(ValueError, match="unknown payoff preset 'nope'"):
        long_run_values("tft", "tft", payoffs="nope")


@pytest.mark.parametrize("payoffs", ["paper", "axelrod", BIMATRIX])
def test_simulated_means_agree_with_the_evaluator(payoffs):
    """Six random pairs, 2,000 games each, 20 rounds in the batched env.

    Tolerance: 5 standard errors of the simulated mean, the standard error estimated from
    the spread over games in the simulation itself (a per-comparison false-alarm rate of
    about 6e-7 if the evaluator is right). Checked for the episode means and for every
    round of the per-round curves.
    """
    num_pairs, games_per_pair, num_rounds = 6, 2000, 20
    generator = torch.Generator().manual_seed(2024)
    policies = torch.rand(2, num_pairs, 5, generator=generator, dtype=torch.float64)
    players = [MemoryOnePlayer(policies[i].repeat_interleave(games_per_pair, dim=0)) for i in range(2)]
    played = play_episodes(players, num_pairs * games_per_pair, payoffs=payoffs, num_rounds=num_rounds, seed=5)
    rewards = played["rewards"].double().reshape(2, num_rounds, num_pairs, games_per_pair)
    cooperation = (played["actions"] == 0).double().reshape(2, num_rounds, num_pairs, games_per_pair)
    # float32 policies in the players: evaluate exactly what was played.
    exact_policies = [player.cooperation_probabilities[::games_per_pair].double() for player in players]
    means = finite_horizon_values(*exact_policies, num_rounds=num_rounds, payoffs=payoffs)
    curves = per_round_values(*exact_policies, num_rounds=num_rounds, payoffs=payoffs)
    for simulated, exact_mean, exact_curve in [
        (rewards, means.rewards, curves.rewards),
        (cooperation, means.cooperation_rates, curves.cooperation_rates),
    ]:
        per_game = simulated.mean(dim=1)  # [2, pairs, games]
        standard_error = per_game.std(dim=-1) / games_per_pair**0.5
        assert np.all(np.abs(per_game.mean(dim=-1).numpy() - exact_mean) <= 5 * standard_error.numpy() + 1e-9)
        round_error = simulated.std(dim=-1) / games_per_pair**0.5  # [2, rounds, pairs]
        assert np.all(np.abs(simulated.mean(dim=-1).numpy() - exact_curve) <= 5 * round_error.numpy() + 1e-9)
