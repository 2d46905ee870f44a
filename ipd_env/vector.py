"""Batched IPD: ``num_games`` games stepped at once as torch tensors, on CPU or CUDA.

The same rules as the PettingZoo env (payoffs, encoding and horizon from
:mod:`ipd_env.game`); ``tests/ipd_env/test_vector_equivalence.py`` steps both side by
side. This is the env that training uses: the mixed pool, A2C and PPI all step it.

Two ways to step:

* :meth:`IPDVectorEnv.step`: PettingZoo-shaped dicts keyed by agent, one-hot
  observations ``[num_games, 5]`` float32, rewards ``[num_games]``;
* :meth:`IPDVectorEnv.step_indices`: the hot path, actions ``[2, num_games]`` in,
  observation indices ``[2, num_games]`` int64 and rewards ``[2, num_games]`` out.

Every step returns fresh tensors: an observation kept from one step is never changed by
the next.

All games start together and end together after ``num_rounds`` rounds (truncation,
as in the PettingZoo env); stepping a finished batch raises until :meth:`reset`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Optional, Union

import numpy as np
import torch

from ipd_env.game import (
    AGENTS,
    DEFAULT_NUM_ROUNDS,
    NUM_OBSERVATIONS,
    START,
    check_count,
    check_flag,
    check_num_rounds,
    check_seed,
    make_payoff_table,
    rewards_by_observation,
)
from ipd_env.sizes import check_fits

ActionsLike = Union[torch.Tensor, Mapping[str, torch.Tensor]]
#: Largest relative change of a payoff that the env's dtype may make (float32: ~6e-8; bfloat16: ~4e-3).
PAYOFF_TOLERANCE = 1e-6
#: Bytes a game takes at the least (refused up front beyond the memory available): the
#: observation indices [2] int64 it keeps, and one step's new ones and rewards.
BYTES_PER_GAME = 40


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device`` this machine has; ``ValueError`` naming it otherwise."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda:0', got {device!r}") from error
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {str(device)!r}: torch sees no CUDA GPU here; use device='cpu'")
        if device.index is not None and device.index >= count:
            raise ValueError(f"device {str(device)!r}: torch sees {count} CUDA GPU(s), cuda:0..cuda:{count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(device)!r}: this machine has no usable Apple MPS device; use device='cpu'")
    elif device.type not in ("cpu", "cuda", "mps"):
        try:
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError) as error:
            raise ValueError(f"device {str(device)!r} is not usable here ({str(error).splitlines()[0]}); "
                             f"use device='cpu'") from None
    return device


class IPDVectorEnv:
    """``num_games`` IPD games between ``player_0`` and ``player_1`` as tensors.

    Args:
        num_games: games stepped in parallel (N), a Python or numpy integer >= 1.
        payoffs: preset name, (R, S, T, P), 2x2 or 2x2x2 (see ``make_payoff_table``).
        num_rounds: rounds per episode (the PettingZoo env's ``max_cycles``).
        device: torch device of every tensor in and out.
        dtype: floating dtype of observations and rewards (an integer dtype would
            truncate fractional payoffs, so it is refused; so is a dtype in which the
            payoffs overflow, e.g. float16 beyond 65504).
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
        num_games = check_count(num_games, "num_games")
        self.num_games = num_games
        self.num_rounds = check_num_rounds(num_rounds)
        self.device = check_device(device)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch dtype (e.g. torch.float32), got {dtype!r}")
        self.dtype = dtype
        self.validate_actions = check_flag(validate_actions, "validate_actions")
        self.payoff_table = make_payoff_table(payoffs)
        # Each player's reward indexed by player_0's observation 1 + 2 * a0 + a1 (column 0, START,
        # unused), so that the hot path gathers rewards straight from the observation it already wrote.
        exact = torch.tensor(rewards_by_observation(self.payoff_table), dtype=torch.float64)  # [2, 5]
        lookup = exact.to(dtype)
        if not bool(torch.isfinite(lookup).all()):
            raise ValueError(f"payoffs {payoffs!r} overflow dtype {dtype}; use torch.float32 or rescale the game")
        rounded = (lookup.double() - exact).abs() > PAYOFF_TOLERANCE * exact.abs().clamp_min(1.0)
        if bool(rounded.any()):
            value = exact[rounded][0].item()
            raise ValueError(f"payoffs {payoffs!r}: dtype {dtype} rounds the payoff {value!r} to "
                             f"{lookup.double()[rounded][0].item()!r}; use torch.float32 (or float64)")
        check_fits(num_games * BYTES_PER_GAME, f"IPDVectorEnv: num_games={num_games}", self.device,
                   hint="play fewer games at once")
        self._reward_by_observation = lookup.to(self.device)
        self._one_hot = torch.eye(NUM_OBSERVATIONS, dtype=dtype, device=self.device)
        self.round = 0
        self._needs_reset = True
        self.observation_index = torch.full((2, num_games), START, dtype=torch.int64, device=self.device)

    @property
    def done(self) -> bool:
        """True once the last round was played (until the next reset)."""
        return self.round >= self.num_rounds

    def reset(self, seed: Optional[int] = None) -> dict[str, torch.Tensor]:
        """Start new episodes; returns the START one-hot ``[N, 5]`` per agent.

        The game itself is deterministic; ``seed`` is accepted for API symmetry and checked
        as everywhere else (None or an integer in [0, 2**63 - 1]).
        """
        check_seed(seed)
        self.round = 0
        self._needs_reset = False
        self.observation_index = torch.full((2, self.num_games), START, dtype=torch.int64, device=self.device)
        return self._observations()

    def _observations(self) -> dict[str, torch.Tensor]:
        one_hot = self._one_hot[self.observation_index]  # [2, N, 5]
        return {AGENTS[0]: one_hot[0], AGENTS[1]: one_hot[1]}

    def _check(self, actions: torch.Tensor) -> None:
        if actions.dtype in (torch.bool,) or actions.is_floating_point() or actions.is_complex():
            raise TypeError(
                f"actions must be an integer tensor of 0 (cooperate) / 1 (defect), got dtype {actions.dtype}")
        if actions.shape != (2, self.num_games):
            raise ValueError(
                f"actions must have shape [2, {self.num_games}] (one row per agent), got {tuple(actions.shape)}")
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

        Args:
            actions: a ``[2, N]`` integer tensor (moved to ``device`` if elsewhere), or
                anything ``torch.as_tensor`` turns into one (nested lists, numpy arrays).

        Returns:
            observation indices ``[2, N]`` int64 (first-person, row i for player i) and
            rewards ``[2, N]`` of ``dtype``, both new tensors (later steps never change them).
        """
        if self._needs_reset:
            raise RuntimeError("IPDVectorEnv.step called before reset(); call reset() first")
        if self.round >= self.num_rounds:
            raise RuntimeError(
                f"IPDVectorEnv.step called after the episode ended (all {self.num_rounds} rounds played); call reset()"
            )
        if not isinstance(actions, torch.Tensor):
            actions = self._as_tensor(actions, "actions")
        if actions.device != self.device:
            actions = actions.to(self.device)
        if self.validate_actions:
            self._check(actions)
        if actions.dtype != torch.int64:
            actions = actions.long()
        # Row i: 1 + 2 * own + other from player i's side (the flip puts the other's action
        # under each own action). A new tensor each step, so indices handed out earlier
        # never change; three kernels, fewer than writing both rows into a kept buffer.
        # This is game.first_person_outcome(actions, actions.flip(0)) written with
        # torch.add's alpha: the generic `1 + 2 * own + other` takes a fourth kernel and two
        # more allocations, a cost this hot path shows (docs/speed.md, "Environments").
        observation_index = torch.add(actions.flip(0), actions, alpha=2).add_(1)
        rewards = self._reward_by_observation.gather(1, observation_index[:1].expand(2, -1))
        self.observation_index = observation_index
        self.round += 1
        return observation_index, rewards

    def _as_tensor(self, values, name: str) -> torch.Tensor:
        """``values`` (a list, numpy array or scalar) as a tensor on ``device``, or a TypeError naming ``name``."""
        if isinstance(values, np.ndarray) and values.dtype == object:
            raise TypeError(f"{name} must be integers 0 (cooperate) / 1 (defect), got an object array {values!r}")
        try:
            return torch.as_tensor(values, device=self.device)
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(
                f"{name} must be an integer tensor, numpy array or list of 0 (cooperate) / 1 (defect), "
                f"got {type(values).__name__}: {values!r}"
            ) from error

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
            rows = [self._as_tensor(actions[agent], f"actions[{agent!r}]") for agent in AGENTS]
            for agent, row in zip(AGENTS, rows):
                if tuple(row.shape) != (self.num_games,):
                    raise ValueError(
                        f"actions[{agent!r}] must have shape [{self.num_games}] (one action per game), "
                        f"got {tuple(row.shape)}"
                    )
            actions = torch.stack(rows)
        else:
            actions = self._as_tensor(actions, "actions")
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
