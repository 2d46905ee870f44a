"""One player protocol and one batched play loop for everything that plays the IPD.

Tabular co-players, the A2C and PPI agents, Axelrod strategies and trained SB3 policies
all implement :class:`Player`::

    player.reset(num_games, generator=generator)   # new episodes, clears history
    player.reset(num_games, generator=generator, opponent_identity=identity)  # opponent-ID mode
    actions = player.act(observation, reward)      # observation: [num_games] int64 observation index
                                                   # reward: last round's reward [num_games] float32
                                                   # actions: [num_games] int64, 0 = C, 1 = D

``observation`` is the first-person observation index of :mod:`ipd_env.game` (0 = START,
then ``1 + 2 * own + other``); at the first round it is START and ``reward`` is zero.
Players see integer indices: the one-hot encoding exists only at the PettingZoo and
Gymnasium boundary, where the observation spaces say so (:func:`observation_index` turns
such an observation back into an index). ``opponent_identity`` (``[num_games, 5]``, the
``log p(C | o)`` vector of the opponent-ID ablation, zeros against a learner) is passed
only in that mode; players that do not condition on it may leave it out of ``reset``.
Players allocate on the device of ``observation``. Randomness comes from the
``torch.Generator`` given to ``reset`` (or the global generator when None), so that the
same seed gives the same game.

:func:`play` is the one batched loop. It plays *seats* (:class:`Seat`: a player and the
games and sides it holds) in one :class:`~ipd_env.vector.IPDVectorEnv`, so two players
(:func:`play_match`, :func:`play_episodes`) and the training pool's many learners and
co-players in one env (``agents.pool.TrainingPool``) run through the same code.
:func:`play_parallel` is the one loop over a PettingZoo parallel env (the CLI's ``play``,
the examples, the tests).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, NamedTuple, Optional, Protocol, Union, runtime_checkable

import numpy as np
import torch

from ipd_env.sizes import check_fits


@runtime_checkable
class Player(Protocol):
    """Anything that can play a batch of IPD games (see the module docstring).

    ``opponent_identity`` (``[num_games, 5]``) is passed only by the opponent-ID mode; a
    player that does not condition on it ignores it (the loops here never pass None
    explicitly, so a third-party ``reset(num_games, generator)`` plays everywhere else).
    """

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None: ...

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor: ...


def reset_player(player, num_games: int, generator: Optional[torch.Generator] = None,
                 opponent_identity: Optional[torch.Tensor] = None) -> None:
    """``player.reset``, passing ``opponent_identity`` only when there is one (see :class:`Player`)."""
    if opponent_identity is None:
        player.reset(num_games, generator=generator)
    else:
        player.reset(num_games, generator=generator, opponent_identity=opponent_identity)


class Seat(NamedTuple):
    """A player's place in a batched game: which side of which games it plays.

    Attributes:
        player: a :class:`Player`, already reset for as many games as it holds here.
        side: 0 (``player_0``) or 1 (``player_1``) for every game it holds, or an int64
            tensor ``[n]`` with the side per slot (a learner that is ``player_0`` in some
            games and ``player_1`` in others).
        games: int64 tensor ``[n]`` of env game indices, slot ``k`` of the player being game
            ``games[k]``; None = every game of the env, in order.
    """

    player: object
    side: Union[int, torch.Tensor]
    games: Optional[torch.Tensor] = None


def _seat_key(seat: Seat, num_games: int):
    """The index into ``[2, N]`` tensors that selects ``seat``'s slots, and its slot count."""
    if isinstance(seat.side, torch.Tensor):
        if seat.games is None or seat.side.shape != seat.games.shape:
            raise ValueError("a seat with a side per slot needs games of the same shape")
    elif seat.side not in (0, 1):
        raise ValueError(f"a seat's side must be 0 or 1, got {seat.side!r}")
    elif seat.games is None:
        return seat.side, num_games
    return (seat.side, seat.games), int(seat.games.numel())


def _check_seating(keys, num_games: int, device) -> None:
    taken = torch.zeros(2, num_games, dtype=torch.int64, device=device)
    for key, _ in keys:
        taken[key] += 1
    if not bool((taken == 1).all()):
        side, game = (int(i) for i in (taken != 1).nonzero()[0])
        raise ValueError(f"seats must hold each side of every game exactly once; side {side} of game {game} "
                         f"is held {int(taken[side, game])} times")


