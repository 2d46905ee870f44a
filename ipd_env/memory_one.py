"""Memory-1 co-players: the player, the paper's uniform pool, and named co-players by entry point.

A memory-1 policy is five cooperation probabilities indexed by the first-person
observation (:mod:`ipd_env.game`): ``(start, CC, CD, DC, DD)``. One policy for all games is
a ``[5]`` vector; a batch of policies (one per game, as the training pool draws them) is
``[num_games, 5]``. Everything here plays through the player interface of
:mod:`ipd_env.player`, and is what the Gymnasium envs need by themselves: their default
co-player is :class:`UniformMemoryOnePool`'s draw, and a probability vector becomes a
:class:`MemoryOnePlayer`.

Named co-players (``"tft"``, ``"extort2"``, ``"grim"``, ...) are not defined here: the zoo
lives in :mod:`baselines.tabular`, one layer up, and the env reaches it without importing it
through the ``ipd_env.co_players`` entry-point group (:func:`named_co_player`).
``baselines.tabular`` re-exports everything in this module, so
``from baselines.tabular import MemoryOnePlayer`` keeps working.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from ipd_env.game import NUM_OBSERVATIONS, check_count, check_probabilities


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
            values = cooperation_probabilities
        values = check_probabilities(values, "cooperation_probabilities")  # numbers in [0, 1], as float64
        if values.ndim not in (1, 2) or values.shape[-1] != NUM_OBSERVATIONS:
            raise ValueError(
                f"cooperation_probabilities: a memory-1 policy needs {NUM_OBSERVATIONS} cooperation probabilities "
                f"(start, CC, CD, DC, DD), shape [5] or [num_games, 5]; got shape {values.shape}"
            )
        self.cooperation_probabilities = torch.as_tensor(values, dtype=torch.float32)
        self.name = name or "memory-1"
        self._table: Optional[torch.Tensor] = None
        self._generator: Optional[torch.Generator] = None
        self._num_games: Optional[int] = None  # set by reset(); act() needs it

    @property
    def batched(self) -> bool:
        return self.cooperation_probabilities.ndim == 2

    def __repr__(self) -> str:
        if self.batched:
            return f"MemoryOnePlayer({self.name!r}, {self.cooperation_probabilities.shape[0]} policies)"
        values = ", ".join(f"{value:.3g}" for value in self.cooperation_probabilities.tolist())
        return f"MemoryOnePlayer({self.name!r}, [{values}])"

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        num_games = check_count(num_games, "num_games")
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
        try:  # the range is checked only when torch refuses an index: no check on the valid path
            if self.batched:
                return table.gather(1, observation_index.unsqueeze(1)).squeeze(1)
            return table[observation_index]
        except (IndexError, RuntimeError) as error:
            raise _bad_observation(self.name, observation_index, table.shape[0] if self.batched else None) from error

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if self._num_games is None:
            raise RuntimeError(f"{self.name}: act() called before reset(num_games); reset the player first")
        index = observation
        cooperate = self.probabilities(index)
        generator = self._generator
        if generator is not None and generator.device != index.device:
            raise ValueError(f"{self.name}: generator on {generator.device} but observations on {index.device}")
        draw = torch.rand(index.shape[0], generator=generator, device=index.device)
        return (draw >= cooperate).long()


def _bad_observation(name: str, observation_index, num_policies: Optional[int]) -> Exception:
    """The error for observation indices a memory-1 table cannot look up (``ValueError`` or ``TypeError``)."""
    if (not isinstance(observation_index, torch.Tensor) or observation_index.is_floating_point()
            or observation_index.is_complex() or observation_index.dtype == torch.bool):
        return TypeError(f"{name}: observation must be an int64 tensor of observation indices 0..4 (0 = START, "
                         f"1 + 2 * own + other), got {getattr(observation_index, 'dtype', type(observation_index))}")
    bad = observation_index[(observation_index < 0) | (observation_index >= NUM_OBSERVATIONS)]
    if bad.numel():
        return ValueError(f"{name}: observation indices must lie in 0..{NUM_OBSERVATIONS - 1} (0 = START, "
                          f"1 + 2 * own + other), got {bad[0].item()}")
    return ValueError(f"{name}: observation must have shape [num_games] matching the {num_policies} policies of "
                      f"this batch, got {tuple(observation_index.shape)}")


#: The name of the paper's uniform pool in tables, plots and the Gymnasium env's infos.
UNIFORM_POOL_NAME = "uniform-memory-1"


def sample_memory_one(num_games: int, generator: Optional[torch.Generator] = None, device="cpu") -> torch.Tensor:
    """Draw ``[num_games, 5]`` cooperation probabilities i.i.d. from U(0, 1): the paper's pool.

    The one definition of the uniform pool: :class:`MemoryOnePool`'s default, the Gymnasium
    envs' ``"pool"`` and ``baselines.incontext``'s ``"uniform"`` distribution all draw with it.
    """
    return torch.rand(num_games, NUM_OBSERVATIONS, generator=generator, device=device)


def opponent_id(cooperation_probabilities: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """The "opponent ID" conditioning vector of SPEC section 3: ``log p(C | o)``, ``[..., 5]``.

    Probabilities below ``floor`` are raised to it so that deterministic co-players get a
    finite vector (log 1e-6 = -13.8).
    """
    return torch.log(cooperation_probabilities.clamp_min(floor))


#: Numbers in the opponent-ID vector of the paper (SPEC 6b): log pi(a | o) for 5 observations x 2 actions.
IDENTITY_SIZE = 10


def opponent_log_policy(cooperation_probabilities: torch.Tensor, floor: float = 1e-6) -> torch.Tensor:
    """The paper's opponent-ID vector (SPEC 6b): log pi(a | o) of a memory-1 co-player, ``[..., 10]``.

    The five observations (START, CC, CD, DC, DD) by both actions, flattened observation-major:
    ``[log p(C | START), log p(D | START), log p(C | CC), ...]``, so ``[..., 0::2]`` is
    :func:`opponent_id`. Probabilities below ``floor`` are raised to it (deterministic
    co-players get a finite vector). A learning co-player's vector is zeros, which no
    memory-1 policy has (its two log-probabilities of an observation cannot both be 0).
    """
    cooperate = cooperation_probabilities.clamp_min(floor)
    defect = (1.0 - cooperation_probabilities).clamp_min(floor)
    return torch.stack([torch.log(cooperate), torch.log(defect)], dim=-1).flatten(-2)


class MemoryOnePool:
    """A pool of memory-1 co-players: a fresh policy per game per episode, from a distribution.

    Each :meth:`reset` draws new ``[num_games, 5]`` probabilities from the generator, so
    every episode meets fresh co-players. The current draw is :attr:`cooperation_probabilities`
    (its opponent-ID vector is :func:`opponent_log_policy` of it).

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
        self.name = UNIFORM_POOL_NAME if spec == "uniform" else f"memory-1 pool {spec}"
        self.cooperation_probabilities: Optional[torch.Tensor] = None
        self._player: Optional[MemoryOnePlayer] = None

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        num_games = check_count(num_games, "num_games")
        device = generator.device if generator is not None else self.device
        if self.distribution is None:
            self.cooperation_probabilities = sample_memory_one(num_games, generator, device)
        else:
            self.cooperation_probabilities = self.distribution.sample(num_games, generator, device)
        self._player = MemoryOnePlayer(self.cooperation_probabilities, name=self.name)
        self._player.cooperation_probabilities = self.cooperation_probabilities  # keep device, skip copy
        self._player.reset(num_games, generator)

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if self._player is None:
            raise RuntimeError(f"{type(self).__name__}.act called before reset()")
        return self._player.act(observation, reward)


