"""Batched IPD: ``num_games`` games stepped at once as torch tensors, on CPU or CUDA.

The same rules as the PettingZoo env (payoffs, encoding and horizon from
:mod:`ipd_env.game`); ``tests/ipd_env/test_vector.py`` steps both side by side. This is
the env that training uses: the mixed pool, A2C and PPI all step it.

Two ways to step:

* :meth:`IPDVectorEnv.step`: PettingZoo-shaped dicts keyed by agent, one-hot
  observations ``[num_games, 5]`` float32, rewards ``[num_games]``;
* :meth:`IPDVectorEnv.step_indices`: the hot path, actions ``[2, num_games]`` in,
  observation indices ``[2, num_games]`` int64 and rewards ``[2, num_games]`` out.

All games start together and end together after ``num_rounds`` rounds (truncation,
as in the PettingZoo env); stepping a finished batch raises until :meth:`reset`.
"""
from __future__ import annotations

from typing import Mapping, Optional, Union

import torch

from ipd_env.game import (
    AGENTS,
    DEFAULT_NUM_ROUNDS,
    NUM_OBSERVATIONS,
    START,
    check_num_rounds,
    first_person_payoffs,
    make_payoff_table,
)

ActionsLike = Union[torch.Tensor, Mapping[str, torch.Tensor]]


