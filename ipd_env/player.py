"""One player interface for everything that plays the IPD.

Tabular co-players, the A2C and PPI agents, Axelrod strategies and trained SB3 policies
all implement :class:`Player`, so one loop drives evaluation, the mixed pool and the
examples, in the batched env and in the PettingZoo env alike::

    player.reset(num_games, generator=generator)   # new episodes, clears history
    actions = player.act(observation, reward)      # observation: [num_games, 5] float32 one-hot
                                                   # reward: last round's reward [num_games] float32
                                                   # actions: [num_games] int64, 0 = C, 1 = D

``observation`` is first-person (``ipd_env.game``); at the first round it is START and
``reward`` is zero. Players allocate on the device of ``observation``. Randomness comes
from the ``torch.Generator`` given to ``reset`` (or the global generator when None), so
that the same seed gives the same game.

Two batched loops play two players: :func:`play_episodes` (each player seeded on its
own, actions validated) and :func:`play_match` (one generator for the match, optional
identity vectors; the evaluation and the tests of the agents use it).
"""
from __future__ import annotations

from typing import Optional, Protocol, runtime_checkable

import torch

from ipd_env.game import AGENTS, NUM_OBSERVATIONS, START


@runtime_checkable
class Player(Protocol):
    """Anything that can play a batch of IPD games (see the module docstring)."""

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None) -> None: ...

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor: ...


def play_episodes(
    players,
    num_games: int,
    payoffs="paper",
    num_rounds: int = 100,
    device="cpu",
    seed: Optional[int] = None,
):
    """Play ``num_games`` full episodes between two players in the batched env.

    Args:
        players: a pair ``(player_0, player_1)`` of :class:`Player`.
        num_games: games played in parallel.
        payoffs: any payoff spec of :func:`ipd_env.game.make_payoff_table`.
        num_rounds: rounds per episode.
        device: torch device of the env and the players.
        seed: seeds the players' generators (player_i gets ``seed + i``).

    Returns:
        dict with ``actions`` ``[2, num_rounds, num_games]`` int64 and ``rewards``
        ``[2, num_rounds, num_games]`` float32 (index 0 = player_0).
    """
    from ipd_env.vector import IPDVectorEnv

    if len(players) != 2:
        raise ValueError(f"play_episodes needs exactly two players, got {len(players)}")
    env = IPDVectorEnv(num_games, payoffs=payoffs, num_rounds=num_rounds, device=device)
    generators = []
    for index, player in enumerate(players):
        generator = None
        if seed is not None:
            generator = torch.Generator(device=env.device)
            generator.manual_seed(seed + index)
        generators.append(generator)
        player.reset(num_games, generator=generator)
    observations = env.reset()
    rewards = {agent: torch.zeros(num_games, device=env.device) for agent in AGENTS}
    all_actions = torch.empty(2, num_rounds, num_games, dtype=torch.int64, device=env.device)
    all_rewards = torch.empty(2, num_rounds, num_games, dtype=torch.float32, device=env.device)
    for round_index in range(num_rounds):
        actions = {agent: player.act(observations[agent], rewards[agent]) for agent, player in zip(AGENTS, players)}
        observations, rewards, _, _, _ = env.step(actions)
        for index, agent in enumerate(AGENTS):
            all_actions[index, round_index] = actions[agent]
            all_rewards[index, round_index] = rewards[agent]
    return {"actions": all_actions, "rewards": all_rewards}


def play_match(
    player,
    coplayer,
    num_games: int,
    generator: torch.Generator,
    num_rounds: int = 100,
    payoffs="paper",
    device="cpu",
    player_identity: Optional[torch.Tensor] = None,
    coplayer_identity: Optional[torch.Tensor] = None,
):
    """Play ``num_games`` episodes of ``player`` (as player_0) against ``coplayer``, one generator for both.

    Both players are reset with ``generator`` (so one seed fixes the match) and the
    batched env skips action validation (the players are trusted). ``player_identity`` /
    ``coplayer_identity`` (``[num_games, 5]``), when given, are passed to that player's
    ``reset`` as ``opponent_identity`` (the identity vector of the opponent-ID mode; give
    it only to players whose ``reset`` accepts it).

    Returns:
        dict with ``actions`` and ``rewards``, each ``[2, num_rounds, num_games]``
        (row 0 = ``player``), int64 and float32.
    """
    from ipd_env.vector import IPDVectorEnv

    env = IPDVectorEnv(num_games, payoffs=payoffs, num_rounds=num_rounds, device=device, validate_actions=False)
    for each, identity in ((player, player_identity), (coplayer, coplayer_identity)):
        if identity is None:
            each.reset(num_games, generator=generator)
        else:
            each.reset(num_games, generator=generator, opponent_identity=identity)
    one_hot = torch.eye(NUM_OBSERVATIONS, device=env.device)
    env.reset()
    index = torch.full((2, num_games), START, dtype=torch.int64, device=env.device)
    rewards = torch.zeros(2, num_games, device=env.device)
    all_actions = torch.empty(2, num_rounds, num_games, dtype=torch.int64, device=env.device)
    all_rewards = torch.empty(2, num_rounds, num_games, device=env.device)
    for round_index in range(num_rounds):
        joint = torch.stack([player.act(one_hot[index[0]], rewards[0]), coplayer.act(one_hot[index[1]], rewards[1])])
        index, rewards = env.step_indices(joint)
        all_actions[:, round_index] = joint
        all_rewards[:, round_index] = rewards
    return {"actions": all_actions, "rewards": all_rewards}