def check_player_factory(factory, name: str = "co_player") -> Callable:
    """Return ``factory`` if it can be called as ``factory(generator)`` (a callable ``generator -> player``,
    as the Gymnasium envs take for ``co_player``); ``TypeError`` naming ``name`` otherwise.

    Checked when the factory is given, not when an episode starts calling it: a lambda of no
    argument, or of two, is refused with its signature instead of failing inside ``reset``.
    """
    import inspect

    if not callable(factory):
        raise TypeError(f"{name} must be a callable generator -> player, got {factory!r}")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return factory  # a builtin without a readable signature: trusted
    try:
        signature.bind(None)
    except TypeError:
        raise TypeError(f"{name}: a co-player factory is called as factory(generator) with one torch.Generator "
                        f"and returns a player; {getattr(factory, '__name__', factory)!r} has the signature "
                        f"{signature}") from None
    return factory


def check_player_actions(action, count: int, who: str) -> torch.Tensor:
    """``action`` if it is what a player must return for ``count`` games, else a clear error naming ``who``.

    A player returns an integer tensor ``[count]``; its values (0 = cooperate, 1 = defect)
    are checked by the env that plays them.

    Raises:
        TypeError: not a tensor, or bool / floating / complex values; ValueError: a wrong shape.
    """
    if not isinstance(action, torch.Tensor):
        raise TypeError(f"{who} must return a torch tensor of actions, got {type(action).__name__}: {action!r}")
    if action.dtype == torch.bool or action.is_floating_point() or action.is_complex():
        raise TypeError(f"{who} must return integer actions 0 (cooperate) / 1 (defect), got {action!r}")
    if tuple(action.shape) != (count,):
        raise ValueError(f"{who} must return actions of shape [{count}] (one per game), got {tuple(action.shape)}")
    return action


def _player_name(player) -> str:
    return f"player {getattr(player, 'name', type(player).__name__)!r}"


def play(seats: Sequence[Seat], env, validate: bool = False) -> dict:
    """Play one full episode of every game of ``env`` between the seated players.

    Each round every seat's player acts, in the order of ``seats``, on the observation
    indices and last rewards of its own slots; then the env plays the joint actions.
    Players are not reset here (the caller resets them, with its generators and identities).

    Args:
        seats: :class:`Seat`s that together hold each side of every game exactly once.
        env: an :class:`~ipd_env.vector.IPDVectorEnv`; it is reset first.
        validate: check each player's actions (integer dtype, shape), for untrusted
            players; their values (0 or 1) are checked by an env built with
            ``validate_actions=True`` (as :func:`play_episodes` builds it).

    Returns:
        dict of ``[2, num_rounds, num_games]`` tensors, row 0 = ``player_0``:
        ``observation_index`` (int64, the index each side saw before acting),
        ``actions`` (int64) and ``rewards`` (the env's dtype).

    Raises:
        ValueError: seats that leave a side of a game empty or hold it twice; with
            ``validate``, a player's bad actions (TypeError for a bad dtype).
    """
    num_games, num_rounds, device = env.num_games, env.num_rounds, env.device
    # What the episode's record takes: observations and actions int64, rewards of the env's dtype.
    record_bytes = 2 * num_rounds * num_games * (8 + 8 + torch.empty(0, dtype=env.dtype).element_size())
    check_fits(record_bytes, f"playing {num_games} games of {num_rounds} rounds", device,
               hint="play fewer games or rounds")
    keys = [_seat_key(seat, num_games) for seat in seats]
    _check_seating(keys, num_games, device)
    players = [(seat.player, key, count) for seat, (key, count) in zip(seats, keys)]
    env.reset()
    index = env.observation_index
    rewards = torch.zeros(2, num_games, dtype=env.dtype, device=device)
    joint = torch.empty(2, num_games, dtype=torch.int64, device=device)
    all_index = torch.empty(2, num_rounds, num_games, dtype=torch.int64, device=device)
    all_actions = torch.empty_like(all_index)
    all_rewards = torch.empty(2, num_rounds, num_games, dtype=env.dtype, device=device)
    for round_index in range(num_rounds):
        for player, key, count in players:
            action = player.act(index[key], rewards[key])
            joint[key] = check_player_actions(action, count, _player_name(player)) if validate else action
        all_index[:, round_index] = index
        index, rewards = env.step_indices(joint)
        all_actions[:, round_index] = joint
        all_rewards[:, round_index] = rewards
    return {"observation_index": all_index, "actions": all_actions, "rewards": all_rewards}


def play_match(
    player,
    co_player,
    num_games: int,
    generator: Optional[torch.Generator],
    num_rounds: int = 100,
    payoffs="paper",
    device="cpu",
    player_identity: Optional[torch.Tensor] = None,
    co_player_identity: Optional[torch.Tensor] = None,
):
    """Play ``num_games`` episodes of ``player`` (as player_0) against ``co_player``, one generator for both.

    Both players are reset with ``generator`` (so one seed fixes the match) and the
    players are trusted (no action checks). ``player_identity`` / ``co_player_identity``
    (``[num_games, 5]``), when given, are passed to that player's ``reset`` as
    ``opponent_identity``.

    Returns:
        :func:`play`'s dict (``observation_index``, ``actions``, ``rewards``), each
        ``[2, num_rounds, num_games]``, row 0 = ``player``.
    """
    from ipd_env.vector import IPDVectorEnv

    env = IPDVectorEnv(num_games, payoffs=payoffs, num_rounds=num_rounds, device=device, validate_actions=False)
    reset_player(player, num_games, generator, player_identity)
    reset_player(co_player, num_games, generator, co_player_identity)
    return play((Seat(player, 0), Seat(co_player, 1)), env)