class IPDVectorEnv:
    """``num_games`` IPD games between ``player_0`` and ``player_1`` as tensors.

    Args:
        num_games: games stepped in parallel (N).
        payoffs: preset name, (R, S, T, P), 2x2 or 2x2x2 (see ``make_payoff_table``).
        num_rounds: rounds per episode (the PettingZoo env's ``max_cycles``).
        device: torch device of every tensor in and out.
        dtype: float dtype of observations and rewards.
        validate_actions: check every step that actions are integer 0/1 of shape [N]
            (a reduction per step; turn off only in measured hot loops that build their
            actions from valid sampling).

    Observations are first-person (``1 + 2 * own + other``, 0 = START), one per agent.
    """

    possible_agents = AGENTS

    def __init__(
        self,
        num_games: int,
        payoffs="paper",
        num_rounds: int = DEFAULT_NUM_ROUNDS,
        device: Union[str, torch.device] = "cpu",
        dtype: torch.dtype = torch.float32,
        validate_actions: bool = True,
    ):
        if isinstance(num_games, bool) or not isinstance(num_games, int) or num_games < 1:
            raise ValueError(f"num_games must be a positive integer, got {num_games!r}")
        self.num_games = num_games
        self.num_rounds = check_num_rounds(num_rounds)
        self.device = torch.device(device)
        self.dtype = dtype
        self.validate_actions = validate_actions
        self.payoff_table = make_payoff_table(payoffs)
        own_frame = first_person_payoffs(self.payoff_table)  # [player, own, other]
        # reward_lookup[player, 2 * a0 + a1]: reward of each player for the joint action.
        lookup = torch.tensor(own_frame, dtype=dtype)
        self._reward_lookup = torch.stack(
            [lookup[0].reshape(4), lookup[1].transpose(0, 1).reshape(4)], dim=0
        ).to(self.device)
        # The same table indexed by player_0's observation 1 + 2 * a0 + a1 (column 0, START, unused),
        # so that the hot path gathers rewards straight from the observation it already wrote.
        self._reward_by_observation = torch.cat(
            [torch.zeros(2, 1, dtype=dtype, device=self.device), self._reward_lookup], dim=1
        )
        self._one_hot = torch.eye(NUM_OBSERVATIONS, dtype=dtype, device=self.device)
        self._player_index = torch.arange(2, device=self.device).unsqueeze(1)
        self.round = 0
        self._needs_reset = True
        self.observation_index = torch.full((2, num_games), START, dtype=torch.int64, device=self.device)

    @property
    def done(self) -> bool:
        """True once the last round was played (until the next reset)."""
        return self.round >= self.num_rounds

    def reset(self, seed: Optional[int] = None) -> dict[str, torch.Tensor]:
        """Start new episodes; returns the START one-hot ``[N, 5]`` per agent.

        The game itself is deterministic; ``seed`` is accepted for API symmetry.
        """
        self.round = 0
        self._needs_reset = False
        self.observation_index.fill_(START)
        return self._observations()

    def _observations(self) -> dict[str, torch.Tensor]:
        one_hot = self._one_hot[self.observation_index]  # [2, N, 5]
        return {AGENTS[0]: one_hot[0], AGENTS[1]: one_hot[1]}

    def _check(self, actions: torch.Tensor) -> None:
        if actions.dtype in (torch.bool,) or actions.is_floating_point() or actions.is_complex():
            raise TypeError(f"actions must be an integer tensor of 0 (cooperate) / 1 (defect), got dtype {actions.dtype}")
        if actions.shape != (2, self.num_games):
            raise ValueError(f"actions must have shape [2, {self.num_games}] (one row per agent), got {tuple(actions.shape)}")
        # One reduction and one host sync on the valid path; the offending entry is only searched for on error.
        lowest, highest = torch.aminmax(actions)
        if bool((lowest < 0) | (highest > 1)):
            bad = (actions < 0) | (actions > 1)
            agent_index, game_index = (int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"action for {AGENTS[agent_index]!r} in game {game_index} must be 0 (cooperate) or 1 (defect), "
                f"got {int(actions[agent_index, game_index])}"
            )

    def step_indices(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Play one round from joint actions ``[2, N]`` int (row 0 = player_0).

        Returns:
            observation indices ``[2, N]`` int64 (first-person, row i for player i) and
            rewards ``[2, N]`` of ``dtype``.
        """
        if self._needs_reset:
            raise RuntimeError("IPDVectorEnv.step called before reset(); call reset() first")
        if self.round >= self.num_rounds:
            raise RuntimeError(
                f"IPDVectorEnv.step called after the episode ended (all {self.num_rounds} rounds played); call reset()"
            )
        if actions.device != self.device:
            actions = actions.to(self.device)
        if self.validate_actions:
            self._check(actions)
        own, other = actions[0], actions[1]
        observation_0, observation_1 = self.observation_index[0], self.observation_index[1]
        # First-person indices written in place (no temporaries): 1 + 2 * own + other for
        # player_0, and with own and other swapped for player_1.
        torch.add(other, own, alpha=2, out=observation_0).add_(1)
        torch.add(own, other, alpha=2, out=observation_1).add_(1)
        rewards = self._reward_by_observation.gather(1, observation_0.unsqueeze(0).expand(2, -1))
        self.round += 1
        return self.observation_index, rewards

    def step(self, actions: ActionsLike):
        """PettingZoo-shaped step over the batch.

        Args:
            actions: ``{"player_0": [N] int, "player_1": [N] int}`` or a ``[2, N]`` tensor.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``, each a dict keyed
            by agent: one-hot ``[N, 5]``, rewards ``[N]``, bool ``[N]`` (terminations are
            always False: the game only ends by truncation at ``num_rounds``), and
            ``{"round": int}``.
        """
        if isinstance(actions, Mapping):
            missing = [agent for agent in AGENTS if agent not in actions]
            extra = [agent for agent in actions if agent not in AGENTS]
            if missing or extra:
                raise KeyError(
                    f"actions must have exactly the agents {list(AGENTS)}; missing {missing}, unknown {extra}"
                )
            actions = torch.stack([torch.as_tensor(actions[agent], device=self.device) for agent in AGENTS])
        else:
            actions = torch.as_tensor(actions, device=self.device)
        _, rewards = self.step_indices(actions)
        done = self.done
        terminations = torch.zeros(self.num_games, dtype=torch.bool, device=self.device)
        truncations = torch.full((self.num_games,), done, dtype=torch.bool, device=self.device)
        observations = self._observations()
        reward_dict = {AGENTS[0]: rewards[0], AGENTS[1]: rewards[1]}
        info = {"round": self.round}
        return (
            observations,
            reward_dict,
            {agent: terminations for agent in AGENTS},
            {agent: truncations for agent in AGENTS},
            {agent: dict(info) for agent in AGENTS},
        )
