"""The co-player zoo: memory-1 policies, named classics, zero-determinant strategies.

A memory-1 policy is five cooperation probabilities indexed by the first-person
observation (``ipd_env.game``): ``(start, CC, CD, DC, DD)``. One policy for all games is a
``[5]`` vector; a batch of policies (one per game, as the training pool draws them) is
``[num_games, 5]``. Every member plays through the player interface of
:mod:`ipd_env.player`.

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

from typing import Optional, Sequence

import numpy as np
import torch

from ipd_env.game import NUM_OBSERVATIONS, PayoffSpec, check_probabilities, gtft_generosity, symmetric_payoffs

# Extortion uses punishment P as baseline, generosity uses reward R (Press & Dyson; Stewart & Plotkin).
ZD_BASELINES = ("extortionate", "generous")


class MemoryOnePlayer:
    """A memory-1 policy (or one per game) playing through the player interface.

    Args:
        cooperation_probabilities: ``[5]`` (one policy for all games) or
            ``[num_games, 5]`` (one row per game), each in [0, 1], indexed by the
            first-person observation (start, CC, CD, DC, DD).
        name: shown in tables and plots.

    Actions: defect (1) when a uniform draw ``u ~ U[0, 1)`` satisfies ``u >= p(C | o)``,
    so probabilities 0 and 1 play deterministically.
    """

    memory_depth = 1

    def __init__(self, cooperation_probabilities, name: Optional[str] = None):
        if isinstance(cooperation_probabilities, torch.Tensor):
            values = cooperation_probabilities.detach().to("cpu", torch.float64).numpy()
        else:
            values = np.asarray(cooperation_probabilities, dtype=np.float64)
        check_probabilities(values)
        if values.ndim not in (1, 2) or values.shape[-1] != NUM_OBSERVATIONS:
            raise ValueError(
                f"a memory-1 policy needs {NUM_OBSERVATIONS} cooperation probabilities (start, CC, CD, DC, DD), "
                f"shape [5] or [num_games, 5]; got shape {values.shape}"
            )
        self.cooperation_probabilities = torch.as_tensor(values, dtype=torch.float32)
        self.name = name or "memory-1"
        self._table: Optional[torch.Tensor] = None
        self._generator: Optional[torch.Generator] = None
        self._num_games = 0

    @property
    def batched(self) -> bool:
        return self.cooperation_probabilities.ndim == 2

    def __repr__(self) -> str:
        if self.batched:
            return f"MemoryOnePlayer({self.name!r}, {self.cooperation_probabilities.shape[0]} policies)"
        values = ", ".join(f"{value:.3g}" for value in self.cooperation_probabilities.tolist())
        return f"MemoryOnePlayer({self.name!r}, [{values}])"

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None) -> None:
        if self.batched and self.cooperation_probabilities.shape[0] != num_games:
            raise ValueError(
                f"{self.name}: this batch holds {self.cooperation_probabilities.shape[0]} policies "
                f"but {num_games} games were requested"
            )
        self._num_games = num_games
        self._generator = generator
        self._table = None  # moved to the observation's device at the first act

    def probabilities(self, observation_index: torch.Tensor) -> torch.Tensor:
        """Cooperation probability ``[num_games]`` for observation indices ``[num_games]``."""
        table = self._table
        if table is None or table.device != observation_index.device:
            table = self._table = self.cooperation_probabilities.to(observation_index.device)
        if self.batched:
            return table.gather(1, observation_index.unsqueeze(1)).squeeze(1)
        return table[observation_index]

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        index = observation.argmax(dim=-1)
        cooperate = self.probabilities(index)
        generator = self._generator
        if generator is not None and generator.device != index.device:
            raise ValueError(f"{self.name}: generator on {generator.device} but observations on {index.device}")
        draw = torch.rand(index.shape[0], generator=generator, device=index.device)
        return (draw >= cooperate).long()


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

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None) -> None:
        self._triggered = None
        self._num_games = num_games

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        index = observation.argmax(dim=-1)
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


def sample_memory_one(num_games: int, generator: Optional[torch.Generator] = None, device="cpu") -> torch.Tensor:
    """Draw ``[num_games, 5]`` cooperation probabilities i.i.d. from U(0, 1): the paper's pool."""
    return torch.rand(num_games, NUM_OBSERVATIONS, generator=generator, device=device)


def opponent_id(cooperation_probabilities: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """The "opponent ID" conditioning vector of SPEC section 3: ``log p(C | o)``, ``[..., 5]``.

    Probabilities below ``floor`` are raised to it so that deterministic co-players get a
    finite vector (log 1e-6 = -13.8).
    """
    return torch.log(cooperation_probabilities.clamp_min(floor))


class MemoryOnePool:
    """A pool of memory-1 co-players: a fresh policy per game per episode, from a distribution.

    Each :meth:`reset` draws new ``[num_games, 5]`` probabilities from the generator, so
    every episode meets fresh co-players. The current draw is :attr:`cooperation_probabilities`
    and its identity vector :meth:`identity`.

    Args:
        distribution: what to draw from, any object with ``sample(num_games, generator,
            device) -> [num_games, 5]`` and a ``spec`` string, e.g.
            ``baselines.incontext.parse_pool("beta:0.5,0.5")``; ``None`` = the paper's
            uniform pool (:func:`sample_memory_one`).
        device: where to draw when :meth:`reset` gets no generator.
    """

    memory_depth = 1

    def __init__(self, distribution=None, device="cpu"):
        self.distribution = distribution
        self.device = torch.device(device)
        spec = "uniform" if distribution is None else distribution.spec
        self.name = "uniform-memory-1" if spec == "uniform" else f"memory-1 pool {spec}"
        self.cooperation_probabilities: Optional[torch.Tensor] = None
        self._player: Optional[MemoryOnePlayer] = None

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None) -> None:
        device = generator.device if generator is not None else self.device
        if self.distribution is None:
            self.cooperation_probabilities = sample_memory_one(num_games, generator, device)
        else:
            self.cooperation_probabilities = self.distribution.sample(num_games, generator, device)
        self._player = MemoryOnePlayer(self.cooperation_probabilities, name=self.name)
        self._player.cooperation_probabilities = self.cooperation_probabilities  # keep device, skip copy
        self._player.reset(num_games, generator)

    def identity(self) -> torch.Tensor:
        """``[num_games, 5]`` log cooperation probabilities of the current co-players."""
        if self.cooperation_probabilities is None:
            raise RuntimeError(f"{type(self).__name__}.identity called before reset()")
        return opponent_id(self.cooperation_probabilities)

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if self._player is None:
            raise RuntimeError(f"{type(self).__name__}.act called before reset()")
        return self._player.act(observation, reward)


class UniformMemoryOnePool(MemoryOnePool):
    """The paper's tabular pool: a fresh uniform-random memory-1 policy per game per episode."""

    name = "uniform-memory-1"

    def __init__(self, device="cpu"):
        super().__init__(None, device)


def zoo(payoffs: PayoffSpec = "paper", names: Sequence[str] = ZOO_NAMES) -> dict:
    """``{name: player}`` for the named zoo members."""
    return {canonical_name(name): make_player(name, payoffs) for name in names}
