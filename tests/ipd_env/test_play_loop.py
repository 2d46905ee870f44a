"""The one player protocol and the one batched play loop (ipd_env.player)."""
import pytest
import torch

import ipd_env
from baselines.tabular import make_player
from ipd_env.game import START, first_person_outcome
from ipd_env.player import Seat, play, play_episodes, play_match, play_parallel
from ipd_env.vector import IPDVectorEnv


class Recorder:
    """Plays a fixed move and keeps what it was given."""

    name = "recorder"

    def __init__(self, move=0):
        self.move, self.seen = move, []

    def reset(self, num_games, generator=None):
        self.num_games = num_games

    def act(self, observation, reward):
        self.seen.append((observation.clone(), reward.clone()))
        return torch.full((self.num_games,), self.move, dtype=torch.int64)


def test_players_receive_integer_observation_indices():
    player, co_player = Recorder(0), Recorder(1)
    play_episodes((player, co_player), num_games=3, num_rounds=4, seed=0)
    observation, reward = player.seen[0]
    assert observation.dtype == torch.int64 and observation.shape == (3,)
    assert observation.tolist() == [START] * 3 and reward.tolist() == [0.0] * 3
    # After C vs D: I see CD (2) and the sucker's payoff; the co-player sees DC (3).
    assert player.seen[1][0].tolist() == [2] * 3 and player.seen[1][1].tolist() == [-1.0] * 3
    assert co_player.seen[1][0].tolist() == [3] * 3 and co_player.seen[1][1].tolist() == [2.0] * 3


def test_play_records_what_each_side_saw_before_acting():
    result = play_match(make_player("tft"), make_player("random"), 16, torch.Generator().manual_seed(1), num_rounds=7)
    index, actions = result["observation_index"], result["actions"]
    assert index.shape == actions.shape == result["rewards"].shape == (2, 7, 16)
    assert bool((index[:, 0] == START).all())
    torch.testing.assert_close(index[0, 1:], first_person_outcome(actions[0, :-1], actions[1, :-1]))
    torch.testing.assert_close(index[1, 1:], first_person_outcome(actions[1, :-1], actions[0, :-1]))
    # TFT copies the other's last move.
    torch.testing.assert_close(actions[0, 1:], actions[1, :-1])


def test_a_player_may_hold_both_sides_of_different_games():
    # One player is player_0 in games 0-1 and player_1 in games 2-3; AllD holds the rest.
    mixed, alld = Recorder(0), make_player("alld")
    mixed.reset(4)
    alld.reset(4)
    sides, games = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 2, 3])
    result = play([Seat(mixed, sides, games), Seat(alld, 1 - sides, games)], IPDVectorEnv(4, num_rounds=2))
    assert result["actions"][:, 0].tolist() == [[0, 0, 1, 1], [1, 1, 0, 0]]
    # The mixed player's second observation is CD in all four games, whichever side it plays.
    assert mixed.seen[1][0].tolist() == [2, 2, 2, 2]


def test_seats_must_hold_every_side_of_every_game_once():
    player = Recorder()
    player.reset(2)
    env = IPDVectorEnv(2, num_rounds=2)
    with pytest.raises(ValueError, match="side 1 of game 0 is held 0 times"):
        play([Seat(player, 0)], env)
    with pytest.raises(ValueError, match="side 0 of game 0 is held 2 times"):
        play([Seat(player, 0), Seat(player, 0), Seat(player, 1)], env)


@pytest.mark.parametrize("returned, error, message", [
    (torch.tensor([0.0, 1.0]), TypeError, "'bad' must return integer actions"),
    (torch.tensor([0]), ValueError, r"'bad' must return actions of shape \[2\]"),
    ([0, 1], TypeError, "'bad' must return a torch tensor"),
])
def test_untrusted_players_bad_actions_name_the_player(returned, error, message):
    class Bad:
        name = "bad"

        def reset(self, num_games, generator=None):
            pass

        def act(self, observation, reward):
            return returned

    with pytest.raises(error, match=message):
        play_episodes((Bad(), make_player("tft")), num_games=2, num_rounds=3)


@pytest.mark.parametrize("obs_type", ["one_hot", "discrete"])
def test_play_parallel_matches_the_batched_loop(obs_type):
    env = ipd_env.parallel_env(max_cycles=12, obs_type=obs_type)
    played = play_parallel(env, (make_player("gtft"), make_player("random")), seed=3)
    batched = play_episodes((make_player("gtft"), make_player("random")), num_games=1, num_rounds=12, seed=3)
    assert played["actions"].tolist() == batched["actions"][:, :, 0].t().tolist()
    assert played["rewards"].tolist() == batched["rewards"][:, :, 0].t().double().tolist()


def test_play_parallel_calls_on_round_after_every_round():
    rounds = []
    env = ipd_env.parallel_env(max_cycles=5)
    play_parallel(env, (make_player("allc"), make_player("alld")), seed=0,
                  on_round=lambda actions, rewards: rounds.append((actions, rewards)))
    assert len(rounds) == 5
    assert rounds[0][0] == {"player_0": 0, "player_1": 1}
