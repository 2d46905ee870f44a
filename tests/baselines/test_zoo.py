"""The co-player zoo in visible moves (Axelrod-style), plus naming, validation and seeding."""
import numpy as np
import pytest
import torch

from baselines.tabular import (
    ZOO_NAMES,
    GrimTrigger,
    MemoryOnePlayer,
    UniformMemoryOnePool,
    make_player,
    named_probabilities,
    sample_memory_one,
    zoo,
)
from ipd_env.game import gtft_generosity
from ipd_env.player import play_episodes

C, D = "C", "D"


class ScriptedPlayer:
    """Plays a fixed sequence of moves ("C"/"D") in every game, whatever the other does."""

    name = "scripted"

    def __init__(self, moves):
        self.moves = [0 if move == C else 1 for move in moves]

    def reset(self, num_games, generator=None):
        self.num_games, self.round = num_games, 0

    def act(self, observation, reward):
        action = torch.full((self.num_games,), self.moves[self.round], dtype=torch.int64)
        self.round += 1
        return action


def versus_test(player, opponent, expected_actions, payoffs="paper", seed=0):
    """Play one game of ``len(expected_actions)`` rounds and compare the moves round by round."""
    played = play_episodes((player, opponent), num_games=1, num_rounds=len(expected_actions), payoffs=payoffs,
                           seed=seed)
    actions = played["actions"][:, :, 0]  # [2, rounds]
    moves = [(C if own == 0 else D, C if other == 0 else D) for own, other in zip(*actions.tolist())]
    assert moves == expected_actions


def test_tit_for_tat_against_always_defect_is_suckered_once():
    versus_test(make_player("tft"), make_player("alld"), [(C, D), (D, D), (D, D), (D, D)])


def test_tit_for_tat_against_suspicious_tit_for_tat_alternates():
    versus_test(make_player("tft"), make_player("stft"), [(C, D), (D, C), (C, D), (D, C), (C, D)])


def test_tit_for_tat_cooperates_with_itself_and_with_always_cooperate():
    versus_test(make_player("tft"), make_player("tft"), [(C, C)] * 4)
    versus_test(make_player("tft"), make_player("allc"), [(C, C)] * 4)


def test_win_stay_lose_shift_against_always_defect_shifts_every_round():
    # Loses with CD -> shifts to D; DD is a loss too -> shifts back to C.
    versus_test(make_player("wsls"), make_player("alld"), [(C, D), (D, D), (C, D), (D, D), (C, D)])


def test_win_stay_lose_shift_exploits_always_cooperate_after_a_slip():
    # WSLS keeps defecting once defection paid (DC is a win): the classic Pavlov trait.
    versus_test(make_player("wsls"), ScriptedPlayer("DCCC"), [(C, D), (D, C), (D, C), (D, C)])


def test_grim_defects_forever_after_a_single_defection():
    versus_test(GrimTrigger(), ScriptedPlayer("CCDCCC"), [(C, C), (C, C), (C, D), (D, C), (D, C), (D, C)])


def test_always_cooperate_against_always_defect_pays_sucker_and_temptation():
    played = play_episodes((make_player("allc"), make_player("alld")), num_games=3, num_rounds=5)
    assert torch.equal(played["rewards"][0], torch.full((5, 3), -1.0))
    assert torch.equal(played["rewards"][1], torch.full((5, 3), 2.0))


@pytest.mark.parametrize("payoffs, generosity", [("paper", 1 / 2), ("axelrod", 1 / 3), ("lola", 1 / 2)])
def test_generous_tit_for_tat_generosity_follows_the_payoffs(payoffs, generosity):
    # q = min(1 - (T-R)/(R-S), (R-P)/(T-P)): paper min(1/2, 1/2); axelrod min(1/3, 1/2); lola min(1/2, 1/2).
    assert gtft_generosity(payoffs) == pytest.approx(generosity)
    np.testing.assert_allclose(named_probabilities("gtft", payoffs), [1, 1, generosity, 1, generosity])


def test_generosity_needs_a_prisoners_dilemma():
    with pytest.raises(ValueError, match=r"T > R > P > S.*R=3.0, S=5.0, T=0.0, P=1.0"):
        gtft_generosity((3, 5, 0, 1))


