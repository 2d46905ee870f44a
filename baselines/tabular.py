"""The co-player zoo: memory-1 policies, named classics, zero-determinant strategies.

A memory-1 policy is five cooperation probabilities indexed by the first-person
observation (``ipd_env.game``): ``(start, CC, CD, DC, DD)``. One policy for all games is a
``[5]`` vector; a batch of policies (one per game, as the training pool draws them) is
``[num_games, 5]``. Every member plays through the player interface of
:mod:`ipd_env.player`. The memory-1 player and the pools (:class:`MemoryOnePlayer`,
:class:`MemoryOnePool`, :class:`UniformMemoryOnePool`, :func:`sample_memory_one`, :func:`opponent_id`)
are defined in :mod:`ipd_env.memory_one` and re-exported here; the env finds this zoo by name
through the ``ipd_env.co_players`` entry point (:func:`make_player`).

| name          | start | CC  | CD  | DC  | DD  | source                                   |
|---------------|-------|-----|-----|-----|-----|------------------------------------------|
| allc          | 1     | 1   | 1   | 1   | 1   | always cooperate                         |
| alld          | 0     | 0   | 0   | 0   | 0   | always defect                            |
| tft           | 1     | 1   | 0   | 1   | 0   | Tit for Tat [Axelrod 1980]               |
| stft          | 0     | 1   | 0   | 1   | 0   | Suspicious Tit for Tat                   |
| gtft          | 1     | 1   | q   | 1   | q   | Generous TFT [Nowak & Sigmund 1992]      |
| wsls          | 1     | 1   | 0   | 0   | 1   | Win-Stay Lose-Shift / Pavlov [Nowak 1993]|
| random        | .5    | .5  | .5  | .5  | .5  | coin flip                                |
| extort2       | 1     | .9  | .5  | .4  | 0   | ZD Extort-2 [Press & Dyson 2012]         |
| generous2     | 1     | 1   | .6  | .5  | .1  | ZD generous, chi = 2 [Stewart & Plotkin] |
| grim          | C until the other defects once, then D forever (stateful, NOT memory-1) |

``q`` is computed from the payoffs (1/2 for the paper's game). ZD values shown are for
the paper's game (1, -1, 2, 0).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np
import torch

from ipd_env.game import PayoffSpec, check_probabilities, gtft_generosity, symmetric_payoffs

# The memory-1 player and the pools live in the env's layer (the Gymnasium envs need them); re-exported here.
from ipd_env.memory_one import (  # noqa: F401  (re-exported: callers import them from baselines.tabular)
    IDENTITY_SIZE,
    MemoryOnePlayer,
    MemoryOnePool,
    UniformMemoryOnePool,
    opponent_id,
    opponent_log_policy,
    sample_memory_one,
)

# Extortion uses punishment P as baseline, generosity uses reward R (Press & Dyson; Stewart & Plotkin).
ZD_BASELINES = ("extortionate", "generous")


class GrimTrigger:
    """Grim trigger: cooperate until the other player defects once, then defect forever.

    Names: Grim Trigger, Grudger [Axelrod 1980: Friedman]. Memory depth: infinite; it
    keeps a per-game flag, so it is *not* a memory-1 policy and the exact evaluator does
    not accept it.
    """

    memory_depth = float("inf")
    name = "grim"

    def __init__(self):
        self._triggered: Optional[torch.Tensor] = None

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        self._triggered = None

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        index = observation
        if self._triggered is None or self._triggered.device != index.device:
            self._triggered = torch.zeros(index.shape[0], dtype=torch.bool, device=index.device)
        # The other defected last round: first-person outcomes CD (2) and DD (4).
        other_defected = (index == 2) | (index == 4)
        self._triggered |= other_defected
        return self._triggered.long()


def zero_determinant(
    chi: float,
    phi: Optional[float] = None,
    payoffs: PayoffSpec = "paper",
    kind: str = "extortionate",
    start: float = 1.0,
) -> np.ndarray:
    """Press-Dyson zero-determinant strategy as 5 cooperation probabilities.

    With S_X = (R, S, T, P), S_Y = (R, T, S, P) and baseline B (P for ``"extortionate"``,
    R for ``"generous"``)::

        (p_CC - 1, p_CD - 1, p_DC, p_DD) = phi * [(S_X - B) - chi * (S_Y - B)]

    which enforces ``s_X - B = chi * (s_Y - B)`` in the long run.

    Args:
        chi: extortion (or generosity) factor, ``chi >= 1``.
        phi: scale, ``0 < phi <= phi_max``; default: half of ``phi_max``.
        payoffs: a symmetric game.
        kind: ``"extortionate"`` or ``"generous"``.
        start: cooperation probability in the first round (not fixed by the theory).

    Returns:
        ``[5]`` float64: (start, CC, CD, DC, DD).

    Raises:
        ValueError: chi < 1, phi outside (0, phi_max], an unknown kind, or an
            asymmetric game; the message gives the allowed range.
    """
    if kind not in ZD_BASELINES:
        raise ValueError(f"zero-determinant kind must be one of {ZD_BASELINES}, got {kind!r}")
    reward, sucker, temptation, punishment = symmetric_payoffs(payoffs)
    if not (np.isfinite(chi) and chi >= 1.0):
        raise ValueError(f"zero-determinant chi must be a finite number >= 1, got {chi!r}")
    baseline = punishment if kind == "extortionate" else reward
    own = np.array([reward, sucker, temptation, punishment]) - baseline
    others = np.array([reward, temptation, sucker, punishment]) - baseline
    direction = own - chi * others
    offset = np.array([1.0, 1.0, 0.0, 0.0])
    # Largest phi keeping offset + phi * direction inside [0, 1] componentwise.
    bounds = []
    for base, slope in zip(offset, direction):
        if slope > 0:
            bounds.append((1.0 - base) / slope)
        elif slope < 0:
            bounds.append(base / -slope)
    phi_max = min(bounds) if bounds else np.inf
    if not phi_max > 0:
        raise ValueError(
            f"no valid zero-determinant {kind} strategy exists for chi={chi} with payoffs "
            f"R={reward}, S={sucker}, T={temptation}, P={punishment}"
        )
    if phi is None:
        phi = phi_max / 2
    if not (np.isfinite(phi) and 0.0 < phi <= phi_max * (1 + 1e-12)):
        raise ValueError(f"zero-determinant phi must satisfy 0 < phi <= {phi_max:.6g} for chi={chi}, got {phi!r}")
    check_probabilities(start, "zero-determinant start probability")
    probabilities = np.clip(offset + phi * direction, 0.0, 1.0)  # clips only float rounding at the bounds
    return np.concatenate([[float(start)], probabilities])


def _gtft(payoffs: PayoffSpec) -> np.ndarray:
    generosity = gtft_generosity(payoffs)
    return np.array([1, 1, generosity, 1, generosity])


# Built on demand: only GTFT and the ZD members need the payoffs (and a symmetric game),
# so AllC or TFT stay available under an asymmetric bimatrix.
_NAMED_CONSTRUCTORS = {
    "allc": lambda payoffs: np.array([1, 1, 1, 1, 1.0]),
    "alld": lambda payoffs: np.array([0, 0, 0, 0, 0.0]),
    "tft": lambda payoffs: np.array([1, 1, 0, 1, 0.0]),
    "stft": lambda payoffs: np.array([0, 1, 0, 1, 0.0]),
    "gtft": _gtft,
    "wsls": lambda payoffs: np.array([1, 1, 0, 0, 1.0]),
    "random": lambda payoffs: np.full(5, 0.5),
    "extort2": lambda payoffs: zero_determinant(2.0, payoffs=payoffs, kind="extortionate"),
    "generous2": lambda payoffs: zero_determinant(2.0, payoffs=payoffs, kind="generous"),
}


ZOO_NAMES = ("allc", "alld", "tft", "stft", "gtft", "wsls", "random", "grim", "extort2", "generous2")
ZOO_ALIASES = {
    "all_c": "allc", "cooperator": "allc", "all_d": "alld", "defector": "alld",
    "titfortat": "tft", "tit_for_tat": "tft", "suspicious_tft": "stft",
    "generous_tft": "gtft", "pavlov": "wsls", "win_stay_lose_shift": "wsls",
    "grudger": "grim", "grim_trigger": "grim", "extort_2": "extort2", "zd_extort2": "extort2",
}


def canonical_name(name: str) -> str:
    """Zoo name in canonical form (case, dashes and aliases folded); raises for unknown names."""
    if not isinstance(name, str):
        raise TypeError(f"a zoo co-player's name must be a string, one of {', '.join(ZOO_NAMES)}; got {name!r}")
    key = name.lower().replace("-", "_").replace(" ", "_")
    key = ZOO_ALIASES.get(key, key)
    if key not in ZOO_NAMES:
        raise ValueError(f"unknown co-player {name!r}; the zoo has: {', '.join(ZOO_NAMES)}")
    return key


def named_probabilities(name: str, payoffs: PayoffSpec = "paper") -> np.ndarray:
    """The 5 cooperation probabilities of a named memory-1 zoo member (not ``grim``)."""
    key = canonical_name(name)
    if key == "grim":
        raise ValueError("grim is stateful (not memory-1) and has no cooperation-probability vector")
    return _NAMED_CONSTRUCTORS[key](payoffs)


def make_player(name: str, payoffs: PayoffSpec = "paper"):
    """A named zoo member as a player (e.g. ``make_player("tft")``)."""
    key = canonical_name(name)
    if key == "grim":
        return GrimTrigger()
    return MemoryOnePlayer(named_probabilities(key, payoffs), name=key)


def zoo(payoffs: PayoffSpec = "paper", names: Sequence[str] = ZOO_NAMES) -> dict:
    """``{name: player}`` for the named zoo members."""
    return {canonical_name(name): make_player(name, payoffs) for name in names}
