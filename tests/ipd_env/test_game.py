"""The rules module: the round table and the game record the plain-Python envs step with, the batched
envs' reward lookup, and the count checks."""
import numpy as np
import pytest

from ipd_env.game import (
    GameRecord,
    check_count,
    check_num_rounds,
    first_person_outcome,
    make_payoff_table,
    rewards_by_observation,
    round_outcomes,
)

C, D = 0, 1


def test_round_outcomes_of_the_paper_game_read_by_hand():
    outcomes = round_outcomes(make_payoff_table("paper"))  # (R, S, T, P) = (1, -1, 2, 0)
    # (joint, player_0's observation, player_1's observation, reward_0, reward_1)
    assert outcomes[0][0] == (0, 1, 1, 1.0, 1.0)  # CC: both see CC
    assert outcomes[0][1] == (1, 2, 3, -1.0, 2.0)  # player_0 C, player_1 D: CD for 0, DC for 1
    assert outcomes[1][0] == (2, 3, 2, 2.0, -1.0)
    assert outcomes[1][1] == (3, 4, 4, 0.0, 0.0)  # DD


def test_round_outcomes_follow_first_person_outcome_and_an_asymmetric_table():
    table = np.arange(8, dtype=np.float64).reshape(2, 2, 2)  # table[a0, a1, player]
    outcomes = round_outcomes(table)
    for a0 in (0, 1):
        for a1 in (0, 1):
            joint, observation_0, observation_1, reward_0, reward_1 = outcomes[a0][a1]
            assert (observation_0, observation_1) == (first_person_outcome(a0, a1), first_person_outcome(a1, a0))
            assert (joint, reward_0, reward_1) == (2 * a0 + a1, table[a0, a1, 0], table[a0, a1, 1])
            assert type(reward_0) is float and type(observation_0) is int


def test_game_record_counts_rounds_and_totals_by_hand():
    game = GameRecord(make_payoff_table("paper"), keep_history=True)  # (R, S, T, P) = (1, -1, 2, 0)
    assert (game.round, game.last_joint, game.last_rewards, game.totals()) == (0, None, None, (0.0, 0.0))
    for action_0, action_1 in [(C, C), (D, C), (C, D)]:
        outcome = game.play(action_0, action_1)
    assert outcome == (1, 2, 3, -1.0, 2.0)  # CD: player_0 exploited
    assert game.round == 3 and game.joint_history == [0, 2, 1] and game.joint_counts == [1, 1, 1, 0]
    assert game.last_joint == 1 and game.last_rewards == (-1.0, 2.0)
    assert game.totals() == (1.0 + 2.0 - 1.0, 1.0 - 1.0 + 2.0)
    game.start()
    assert (game.round, game.joint_history, game.last_outcome, game.totals()) == (0, [], None, (0.0, 0.0))


def test_game_record_keeps_no_history_unless_asked():
    game = GameRecord(make_payoff_table("paper"))
    game.play(D, D)
    assert game.joint_history is None and game.joint_counts == [0, 0, 0, 1]


def test_rewards_by_observation_read_by_hand():
    # Columns: START, then player_0's observation CC, CD, DC, DD (1 + 2 * a0 + a1).
    paper = rewards_by_observation(make_payoff_table("paper"))  # (R, S, T, P) = (1, -1, 2, 0)
    assert paper.tolist() == [[0.0, 1.0, -1.0, 2.0, 0.0], [0.0, 1.0, 2.0, -1.0, 0.0]]
    table = np.arange(8, dtype=np.float64).reshape(2, 2, 2)  # table[a0, a1, player]
    assert rewards_by_observation(table).tolist() == [[0.0, 0.0, 2.0, 4.0, 6.0], [0.0, 1.0, 3.0, 5.0, 7.0]]


@pytest.mark.parametrize("value", [1.5, "10", None, True, np.float64(3)])
def test_a_horizon_that_is_no_integer_is_a_value_error_a_count_a_type_error(value):
    with pytest.raises(ValueError, match=r"number of rounds \(max_cycles\) must be a positive integer, got "):
        check_num_rounds(value)
    with pytest.raises(TypeError, match=r"num_games must be a positive integer, got .* of type "):
        check_count(value, "num_games")


@pytest.mark.parametrize("value", [0, -3, np.int64(0)])
def test_an_integer_below_one_is_a_value_error_for_both(value):
    with pytest.raises(ValueError, match=r"max_cycles\) must be a positive integer, got -?\d+$"):
        check_num_rounds(value)
    with pytest.raises(ValueError, match=r"num_games must be a positive integer, got -?\d+$"):
        check_count(value, "num_games")


def test_positive_integers_come_back_as_python_ints():
    assert check_num_rounds(np.int32(7)) == 7 and type(check_num_rounds(np.int32(7))) is int
    assert check_count(np.uint8(3), "num_envs") == 3 and type(check_count(np.uint8(3), "num_envs")) is int
