"""Where PPI's episodes come from: the pretraining set D_0 and the pool's trajectories.

Both produce the compact per-episode arrays of :mod:`agents.ppi.dataset`
(``outcomes`` ``[E, T]`` in 1..4, ``co_player_kind`` ``[E]``, ``identity`` ``[E, 10]``).

Pretraining (SPEC section 4 and the "no mixed pool" ablation of section 3):

* ``"tabular"``: games between two fresh memory-1 agents drawn from the run's pool
  distribution (``pool``; uniform-random by default, the paper's); both players'
  first-person views are kept, so ``num_episodes`` views come from ``num_episodes / 2`` games;
  the identity of each view is the *other* agent's log pi(a | o) (10 numbers);
* ``"random"``: both players play uniform coin flips every round (the paper's "random
  action sequences with their rewards"); identity zeros.
"""
from __future__ import annotations

from typing import Optional, Union

import torch

from agents.pool import KIND_TABULAR, LearnerTrajectory
from baselines.incontext import PoolDistribution, parse_pool
from baselines.tabular import IDENTITY_SIZE, MemoryOnePlayer, opponent_log_policy
from ipd_env.game import first_person_outcome
from ipd_env.player import Seat, play
from ipd_env.vector import IPDVectorEnv

PRETRAINING_KINDS = ("tabular", "random")
#: ``co_player_kind`` of random-sequence pretraining episodes (after the pool's 0..2).
KIND_RANDOM = 3


class RandomMoves:
    """Uniformly random moves, whatever was observed: the ``"random"`` pretraining kind's player."""

    name = "random moves"

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        self._generator = generator

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        return torch.randint(0, 2, observation.shape, generator=self._generator, device=observation.device)


def pretraining_episodes(
    num_episodes: int,
    kind: str = "tabular",
    num_rounds: int = 100,
    generator: Optional[torch.Generator] = None,
    pool: Union[str, PoolDistribution] = "uniform",
) -> dict[str, torch.Tensor]:
    """The pretraining data D_0 of one learner (see the module docstring).

    Args:
        num_episodes: first-person episodes, even (two views per game).
        kind: ``"tabular"`` or ``"random"``.
        num_rounds: rounds per episode.
        generator: CPU generator; the same state gives the same episodes.
        pool: the tabular agents' distribution (``"tabular"`` only), a spec or a
            :class:`~baselines.incontext.PoolDistribution` (build a ``zoo`` pool for a
            game other than the paper's with ``parse_pool("zoo", payoffs)``).

    Returns:
        ``outcomes`` ``[E, T]`` int64, ``co_player_kind`` ``[E]`` int64, ``identity`` ``[E, 10]`` float32.
    """
    if kind not in PRETRAINING_KINDS:
        raise ValueError(f"pretraining kind must be one of {PRETRAINING_KINDS}, got {kind!r}")
    if isinstance(num_episodes, bool) or not isinstance(num_episodes, int) or num_episodes < 2 or num_episodes % 2:
        raise ValueError(
            f"pretraining episodes must be an even integer >= 2 (two views per game), got {num_episodes!r}")
    distribution = parse_pool(pool)
    num_games = num_episodes // 2
    env = IPDVectorEnv(num_games, num_rounds=num_rounds, validate_actions=False)
    if kind == "tabular":
        policies = [distribution.sample(num_games, generator) for _ in range(2)]
        players = [MemoryOnePlayer(policy) for policy in policies]
        for player in players:
            player.reset(num_games, generator)
        seats = [Seat(players[0], 0), Seat(players[1], 1)]
        identity = torch.cat([opponent_log_policy(policies[1]), opponent_log_policy(policies[0])])
    else:
        # One player for both sides: its [2N] slots are side 0's games then side 1's, as one draw [2, N].
        player = RandomMoves()
        player.reset(num_episodes, generator)
        games = torch.arange(num_games)
        seats = [Seat(player, torch.repeat_interleave(torch.arange(2), num_games), torch.cat([games, games]))]
        identity = torch.zeros(num_episodes, IDENTITY_SIZE)
    # Each side's outcome of every round (its observation after the round), [2, T, N].
    own, other = play(seats, env)["actions"].unbind(0)
    outcomes = torch.stack([first_person_outcome(own, other), first_person_outcome(other, own)])
    return {
        "outcomes": outcomes.transpose(1, 2).reshape(num_episodes, num_rounds),
        "co_player_kind": torch.full((num_episodes,), KIND_TABULAR if kind == "tabular" else KIND_RANDOM),
        "identity": identity,
    }


def trajectory_episodes(trajectory: LearnerTrajectory) -> dict[str, torch.Tensor]:
    """One learner's games from the pool as data-set arrays (its own first-person view)."""
    outcomes = first_person_outcome(trajectory.actions, trajectory.co_player_actions)  # [T, B]
    return {
        "outcomes": outcomes.t().cpu(),
        "co_player_kind": trajectory.co_player_kind.cpu(),
        "identity": trajectory.opponent_identity.float().cpu(),
    }
