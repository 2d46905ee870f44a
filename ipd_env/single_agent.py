"""Gymnasium env: one learner plays the IPD against a co-player drawn per episode.

Registered at ``import ipd_env`` as ``ipd_env/IPDvsCoPlayer-v0``::

    import gymnasium, ipd_env
    env = gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player="tft")
"""
from __future__ import annotations

import copy
from typing import Any, Callable, NamedTuple, Optional, Union

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from ipd_env.game import (
    DEFAULT_NUM_ROUNDS,
    MAX_SEED,
    NUM_ACTIONS,
    NUM_OBSERVATIONS,
    PLAIN_INTEGER_TYPES,
    START,
    GameRecord,
    PayoffSpec,
    check_action,
    check_flag,
    check_num_rounds,
    check_obs_type,
    check_probabilities,
    check_render_mode,
    check_seed,
    make_payoff_table,
    one_hot_rows,
)
from ipd_env.memory_one import UNIFORM_POOL_NAME, MemoryOnePlayer, named_co_player, opponent_id, sample_memory_one
from ipd_env.player import check_player_actions, check_player_factory
from ipd_env.render import render_frame

POOL_NAMES = ("pool", "uniform")
CoPlayerSpec = Union[str, Any, Callable[[torch.Generator], Any]]
_SYNC_MODE = "gymnasium.make_vec(..., vectorization_mode='sync')"

# Lowest value of the opponent-ID vector: log of the floor that ipd_env.memory_one.opponent_id applies.
_OPPONENT_ID_LOW = float(opponent_id(torch.zeros(1)).item())


def learner_observation_space(obs_type: str, opponent_id: bool) -> spaces.Space:
    """One learner's observation space (see :class:`IPDvsCoPlayerEnv`, Observation Space)."""
    if obs_type == "one_hot" and not opponent_id:
        return spaces.Box(0.0, 1.0, (NUM_OBSERVATIONS,), dtype=np.float32)
    if obs_type == "discrete" and not opponent_id:
        return spaces.Discrete(NUM_OBSERVATIONS)
    identity_space = spaces.Box(_OPPONENT_ID_LOW, 0.0, (NUM_OBSERVATIONS,), dtype=np.float32)
    if obs_type == "one_hot":
        low = np.concatenate([np.zeros(NUM_OBSERVATIONS), identity_space.low]).astype(np.float32)
        high = np.concatenate([np.ones(NUM_OBSERVATIONS), identity_space.high]).astype(np.float32)
        return spaces.Box(low, high, dtype=np.float32)
    return spaces.Dict({"observation": spaces.Discrete(NUM_OBSERVATIONS), "opponent_id": identity_space})


class ResolvedCoPlayer(NamedTuple):
    """What a ``co_player`` argument asks for (:func:`resolve_co_player`).

    Attributes:
        kind: ``"pool"`` (a fresh uniform memory-1 policy per episode), ``"probabilities"``,
            ``"player"`` or ``"factory"``.
        value: None for the pool; float64 cooperation probabilities (checked in [0, 1],
            shape not checked) for ``"probabilities"``; the player (the zoo's, or the
            caller's object deep-copied) for ``"player"``; the callable for ``"factory"``.
    """

    kind: str
    value: Any