def test_named_probabilities_match_the_table():
    expected = {
        "allc": [1, 1, 1, 1, 1],
        "alld": [0, 0, 0, 0, 0],
        "tft": [1, 1, 0, 1, 0],
        "stft": [0, 1, 0, 1, 0],
        "wsls": [1, 1, 0, 0, 1],
        "random": [0.5] * 5,
        "extort2": [1, 0.9, 0.5, 0.4, 0],
    }
    for name, probabilities in expected.items():
        np.testing.assert_allclose(named_probabilities(name), probabilities, atol=1e-12)


def test_zoo_has_every_name_and_aliases_fold():
    members = zoo()
    assert tuple(members) == ZOO_NAMES
    assert isinstance(members["grim"], GrimTrigger)
    np.testing.assert_array_equal(named_probabilities("Pavlov"), named_probabilities("wsls"))
    np.testing.assert_array_equal(named_probabilities("Tit-For-Tat"), named_probabilities("tft"))


def test_unknown_zoo_name_lists_the_zoo():
    with pytest.raises(ValueError, match=r"unknown co-player 'titfortwotats'; the zoo has: allc, alld, tft"):
        make_player("titfortwotats")


def test_grim_has_no_probability_vector():
    with pytest.raises(ValueError, match="grim is stateful"):
        named_probabilities("grim")


@pytest.mark.parametrize(
    "probabilities, message",
    [
        ([1, 1, 0, 1, 1.5], r"must lie in \[0, 1\], got \[1.5\]"),
        ([1, 1, 0, 1, -0.1], r"must lie in \[0, 1\], got \[-0.1\]"),
        ([1, 1, float("nan"), 1, 0], r"must lie in \[0, 1\], got \[nan\]"),
        ([1, 1, 0, 1], r"shape \[5\] or \[num_games, 5\]; got shape \(4,\)"),
        (np.ones((2, 3, 5)), r"got shape \(2, 3, 5\)"),
    ],
)
def test_memory_one_player_rejects_bad_probabilities(probabilities, message):
    with pytest.raises(ValueError, match=message):
        MemoryOnePlayer(probabilities)


def test_batched_player_rejects_a_different_number_of_games():
    player = MemoryOnePlayer(np.full((4, 5), 0.5), name="batch")
    with pytest.raises(ValueError, match="holds 4 policies but 3 games"):
        player.reset(3)


def test_batched_players_play_their_own_row():
    # Row 0 always cooperates, row 1 always defects, row 2 is TFT.
    rows = np.array([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 0.0]])
    played = play_episodes((MemoryOnePlayer(rows), make_player("alld")), num_games=3, num_rounds=3)
    assert played["actions"][0].T.tolist() == [[0, 0, 0], [1, 1, 1], [0, 1, 1]]


def test_same_seed_same_actions_for_batched_tabular_players():
    def play(seed):
        policies = sample_memory_one(64, torch.Generator().manual_seed(123))
        players = (MemoryOnePlayer(policies), make_player("random"))
        return play_episodes(players, num_games=64, num_rounds=20, seed=seed)["actions"]

    assert torch.equal(play(7), play(7))
    assert not torch.equal(play(7), play(8))


def test_same_seed_same_draws_and_actions_for_the_uniform_pool():
    def play(seed):
        pool = UniformMemoryOnePool()
        actions = play_episodes((pool, make_player("tft")), num_games=32, num_rounds=10, seed=seed)["actions"]
        return pool.cooperation_probabilities.clone(), actions

    first, second, other = play(3), play(3), play(4)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], other[0])
    assert first[0].shape == (32, 5) and bool(((first[0] >= 0) & (first[0] < 1)).all())


def test_uniform_pool_draws_fresh_co_players_each_episode():
    pool = UniformMemoryOnePool()
    generator = torch.Generator().manual_seed(0)
    pool.reset(16, generator)
    first = pool.cooperation_probabilities.clone()
    pool.reset(16, generator)
    assert not torch.equal(first, pool.cooperation_probabilities)
    assert pool.cooperation_probabilities.shape == (16, 5) and pool.name == "uniform-memory-1"
    # The draw is sample_memory_one's from the same generator state.
    replay = torch.Generator().manual_seed(0)
    sample_memory_one(16, replay)
    assert torch.equal(pool.cooperation_probabilities, sample_memory_one(16, replay))


def test_asymmetric_games_keep_the_payoff_free_members():
    bimatrix = [[[1, 1], [-1, 3]], [[2, -1], [0, 0.5]]]
    np.testing.assert_array_equal(named_probabilities("tft", bimatrix), [1, 1, 0, 1, 0])
    for name in ("gtft", "extort2", "generous2"):
        with pytest.raises(ValueError, match="needs a symmetric game"):
            make_player(name, bimatrix)