def play_episodes(
    players,
    num_games: int,
    payoffs="paper",
    num_rounds: int = 100,
    device="cpu",
    seed: Optional[int] = None,
):
    """Play ``num_games`` full episodes between two players, each seeded on its own, actions checked.

    Args:
        players: a pair ``(player_0, player_1)`` of :class:`Player`.
        num_games: games played in parallel.
        payoffs: any payoff spec of :func:`ipd_env.game.make_payoff_table`.
        num_rounds: rounds per episode.
        device: torch device of the env and the players.
        seed: seeds the players' generators (player_i gets ``seed + i``); None = torch's
            global generator.

    Returns:
        :func:`play`'s dict: ``observation_index``, ``actions`` ``[2, num_rounds,
        num_games]`` int64 and ``rewards`` float32 (index 0 = player_0).
    """
    from ipd_env.vector import IPDVectorEnv

    if len(players) != 2:
        raise ValueError(f"play_episodes needs exactly two players, got {len(players)}")
    env = IPDVectorEnv(num_games, payoffs=payoffs, num_rounds=num_rounds, device=device)
    for index, player in enumerate(players):
        generator = None
        if seed is not None:
            generator = torch.Generator(device=env.device)
            generator.manual_seed(seed + index)
        reset_player(player, num_games, generator)
    return play((Seat(players[0], 0), Seat(players[1], 1)), env, validate=True)


def observation_index(observation) -> int:
    """The observation index of one PettingZoo / Gymnasium observation of ipd_env's.

    Accepts the ``"discrete"`` form (an int), the ``"one_hot"`` form (5 numbers, or more
    with the opponent identity appended: the first five are the one-hot) and the
    ``{"observation": ..., "opponent_id": ...}`` dict form.
    """
    if isinstance(observation, dict):
        observation = observation["observation"]
    values = np.asarray(observation)
    if values.ndim == 0:
        return int(values)
    return int(np.argmax(values[:5]))


def play_parallel(env, players: Sequence, seed: Optional[int] = None,
                  generators: Optional[Sequence[Optional[torch.Generator]]] = None,
                  on_round: Optional[Callable[[dict, dict], None]] = None) -> dict:
    """Play one episode of a PettingZoo parallel env of ipd_env's between two players.

    The env's observations (one-hot or discrete) become observation indices here, at the
    boundary; each player plays one game (``reset(1, ...)``, ``act`` on ``[1]`` tensors).

    Args:
        env: a parallel env from :func:`ipd_env.parallel_env` (any ``max_cycles``).
        players: ``(player_0, player_1)``.
        seed: passed to ``env.reset``; also seeds the players (player_i with ``seed + i``)
            when ``generators`` is not given.
        generators: the players' generators (None entries: torch's global generator).
        on_round: called after every round with the round's actions and rewards, both
            ``{agent: value}`` (e.g. to render).

    Returns:
        ``{"actions": [T, 2] int64, "rewards": [T, 2] float64}`` numpy arrays, column i =
        ``player_i``.
    """
    if len(players) != 2:
        raise ValueError(f"play_parallel needs exactly two players, got {len(players)}")
    if generators is None:
        generators = [None if seed is None else torch.Generator().manual_seed(seed + index) for index in range(2)]
    for player, generator in zip(players, generators):
        reset_player(player, 1, generator)
    observations, _ = env.reset(seed=seed)
    agents = list(env.possible_agents)
    last_rewards = {agent: 0.0 for agent in agents}
    actions_played, rewards_played = [], []
    while env.agents:
        actions = {}
        for agent, player in zip(agents, players):
            index = torch.tensor([observation_index(observations[agent])], dtype=torch.int64)
            reward = torch.tensor([last_rewards[agent]], dtype=torch.float32)
            action = check_player_actions(player.act(index, reward), 1, _player_name(player))
            actions[agent] = int(action[0])
        observations, last_rewards, _, _, _ = env.step(actions)
        actions_played.append([actions[agent] for agent in agents])
        rewards_played.append([float(last_rewards[agent]) for agent in agents])
        if on_round is not None:
            on_round(actions, last_rewards)
    return {"actions": np.asarray(actions_played, dtype=np.int64).reshape(-1, 2),
            "rewards": np.asarray(rewards_played, dtype=np.float64).reshape(-1, 2)}