def resolve_co_player(co_player: CoPlayerSpec, payoffs: PayoffSpec, memory_one_only: bool = False) -> ResolvedCoPlayer:
    """Classify the ``co_player`` argument of the Gymnasium envs once, at construction.

    Args:
        co_player: ``"pool"`` / ``"uniform"``, a zoo name (:func:`ipd_env.memory_one.named_co_player`),
            cooperation probabilities (list, tuple, numpy array or tensor), a player
            (``reset``/``act``) or a callable ``generator -> player``.
        payoffs: the env's payoffs (zoo strategies defined through them need them).
        memory_one_only: the native vector env: refuse what is not memory-1 (a stateful
            zoo name, any other player, a factory) and point to ``vectorization_mode='sync'``.

    A player object is deep-copied, so that envs never share (and the caller never sees)
    its state: ``make_vec(..., vectorization_mode="sync")`` gives each sub-env its own.

    Raises:
        ValueError: an unknown zoo name, probabilities outside [0, 1], a stateful zoo name
            with ``memory_one_only``.
        TypeError: anything else, or probabilities that are not numbers.
    """
    if isinstance(co_player, str):
        if co_player.lower() in POOL_NAMES:
            return ResolvedCoPlayer("pool", None)
        if not memory_one_only:
            return ResolvedCoPlayer("player", named_co_player(co_player, payoffs))  # an unknown name fails here
        sync_hint = f"IPDvsCoPlayerVectorEnv plays memory-1 co-players only, use {_SYNC_MODE} for {co_player!r}"
        try:
            named = named_co_player(co_player, payoffs)
        except ValueError as error:
            raise ValueError(f"{error}; {sync_hint}") from None
        if not isinstance(named, MemoryOnePlayer):
            raise ValueError(f"{co_player} is stateful (not memory-1); {sync_hint}")
        return ResolvedCoPlayer("player", named)
    is_player = hasattr(co_player, "reset") and hasattr(co_player, "act")
    if is_player and (isinstance(co_player, MemoryOnePlayer) or not memory_one_only):
        return ResolvedCoPlayer("player", copy.deepcopy(co_player))  # one per env: its state is this env's alone
    if isinstance(co_player, (list, tuple, np.ndarray, torch.Tensor)):
        if isinstance(co_player, torch.Tensor):
            co_player = co_player.detach().cpu().numpy()
        return ResolvedCoPlayer("probabilities",
                                check_probabilities(co_player, "co_player's cooperation probabilities"))
    if memory_one_only:
        raise TypeError(
            f"IPDvsCoPlayerVectorEnv plays memory-1 co-players only ('pool', a zoo name, a MemoryOnePlayer or "
            f"cooperation probabilities [5] or [num_envs, 5]); got {co_player!r}. Use {_SYNC_MODE} for other players"
        )
    if callable(co_player):
        return ResolvedCoPlayer("factory", check_player_factory(co_player, "co_player"))
    raise TypeError(
        f"co_player must be 'pool', a zoo name, 5 cooperation probabilities, a player (reset/act) or a "
        f"callable generator -> player; got {co_player!r}"
    )