class UniformMemoryOnePool(MemoryOnePool):
    """The paper's tabular pool: a fresh uniform-random memory-1 policy per game per episode."""

    def __init__(self, device="cpu"):
        super().__init__(None, device)


# ---------------------------------------------------------------------------- named co-players
#: Entry-point group where a package declares its named co-players: each entry point loads a
#: callable ``make_player(name: str, payoffs) -> player`` that raises ``ValueError`` (listing
#: its names) for a name it does not know. ipd-env's own zoo is declared in setup.cfg as
#: ``zoo = baselines.tabular:make_player``.
CO_PLAYER_GROUP = "ipd_env.co_players"

_co_player_makers: Optional[list[tuple[str, Callable]]] = None  # loaded on first use


def _load_co_player_makers() -> list[tuple[str, Callable]]:
    global _co_player_makers
    if _co_player_makers is None:
        from importlib.metadata import entry_points

        installed = entry_points()
        # Python 3.9's entry_points() is a dict of groups; 3.10+ selects.
        found = installed.select(group=CO_PLAYER_GROUP) if hasattr(installed, "select") else installed.get(
            CO_PLAYER_GROUP, ())
        _co_player_makers = [(entry.name, entry.load()) for entry in sorted(found, key=lambda entry: entry.name)]
    return _co_player_makers


def named_co_player(name: str, payoffs="paper"):
    """The co-player called ``name`` (e.g. ``"tft"``), built by the installed entry points.

    Every maker of the ``ipd_env.co_players`` group (:data:`CO_PLAYER_GROUP`; loaded once,
    in the order of their entry-point names) is asked in turn; the first that knows the name
    builds the player. Names are therefore whatever the installed packages declare: with
    ipd-env installed, the zoo of :func:`baselines.tabular.make_player`.

    Raises:
        ValueError: no maker knows ``name`` (the makers' own messages, which list their
            names), or none is installed (ipd-env not installed as a package: ``pip install -e .``).
    """
    makers = _load_co_player_makers()
    if not makers:
        raise ValueError(
            f"unknown co-player {name!r}: no named co-players are installed (entry-point group "
            f"{CO_PLAYER_GROUP!r}; install ipd-env with pip for its zoo); pass 'pool', 5 cooperation "
            f"probabilities or a player instead"
        )
    errors = []
    for _, make_player in makers:
        try:
            return make_player(name, payoffs)
        except ValueError as error:
            errors.append(str(error))
    raise ValueError("; ".join(errors))
