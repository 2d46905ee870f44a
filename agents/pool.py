"""The training pool: who plays whom in one iteration, written once for A2C and PPI.

A :class:`TrainingPool` plays every game of an iteration at once in one
:class:`~ipd_env.vector.IPDVectorEnv` and returns, per learner, the recorded
trajectories ``[T, B]`` plus the metrics of the paper's figures.

Pool modes (the "condition" of a run decides the mode):

| mode            | each learner's ``B`` games                          | used by            |
|-----------------|-----------------------------------------------------|--------------------|
| ``mixed``       | half vs the other learner(s), half vs a fresh       | Fig. 1 (Step 4)    |
|                 | memory-1 agent drawn from the pool distribution     |                    |
| ``opponent-id`` | as ``mixed``, plus the identity vector (log p(C|o)  | Fig. 1 ablation    |
|                 | of the tabular co-player, zeros vs a learner)       |                    |
| ``no-tabular``  | all vs the other learner(s)                         | Fig. 1 ablation    |
| ``learners-only``| all vs the other learner(s)                        | Step 3             |
| ``tabular-only``| all vs fresh memory-1 agents of the distribution    | Step 1             |
| ``vs-frozen``   | all vs the frozen player(s), e.g. the Fixed-ICL     | Step 2             |

The tabular co-players are drawn per game per episode from a pool distribution
(``pool``, see :func:`baselines.incontext.parse_pool`): ``"uniform"``, the paper's
U(0, 1)^5, by default.

Games between two learners give data to both (learner i as ``player_0``, learner j as
``player_1``); the learner-vs-learner share of a learner's games is split evenly over
the other learners, so ``B * share`` must be divisible by ``num_learners - 1``.

Learners are players (``ipd_env.player``) that keep their own history; in the
``opponent-id`` mode their ``reset`` receives ``opponent_identity=[B, 10]`` (log pi(a | o) of a
tabular co-player, :func:`ipd_env.memory_one.opponent_log_policy`; zeros for a learner).
Randomness: one ``torch.Generator`` drives the tabular draws and every player's
sampling in a fixed order, so the same generator state gives the same data on CPU.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import torch

from baselines.incontext import parse_pool
from baselines.tabular import IDENTITY_SIZE, MemoryOnePool, opponent_log_policy
from ipd_env.player import Seat, play, reset_player
from ipd_env.vector import IPDVectorEnv

KIND_LEARNER, KIND_TABULAR, KIND_FROZEN = 0, 1, 2
KIND_NAMES = ("learner", "tabular", "frozen")

#: Share of each learner's games per co-player kind.
POOL_MODES = {
    "mixed": {"learner": 0.5, "tabular": 0.5},
    "opponent-id": {"learner": 0.5, "tabular": 0.5},
    "no-tabular": {"learner": 1.0},
    "learners-only": {"learner": 1.0},
    "tabular-only": {"tabular": 1.0},
    "vs-frozen": {"frozen": 1.0},
}
IDENTITY_MODES = ("opponent-id",)


def check_pool_mode(mode: str) -> str:
    if mode not in POOL_MODES:
        raise ValueError(f"unknown pool mode {mode!r}; known modes: {', '.join(POOL_MODES)}")
    return mode


def split_games(mode: str, num_learners: int, games_per_learner: int, num_frozen: int = 0) -> dict:
    """Each learner's games per co-player kind, ``{"learner" | "tabular" | "frozen": count}``.

    The check of a :class:`TrainingPool`'s arguments without building one (no env, no tensors),
    so a harness can validate a run's batch before it starts. Raises ``ValueError`` for an
    unknown mode, too few learners or frozen players, or ``games_per_learner`` not divisible
    as the mode needs (the message says which divisor).
    """
    shares = POOL_MODES[check_pool_mode(mode)]
    if num_learners < 1:
        raise ValueError(f"num_learners must be >= 1, got {num_learners}")
    if "learner" in shares and num_learners < 2:
        raise ValueError(f"pool mode {mode!r} plays learners against each other and needs num_learners >= 2")
    if "frozen" in shares and num_frozen < 1:
        raise ValueError(f"pool mode {mode!r} needs at least one frozen player, got num_frozen={num_frozen}")
    if "frozen" not in shares and num_frozen:
        raise ValueError(f"pool mode {mode!r} takes no frozen players, got num_frozen={num_frozen}")
    counts = {}
    for kind, share in shares.items():
        games = games_per_learner * share
        divisor = {"learner": num_learners - 1, "tabular": 1, "frozen": num_frozen}[kind]
        if games != int(games) or int(games) % divisor:
            raise ValueError(
                f"games_per_learner={games_per_learner} does not split as pool mode {mode!r} needs: "
                f"{share:g} of it vs {kind} co-players must be a whole number divisible by {divisor}; "
                f"choose a multiple of {int(round(divisor / share))}"
            )
        counts[kind] = int(games)
    return counts


@dataclass
class LearnerTrajectory:
    """One learner's games of one iteration.

    Attributes:
        observation_index: ``[T, B]`` int64, the first-person observation before acting
            at round t (START at t = 0).
        actions: ``[T, B]`` int64, own action at round t (0 = C, 1 = D).
        rewards: ``[T, B]`` float32, own reward of round t (unscaled).
        co_player_kind: ``[B]`` int64, :data:`KIND_LEARNER` / ``KIND_TABULAR`` / ``KIND_FROZEN``.
        opponent_identity: ``[B, 10]`` float32 (zeros unless the mode gives identities).
        co_player_actions: ``[T, B]`` int64, the co-player's action at round t.
        co_player_rewards: ``[T, B]`` float32, the co-player's reward at round t.
    """

    observation_index: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    co_player_kind: torch.Tensor
    opponent_identity: torch.Tensor
    co_player_actions: torch.Tensor
    co_player_rewards: torch.Tensor


class TrainingPool:
    """Match-making and batched play for one iteration.

    Args:
        mode: one of :data:`POOL_MODES`.
        num_learners: trainable learners (2 in the paper's figures, 1 in Step 1).
        games_per_learner: ``B``, episodes each learner plays per iteration.
        num_frozen: frozen players (``vs-frozen`` mode only).
        num_rounds: rounds per episode (100 in the paper).
        payoffs: payoff spec (see ``ipd_env.game.make_payoff_table``).
        device: torch device of the env, the trajectories and the players' inputs.
        pool: the tabular co-players' distribution, a spec of
            :func:`baselines.incontext.parse_pool` (default ``"uniform"``, the paper's).

    Raises:
        ValueError: an unknown mode, ``B`` not divisible as the mode needs (the
            message says which divisor), or a bad pool spec.
    """

    def __init__(
        self,
        mode: str,
        num_learners: int,
        games_per_learner: int,
        num_frozen: int = 0,
        num_rounds: int = 100,
        payoffs="paper",
        device="cpu",
        pool="uniform",
    ):
        self.mode = check_pool_mode(mode)
        self.pool_distribution = parse_pool(pool, payoffs)
        self.num_learners = num_learners
        self.games_per_learner = games_per_learner
        self.num_frozen = num_frozen
        self.num_rounds = num_rounds
        self.device = torch.device(device)
        self.uses_opponent_identity = mode in IDENTITY_MODES
        self.counts = split_games(mode, num_learners, games_per_learner, num_frozen)
        self._build_layout()
        self.env = IPDVectorEnv(self.num_env_games, payoffs=payoffs, num_rounds=num_rounds, device=self.device,
                                validate_actions=False)
        self.tabular = (MemoryOnePool(self.pool_distribution, self.device)
                        if self.tabular_games is not None else None)

    def _build_layout(self) -> None:
        """Place every game in the env: per learner, its env game and side for each batch slot."""
        learner_games = [[] for _ in range(self.num_learners)]
        learner_sides = [[] for _ in range(self.num_learners)]
        learner_kinds = [[] for _ in range(self.num_learners)]
        next_game = 0
        per_pair = self.counts.get("learner", 0) // max(self.num_learners - 1, 1)
        if "learner" in self.counts:
            for first in range(self.num_learners):
                for second in range(first + 1, self.num_learners):
                    games = list(range(next_game, next_game + per_pair))
                    next_game += per_pair
                    learner_games[first] += games
                    learner_sides[first] += [0] * per_pair
                    learner_games[second] += games
                    learner_sides[second] += [1] * per_pair
                    learner_kinds[first] += [KIND_LEARNER] * per_pair
                    learner_kinds[second] += [KIND_LEARNER] * per_pair
        self.tabular_games = None
        if "tabular" in self.counts:
            count = self.counts["tabular"]
            tabular = []
            for learner in range(self.num_learners):
                games = list(range(next_game, next_game + count))
                next_game += count
                learner_games[learner] += games
                learner_sides[learner] += [0] * count
                learner_kinds[learner] += [KIND_TABULAR] * count
                tabular += games
            self.tabular_games = torch.tensor(tabular, device=self.device)
            # Row of each learner's tabular slots inside the tabular pool's batch.
            self._tabular_rows = [
                torch.arange(learner * count, (learner + 1) * count, device=self.device)
                for learner in range(self.num_learners)
            ]
        self.frozen_games = []
        if "frozen" in self.counts:
            per_frozen = self.counts["frozen"] // self.num_frozen
            frozen_games = [[] for _ in range(self.num_frozen)]
            for learner in range(self.num_learners):
                for frozen in range(self.num_frozen):
                    games = list(range(next_game, next_game + per_frozen))
                    next_game += per_frozen
                    learner_games[learner] += games
                    learner_sides[learner] += [0] * per_frozen
                    learner_kinds[learner] += [KIND_FROZEN] * per_frozen
                    frozen_games[frozen] += games
            self.frozen_games = [torch.tensor(games, device=self.device) for games in frozen_games]
        self.num_env_games = next_game
        self.learner_games = [torch.tensor(games, device=self.device) for games in learner_games]
        self.learner_sides = [torch.tensor(sides, device=self.device) for sides in learner_sides]
        self.co_player_kinds = [torch.tensor(kinds, dtype=torch.int64, device=self.device) for kinds in learner_kinds]
        self.games_by_kind = [kind_games(kinds) for kinds in self.co_player_kinds]  # fixed layout: found once

    def play(self, learners: Sequence, generator: torch.Generator, frozen: Sequence = ()):
        """Play one iteration: every learner plays its ``B`` games, all at once.

        Args:
            learners: ``num_learners`` players (trainable; they keep their own history).
            generator: drives the tabular draws and every player's sampling.
            frozen: ``num_frozen`` players (``vs-frozen`` mode).

        Returns:
            ``(trajectories, metrics)``: a :class:`LearnerTrajectory` per learner and a dict
            of per-round means (see :func:`pool_metrics`).
        """
        if len(learners) != self.num_learners:
            raise ValueError(f"this pool needs {self.num_learners} learners, got {len(learners)}")
        if len(frozen) != self.num_frozen:
            raise ValueError(f"this pool needs {self.num_frozen} frozen players, got {len(frozen)}")
        batch = self.games_per_learner
        identities = [torch.zeros(batch, IDENTITY_SIZE, device=self.device) for _ in learners]
        if self.tabular is not None:
            self.tabular.reset(int(self.tabular_games.numel()), generator)
            if self.uses_opponent_identity:
                tabular_identity = opponent_log_policy(self.tabular.cooperation_probabilities)
                offset = self.counts.get("learner", 0)
                for learner, rows in enumerate(self._tabular_rows):
                    identities[learner][offset:offset + rows.numel()] = tabular_identity[rows]
        for learner, player in zip(range(self.num_learners), learners):
            reset_player(player, batch, generator, identities[learner] if self.uses_opponent_identity else None)
        for player, games in zip(frozen, self.frozen_games):
            player.reset(int(games.numel()), generator=generator)

        seats = [Seat(player, sides, games)
                 for player, sides, games in zip(learners, self.learner_sides, self.learner_games)]
        if self.tabular is not None:
            seats.append(Seat(self.tabular, 1, self.tabular_games))
        seats += [Seat(player, 1, games) for player, games in zip(frozen, self.frozen_games)]
        played = play(seats, self.env)
        trajectories = []
        for learner, sides, games in zip(range(self.num_learners), self.learner_sides, self.learner_games):
            def seen(key, side, games=games):  # the env's [2, T, N] -> this learner's [T, B]
                return played[key][side, :, games].t().contiguous()

            trajectories.append(LearnerTrajectory(
                observation_index=seen("observation_index", sides),
                actions=seen("actions", sides),
                rewards=seen("rewards", sides),
                co_player_kind=self.co_player_kinds[learner],
                opponent_identity=identities[learner],
                co_player_actions=seen("actions", 1 - sides),
                co_player_rewards=seen("rewards", 1 - sides),
            ))
        return trajectories, pool_metrics(trajectories, self.games_by_kind)


def kind_games(co_player_kind: torch.Tensor) -> dict:
    """``{kind: game indices}`` of the kinds a learner meets (from its ``co_player_kind`` [B]); a pool's
    layout is fixed, so :class:`TrainingPool` computes this once (it waits for the device)."""
    return {kind: (co_player_kind == kind).nonzero().flatten()
            for kind in range(len(KIND_NAMES)) if bool((co_player_kind == kind).any())}


def pool_metrics(trajectories: Sequence[LearnerTrajectory], games_by_kind: Optional[Sequence[dict]] = None) -> dict:
    """Per-round mean reward and cooperation rate of the learners, split by co-player kind.

    Keys ``learner_vs_<kind>/reward`` and ``learner_vs_<kind>/cooperation`` for every kind
    present (learner, tabular, frozen); against frozen players also
    ``learner_vs_frozen/co_player_reward`` and ``.../co_player_cooperation``. Means are over
    all rounds of all learners' games of that kind.

    ``games_by_kind`` (one :func:`kind_games` per trajectory, e.g. the pool's, made once) keeps
    every sum on the device until one transfer at the end, so on a GPU the metrics cost one host
    synchronisation, not one per number; without it they are computed from ``co_player_kind``.
    """
    if games_by_kind is None:
        games_by_kind = [kind_games(trajectory.co_player_kind) for trajectory in trajectories]
    keys, sums, counts = [], [], []
    for trajectory, games in zip(trajectories, games_by_kind):
        for kind, indices in games.items():
            name = KIND_NAMES[kind]
            values = {
                "reward": trajectory.rewards.index_select(1, indices),
                "cooperation": (trajectory.actions.index_select(1, indices) == 0).float(),
            }
            if kind == KIND_FROZEN:
                values["co_player_reward"] = trajectory.co_player_rewards.index_select(1, indices)
                values["co_player_cooperation"] = (trajectory.co_player_actions.index_select(1, indices) == 0).float()
            for key, value in values.items():
                keys.append(f"learner_vs_{name}/{key}")
                sums.append(value.sum())
                counts.append(value.numel())
    totals: dict = {}
    for key, total, count in zip(keys, torch.stack(sums).tolist() if sums else [], counts):  # the one transfer
        previous_total, previous_count = totals.get(key, (0.0, 0))
        totals[key] = (previous_total + total, previous_count + count)
    return {key: total / count for key, (total, count) in totals.items()}