class IPDvsCoPlayerEnv(gymnasium.Env):
    """## Description

    The Iterated Prisoner's Dilemma from the point of view of one learner (``player_0``)
    against a co-player (``player_1``) that the env drives. A co-player is drawn at
    every ``reset``: by default a fresh memory-1 policy with five cooperation
    probabilities i.i.d. U(0, 1), the tabular pool of arXiv 2602.16301. The rules,
    payoffs and observation encoding are those of the PettingZoo env (:mod:`ipd_env.ipd`).

    ## Action Space

    ``Discrete(2)``: 0 = cooperate, 1 = defect.

    ## Observation Space

    The learner's first-person view of the previous round:

    | Index | Meaning              |
    |-------|----------------------|
    | 0     | START (no round yet) |
    | 1     | CC (own C, other C)  |
    | 2     | CD (own C, other D)  |
    | 3     | DC (own D, other C)  |
    | 4     | DD (own D, other D)  |

    ``obs_type="one_hot"`` (default): ``Box(0, 1, (5,), float32)``, the one-hot row.
    ``obs_type="discrete"``: ``Discrete(5)``, the index as ``numpy.int64``.

    With ``opponent_id=True`` (the paper's "opponent ID" ablation) the observation also
    carries z = log p(C | o) of the co-player for the five observations (``[5]`` float32,
    log floored at 1e-6, so in [-13.8, 0]; z = 0 for co-players without cooperation
    probabilities: learning agents, grim trigger, as the paper gives learning co-players):

    * ``"one_hot"``: one ``Box((10,), float32)``: ``[one-hot (5), z (5)]``, so that
      plain MLP policies (SB3 ``MlpPolicy``) take it unchanged;
    * ``"discrete"``: ``Dict({"observation": Discrete(5), "opponent_id": Box((5,))})``.

    ## Rewards

    The learner's payoff of the round (default game: CC 1, CD -1, DC 2, DD 0), float.

    ## Starting State

    START; the co-player is drawn from ``self.np_random`` (the pool's probabilities and
    every random action of the co-player), so ``reset(seed=s)`` fixes the whole episode
    for given learner actions.

    ## Episode End

    Truncation after ``max_cycles`` rounds (``truncated=True``); never terminated.

    ## Arguments

    * ``co_player``: ``"pool"`` (default; also ``"uniform"``) for a fresh uniform memory-1
      policy each episode; a zoo name (``"tft"``, ``"alld"``, ``"extort2"``, ..., see
      ``baselines.tabular.make_player``; the env itself does not import the zoo: it asks
      the makers installed under the ``ipd_env.co_players`` entry point, see
      :func:`ipd_env.memory_one.named_co_player`); five cooperation probabilities
      (start, CC, CD, DC, DD); any object with the player interface (``reset(num_games,
      generator)``, ``act(observation [1] int64 index, reward [1]) -> [1]`` int64), reset every
      episode and *deep-copied when the env is made*, so that envs never share its state
      (``gymnasium.make_vec(..., co_player=player, vectorization_mode="sync")`` gives each
      sub-env its own copy: a Grim Trigger provoked in one game stays friendly in the
      others); or a callable ``f(generator: torch.Generator) -> player`` called every
      episode (use it to build the player yourself, e.g. to share it on purpose).
    * ``payoffs``: any spec of :func:`ipd_env.game.make_payoff_table`; default ``"paper"``.
    * ``max_cycles``: rounds per episode; default 100.
    * ``obs_type``: ``"one_hot"`` or ``"discrete"``.
    * ``opponent_id``: expose the co-player's identity vector z (see above); default False.
    * ``render_mode``: ``None``, ``"ansi"`` (``render()`` returns a line of text),
      ``"human"`` (the line is printed after every ``reset`` and ``step``) or
      ``"rgb_array"`` (``render()`` returns the game so far as a ``[height, width, 3]``
      uint8 image, the learner's row on top: see :mod:`ipd_env.render`; 10 frames per
      second in ``metadata``, for ``gymnasium.wrappers.RecordVideo``).

    Memory-1 co-players (the pool, zoo names other than grim, probability vectors) are
    played in numpy (defect when u >= p(C | o), u ~ U[0, 1) from ``self.np_random``);
    any other player runs through its torch ``act`` with ``[1]`` tensors (the observation
    as its int64 index, :mod:`ipd_env.player`).

    ## Infos

    ``{"round": k, "co_player": name}``, plus ``"co_player_action"`` and
    ``"co_player_reward"`` after each step, and ``"co_player_probabilities"`` ``[5]`` at
    reset for memory-1 co-players.

    ## Version History

    * v0: Initial release (ipd-env 0.1.0).
    """

    metadata = {"render_modes": ["human", "ansi", "rgb_array"], "render_fps": 10}

    def __init__(
        self,
        co_player: CoPlayerSpec = "pool",
        payoffs: PayoffSpec = "paper",
        max_cycles: int = DEFAULT_NUM_ROUNDS,
        obs_type: str = "one_hot",
        opponent_id: bool = False,
        render_mode: Optional[str] = None,
    ):
        self.payoffs = payoffs
        self.payoff_table = make_payoff_table(payoffs)
        self.max_cycles = check_num_rounds(max_cycles)
        self.obs_type = check_obs_type(obs_type)
        self.render_mode = check_render_mode(render_mode)
        self.opponent_id = check_flag(opponent_id, "opponent_id")
        self._co_player_spec = self._as_player(resolve_co_player(co_player, payoffs))

        self.action_space = spaces.Discrete(NUM_ACTIONS)
        self.observation_space = learner_observation_space(self.obs_type, self.opponent_id)
        self._one_hot_rows = one_hot_rows()

        self._torch_generator = torch.Generator()
        self._running = False
        self._has_reset = False
        # The learner is player_0, the co-player player_1; every joint action is kept only for
        # the rgb_array picture.
        self._game = GameRecord(self.payoff_table, keep_history=self.render_mode == "rgb_array")
        self._clear_episode()
        self._co_player = None
        self._co_player_name = ""
        self._cooperation_probabilities: Optional[list[float]] = None  # memory-1 fast path
        self._identity = np.zeros(NUM_OBSERVATIONS, dtype=np.float32)

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _as_player(resolved: ResolvedCoPlayer) -> ResolvedCoPlayer:
        """Probabilities become a :class:`MemoryOnePlayer`: ("pool", None), ("player", p) or ("factory", f)."""
        if resolved.kind != "probabilities":
            return resolved
        try:
            return ResolvedCoPlayer("player", MemoryOnePlayer(resolved.value))
        except ValueError as error:  # e.g. a wrong shape: say which argument it was
            raise ValueError(f"co_player: {error}") from None

    def _observation(self):
        index = self._observation_index
        if self.obs_type == "one_hot":
            if self.opponent_id:
                return np.concatenate([self._one_hot_rows[index], self._identity])
            return self._one_hot_rows[index].copy()
        if self.opponent_id:
            return {"observation": np.int64(index), "opponent_id": self._identity.copy()}
        return np.int64(index)

    def _draw_co_player(self) -> None:
        """Pick this episode's co-player and reset it with a generator derived from np_random."""
        self._torch_generator.manual_seed(int(self.np_random.integers(MAX_SEED)))
        kind, value = self._co_player_spec
        if kind == "pool":
            probabilities = sample_memory_one(1, self._torch_generator)[0]
            player, name = None, UNIFORM_POOL_NAME
        else:
            player = value if kind == "player" else value(self._torch_generator)
            if not (hasattr(player, "reset") and hasattr(player, "act")):
                raise TypeError(f"the co_player factory must return a player (reset/act), got {player!r}")
            name = getattr(player, "name", type(player).__name__)
            probabilities = None
            if isinstance(player, MemoryOnePlayer):
                table = player.cooperation_probabilities
                if table.ndim == 1 or table.shape[0] == 1:
                    probabilities = table.reshape(NUM_OBSERVATIONS)
            if probabilities is None:
                player.reset(1, generator=self._torch_generator)
        if probabilities is not None:
            self._co_player = None
            self._cooperation_probabilities = [float(p) for p in check_probabilities(probabilities.tolist())]
            self._identity = opponent_id(probabilities.to(torch.float32)).numpy().astype(np.float32)
        else:
            self._co_player = player
            self._cooperation_probabilities = None
            self._identity = np.zeros(NUM_OBSERVATIONS, dtype=np.float32)
        self._co_player_name = name

    def _co_player_action(self) -> int:
        index = self._co_player_observation_index
        probabilities = self._cooperation_probabilities
        if probabilities is not None:
            return 0 if self.np_random.random() < probabilities[index] else 1
        observation = torch.tensor([index], dtype=torch.int64)
        reward = torch.tensor([self._co_player_last_reward], dtype=torch.float32)
        action = check_player_actions(self._co_player.act(observation, reward), 1,
                                      f"co-player {self._co_player_name!r}")
        return check_action(f"player_1 ({self._co_player_name})", int(action[0]))

    # ------------------------------------------------------------------ API
    def _clear_episode(self) -> None:
        """The state of an episode before its first round."""
        self._game.start()
        self._observation_index = START
        self._co_player_observation_index = START
        self._co_player_last_reward = 0.0

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        """Draw a co-player and start an episode; returns ``(observation, info)``."""
        super().reset(seed=check_seed(seed))
        self._draw_co_player()
        self._running = True
        self._has_reset = True
        self._clear_episode()
        info = {"round": 0, "co_player": self._co_player_name}
        if self._cooperation_probabilities is not None:
            info["co_player_probabilities"] = np.asarray(self._cooperation_probabilities, dtype=np.float32)
        if self.render_mode == "human":
            self.render()
        return self._observation(), info

    def step(self, action):
        """Play one round with the learner's ``action`` (0 = C, 1 = D).

        Returns ``(observation, reward, terminated, truncated, info)``; ``truncated``
        turns True after ``max_cycles`` rounds.
        """
        if not self._running:
            if not self._has_reset:
                raise RuntimeError("step() called before reset(); call reset() to start an episode")
            raise RuntimeError(
                f"step() called after the episode ended ({self._game.round} rounds played); call reset()"
            )
        if action.__class__ in PLAIN_INTEGER_TYPES and (action == 0 or action == 1):
            action = int(action)
        else:
            action = check_action("player_0", action)
        co_player_action = self._co_player_action()
        game = self._game
        _, observation, co_player_observation, reward, co_player_reward = game.play(action, co_player_action)
        self._observation_index = observation
        self._co_player_observation_index = co_player_observation
        self._co_player_last_reward = co_player_reward
        truncated = game.round >= self.max_cycles
        self._running = not truncated
        info = {
            "round": game.round,
            "co_player": self._co_player_name,
            "co_player_action": co_player_action,
            "co_player_reward": co_player_reward,
        }
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, False, truncated, info

    def render(self) -> Union[str, np.ndarray, None]:
        """One line: round, both actions, rewards, running totals (``"ansi"`` returns, ``"human"`` prints).

        ``"rgb_array"`` returns the picture of the game so far instead: ``[height, width, 3]``
        uint8, the learner's row on top (:mod:`ipd_env.render`).
        """
        names = ("player_0 (learner)", f"player_1 ({self._co_player_name})")
        return render_frame(self.render_mode, self._game, self.payoff_table, self.max_cycles, names)
