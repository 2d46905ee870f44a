"""The rules of the Iterated Prisoner's Dilemma, written once.

Everything that plays the game (the PettingZoo env, the Gymnasium env, the batched
env, the exact evaluator and the co-player zoo) takes its payoffs, its observation
encoding and its horizon from this module. The envs that step one game in plain Python
(PettingZoo's and Gymnasium's) play a round and sum the totals through :class:`GameRecord`;
the batched envs look rewards up with :func:`rewards_by_observation`.

Observation encoding (first-person, SPEC section 1)
---------------------------------------------------

| index | meaning                    | own action | other's action |
|-------|----------------------------|------------|----------------|
| 0     | START (no round played)    | -          | -              |
| 1     | CC: both cooperated        | C          | C              |
| 2     | CD: I cooperated, they D   | C          | D              |
| 3     | DC: I defected, they C     | D          | C              |
| 4     | DD: both defected          | D          | D              |

i.e. ``index = 1 + 2 * own + other`` with 0 = cooperate, 1 = defect. A memory-1 policy
is then a 5-vector of cooperation probabilities indexed by the observation itself.

Payoffs
-------

A game is stored as a *payoff table* ``[2, 2, 2]`` float64: ``table[a0, a1, i]`` is the
reward of player ``i`` when ``player_0`` plays ``a0`` and ``player_1`` plays ``a1``.
Symmetric games are given by ``(R, S, T, P)``; named presets are in
:data:`PAYOFF_PRESETS`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

COOPERATE = 0
DEFECT = 1
ACTION_NAMES = ("C", "D")
START = 0
NUM_ACTIONS = 2
NUM_OBSERVATIONS = 5
OBSERVATION_NAMES = ("START", "CC", "CD", "DC", "DD")
DEFAULT_NUM_ROUNDS = 100
AGENTS = ("player_0", "player_1")
OBS_TYPES = ("one_hot", "discrete")
RENDER_MODES = ("human", "ansi", "rgb_array")
#: Largest accepted payoff magnitude: rewards stay finite in float32 (max 3.4e38) and so do
#: their sums over 10**12 rounds (total rounds of any training run by far), so totals and
#: means never overflow to inf.
MAX_ABS_PAYOFF = 1e24
#: Largest seed the envs and players accept: numpy's Generator and Gymnasium's seeding take
#: any non-negative int, torch's manual_seed 64 bits; 2**63 - 1 fits all three.
MAX_SEED = 2**63 - 1
#: Largest seed numpy's legacy ``RandomState`` (``np.random.seed``) accepts, and so Axelrod's
#: tournaments, which seed one. The ``ipd-coop`` commands' ``--seed`` stops here, so that one
#: range holds for every command, ``tournament`` included.
MAX_RANDOMSTATE_SEED = 2**32 - 1

# Integer types accepted by the envs' fast action path without calling check_action;
# anything else (bools, floats, arrays, strings) takes check_action, which accepts it or
# raises a clear error.
PLAIN_INTEGER_TYPES = frozenset({int, np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8})

#: Named symmetric games as (R, S, T, P): reward, sucker, temptation, punishment.
PAYOFF_PRESETS = {
    # The paper's Table 1 (arXiv 2602.16301), the package default.
    "paper": (1.0, -1.0, 2.0, 0.0),
    # Axelrod's tournament game.
    "axelrod": (3.0, 0.0, 5.0, 1.0),
    # The game of LOLA (Foerster et al. 2018) and Pax: all payoffs non-positive.
    "lola": (-1.0, -3.0, 0.0, -2.0),
}
PAYOFF_ALIASES = {"default": "paper", "table1": "paper", "pax": "lola"}

PayoffSpec = Union[str, Sequence[float], Sequence[Sequence[float]], np.ndarray]


def preset_names() -> list[str]:
    """All accepted preset names, aliases included."""
    return sorted(list(PAYOFF_PRESETS) + list(PAYOFF_ALIASES))


def first_person_outcome(own, other):
    """Observation index of a round seen by the player who played ``own``.

    Works elementwise on ints, numpy arrays and torch tensors: ``1 + 2 * own + other``.
    """
    return 1 + 2 * own + other


def one_hot_rows() -> list[np.ndarray]:
    """The one-hot observation of every index: a separate ``[5]`` float32 array per index 0..4."""
    identity = np.eye(NUM_OBSERVATIONS, dtype=np.float32)
    return [identity[index].copy() for index in range(NUM_OBSERVATIONS)]


def symmetric_table(reward: float, sucker: float, temptation: float, punishment: float) -> np.ndarray:
    """Payoff table ``[2, 2, 2]`` of the symmetric game (R, S, T, P)."""
    row = np.array([[reward, sucker], [temptation, punishment]], dtype=np.float64)
    return np.stack([row, row.T], axis=-1)


_PAYOFF_FORMS = "a preset name, (R, S, T, P), a 2x2 matrix or a 2x2x2 bimatrix of numbers"


def number_array(values, name: str, forms: str) -> np.ndarray:
    """``values`` as float64, refusing anything that is not plain numbers, naming ``name``.

    Booleans and strings are refused even inside a list (numpy would turn ``True`` into 1.0
    and ``"2"`` into 2.0 without a word); so are ragged nestings and non-numeric arrays.
    ``forms`` says what would be right, e.g. ``"5 numbers in [0, 1]"``.

    Raises:
        TypeError: None, a bool, a string entry, an object; ValueError: ragged rows.
    """
    if values is None or isinstance(values, (bool, np.bool_, str, bytes, dict, set)):
        raise TypeError(f"{name} must be {forms}, got {values!r}")
    if isinstance(values, (list, tuple)):
        try:
            entries = np.asarray(values, dtype=object)
        except ValueError:  # ragged nesting
            raise ValueError(f"{name} must be {forms}, got the ragged {values!r}") from None
        for entry in entries.ravel():
            if isinstance(entry, (list, tuple, np.ndarray)):  # rows of different lengths
                raise ValueError(f"{name} must be {forms}, got the ragged {values!r}")
            is_number = isinstance(entry, (int, float, np.integer, np.floating))
            if isinstance(entry, (bool, np.bool_)) or not is_number:
                raise TypeError(
                    f"{name} must be {forms}; entry {entry!r} of type {type(entry).__name__} is not a number "
                    f"(in {values!r})"
                )
        return entries.astype(np.float64)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be {forms}, got {values!r}") from error
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be {forms}, got {values!r} of dtype {array.dtype}")
    return array.astype(np.float64)


def _check_finite(table: np.ndarray, given) -> None:
    if not np.all(np.isfinite(table)):
        raise ValueError(f"payoffs must be finite numbers, got {given!r} (contains NaN or inf)")
    if np.abs(table).max() > MAX_ABS_PAYOFF:
        raise ValueError(
            f"payoffs must lie within +-{MAX_ABS_PAYOFF:g} so that rewards and their totals stay finite "
            f"(float32), got {given!r}; rescale the game"
        )


def make_payoff_table(payoffs: PayoffSpec = "paper") -> np.ndarray:
    """Validate a payoff specification and return the table ``[2, 2, 2]`` float64.

    Accepted forms:

    * a preset name (see :func:`preset_names`), e.g. ``"paper"``, ``"axelrod"``, ``"lola"``;
    * four numbers ``(R, S, T, P)`` for a symmetric game;
    * a 2x2 matrix: the row player's payoffs ``[[R, S], [T, P]]``, the game symmetric;
    * a 2x2x2 bimatrix ``table[a0][a1] = (reward of player_0, reward of player_1)``.

    Raises:
        ValueError: unknown preset, wrong shape, a NaN/inf entry or one beyond
            :data:`MAX_ABS_PAYOFF` in magnitude.
        TypeError: anything that is not a name or plain numbers (None, booleans,
            strings inside a list, objects).
    """
    if isinstance(payoffs, str):
        key = payoffs.lower()
        key = PAYOFF_ALIASES.get(key, key)
        if key not in PAYOFF_PRESETS:
            raise ValueError(f"unknown payoff preset {payoffs!r}; known presets: {', '.join(preset_names())}")
        return symmetric_table(*PAYOFF_PRESETS[key])
    array = number_array(payoffs, "payoffs", _PAYOFF_FORMS)
    _check_finite(array, payoffs)
    if array.shape == (4,):
        return symmetric_table(*array.tolist())
    if array.shape == (2, 2):
        return np.stack([array, array.T], axis=-1)
    if array.shape == (2, 2, 2):
        return array.copy()
    raise ValueError(
        f"payoffs must have shape (4,) for (R, S, T, P), (2, 2) or (2, 2, 2), got shape {array.shape}: {payoffs!r}"
    )


def first_person_payoffs(table: np.ndarray) -> np.ndarray:
    """``[2 players, 2 own actions, 2 other's actions]``: each player's reward in its own frame."""
    table = np.asarray(table, dtype=np.float64)
    return np.stack([table[:, :, 0], table[:, :, 1].T], axis=0)


def round_outcomes(table: np.ndarray) -> list[list[tuple[int, int, int, float, float]]]:
    """Everything one round decides, looked up by the joint action: ``outcomes[a0][a1]``.

    Each entry is ``(joint, observation_0, observation_1, reward_0, reward_1)``: the joint
    index ``2 * a0 + a1``, each player's next observation index (:func:`first_person_outcome`
    from its own side) and each player's reward as a Python float. The envs that step one
    game in plain Python play a round as one lookup in it.

    Args:
        table: a payoff table ``[2, 2, 2]``, ``table[a0, a1, player]`` (:func:`make_payoff_table`).
    """
    own_frame = first_person_payoffs(table)  # [player, own, other]
    return [
        [
            (
                2 * a0 + a1,
                first_person_outcome(a0, a1),
                first_person_outcome(a1, a0),
                float(own_frame[0, a0, a1]),
                float(own_frame[1, a1, a0]),
            )
            for a1 in range(NUM_ACTIONS)
        ]
        for a0 in range(NUM_ACTIONS)
    ]


class GameRecord:
    """One game between ``player_0`` and ``player_1`` as it is played, round by round.

    The PettingZoo env and the Gymnasium env both play their rounds through it, so a round,
    the count of rounds and the totals are written once. The horizon is not kept here: each
    env compares :attr:`round` with its own (the PettingZoo env's ``max_cycles`` is settable).

    Args:
        payoff_table: ``[2, 2, 2]``, ``table[a0, a1, player]`` (:func:`make_payoff_table`).
        keep_history: keep every round's joint action (:attr:`joint_history`), which only
            the ``rgb_array`` picture needs.

    Attributes:
        outcomes: :func:`round_outcomes` of the table.
        round: rounds played since :meth:`start`.
        last_outcome: the last round's entry of :attr:`outcomes`, None before the first round.
        joint_counts: how often each joint action ``2 * a0 + a1`` was played, ``[4]`` ints.
        joint_history: the joint action of every round, or None without ``keep_history``.
    """

    __slots__ = ("outcomes", "round", "last_outcome", "joint_counts", "joint_history")

    def __init__(self, payoff_table: np.ndarray, keep_history: bool = False):
        self.outcomes = round_outcomes(payoff_table)
        self.joint_history: Optional[list[int]] = [] if keep_history else None
        self.start()

    def start(self) -> None:
        """Forget the rounds played: the state before a game's first round."""
        self.round = 0
        self.last_outcome: Optional[tuple[int, int, int, float, float]] = None
        self.joint_counts = [0, 0, 0, 0]
        if self.joint_history is not None:
            self.joint_history = []

    def play(self, action_0: int, action_1: int) -> tuple[int, int, int, float, float]:
        """Play one round from two valid actions (Python ints 0 or 1, checked by the caller).

        Returns:
            ``(joint, observation_0, observation_1, reward_0, reward_1)``, the round's entry of
            :func:`round_outcomes`.
        """
        outcome = self.outcomes[action_0][action_1]
        self.last_outcome = outcome
        self.joint_counts[outcome[0]] += 1
        if self.joint_history is not None:
            self.joint_history.append(outcome[0])
        self.round += 1
        return outcome

    @property
    def last_joint(self) -> Optional[int]:
        """The last round's joint action ``2 * a0 + a1``, None before the first round."""
        return None if self.last_outcome is None else self.last_outcome[0]

    @property
    def last_rewards(self) -> Optional[tuple[float, float]]:
        """The last round's ``(reward_0, reward_1)``, None before the first round."""
        return None if self.last_outcome is None else self.last_outcome[3:5]

    def totals(self) -> tuple[float, float]:
        """Each player's summed reward since :meth:`start`.

        Summed as count x reward per joint action: a step only counts, and the rounding
        error does not grow with the number of rounds.
        """
        totals = [0.0, 0.0]
        for row in self.outcomes:
            for joint, _, _, reward_0, reward_1 in row:
                count = self.joint_counts[joint]
                totals[0] += count * reward_0
                totals[1] += count * reward_1
        return totals[0], totals[1]


def rewards_by_observation(table: np.ndarray) -> np.ndarray:
    """``[2 players, 5]`` float64: each player's reward indexed by ``player_0``'s observation.

    ``rewards[i, 1 + 2 * a0 + a1]`` is player ``i``'s reward for the joint action; column 0
    (START, no round played) is 0. The batched envs compute ``player_0``'s observation
    anyway, so they look up both rewards with it in one gather.

    Args:
        table: a payoff table ``[2, 2, 2]``, ``table[a0, a1, player]`` (:func:`make_payoff_table`).
    """
    own_frame = first_person_payoffs(table)  # [player, own, other]
    by_joint = np.stack([own_frame[0].reshape(4), own_frame[1].T.reshape(4)])  # [player, 2 * a0 + a1]
    return np.concatenate([np.zeros((2, 1)), by_joint], axis=1)


def symmetric_payoffs(payoffs: PayoffSpec) -> tuple[float, float, float, float]:
    """(R, S, T, P) of a symmetric game; raises ``ValueError`` for an asymmetric one.

    Needed by strategies defined through the payoffs (GTFT's generosity, ZD strategies).
    """
    table = make_payoff_table(payoffs)
    own = first_person_payoffs(table)
    if not np.allclose(own[0], own[1]):
        raise ValueError(
            "this needs a symmetric game, but the payoffs differ between the players: "
            f"player_0 sees {own[0].tolist()}, player_1 sees {own[1].tolist()}"
        )
    (reward, sucker), (temptation, punishment) = own[0].tolist()
    return reward, sucker, temptation, punishment


def check_probabilities(values, name: str = "cooperation probabilities") -> np.ndarray:
    """Return ``values`` as float64, raising ``ValueError`` if any lies outside [0, 1] or is NaN.

    Raises ``TypeError`` (naming ``name``) for anything but plain numbers: None, booleans,
    strings, objects.
    """
    array = number_array(values, name, "numbers in [0, 1]")
    bad = ~((array >= 0.0) & (array <= 1.0))
    if bad.any():
        offending = array[bad].ravel()[:5].tolist()
        raise ValueError(f"{name} must lie in [0, 1], got {offending} in {values!r}")
    return array


def check_action(agent: str, action) -> int:
    """Return ``action`` as a Python int, raising a clear error unless it is 0 or 1.

    Accepts Python and numpy integers (and 0-d integer arrays); rejects floats, bools,
    strings and anything outside {0, 1}, so that nothing is silently rounded or clipped.
    """
    value = action
    if isinstance(value, np.ndarray):
        if value.shape != () or not np.issubdtype(value.dtype, np.integer):
            raise TypeError(
                f"action for {agent!r} must be an integer 0 (cooperate) or 1 (defect), got array {value!r}"
            )
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"action for {agent!r} must be an integer 0 (cooperate) or 1 (defect), "
            f"got {action!r} of type {type(action).__name__}"
        )
    if value not in (0, 1):
        raise ValueError(f"action for {agent!r} must be 0 (cooperate) or 1 (defect), got {value}")
    return int(value)


def check_count(value, name: str, wrong_type_error: type[Exception] = TypeError) -> int:
    """Return ``value`` as a Python int if it is a positive integer (Python or numpy), else raise.

    Args:
        value: the argument to check.
        name: how the message names it, e.g. ``"num_games"``.
        wrong_type_error: the exception for a value that is not an integer at all;
            :func:`check_num_rounds` keeps ``ValueError`` there, the horizon's error type.

    Raises:
        TypeError (or ``wrong_type_error``): not an integer (floats, bools, strings), naming ``name``.
        ValueError: an integer below 1, naming ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise wrong_type_error(f"{name} must be a positive integer, got {value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_num_rounds(num_rounds) -> int:
    """Validate the horizon (``max_cycles`` / ``num_rounds``): a positive integer number of rounds.

    Raises:
        ValueError: for anything else, a float or a string included (unlike
            :func:`check_count`'s ``TypeError``: the horizon has always raised ``ValueError``).
    """
    return check_count(num_rounds, "number of rounds (max_cycles)", wrong_type_error=ValueError)


def check_seed(seed, name: str = "seed") -> Optional[int]:
    """Return ``seed`` as a Python int (or None), refusing what seeding would misread.

    Accepts None and Python or numpy integers in ``[0, MAX_SEED]``.

    Raises:
        TypeError: a bool (``True`` would silently be seed 1), float, string or other object.
        ValueError: an integer below 0 or above :data:`MAX_SEED`.
    """
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{name} must be None or an integer in [0, 2**63 - 1], got {seed!r} of type {type(seed).__name__}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be None or an integer in [0, 2**63 - 1], got {seed}")
    return int(seed)


def check_flag(value, name: str) -> bool:
    """Return ``value`` as a bool if it is True or False (numpy bools too), else raise ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_obs_type(obs_type: str) -> str:
    """Return ``obs_type`` if it is one of :data:`OBS_TYPES`, else raise ``ValueError``."""
    if not isinstance(obs_type, str) or obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
    return obs_type


def check_render_mode(render_mode: Optional[str]) -> Optional[str]:
    """Return ``render_mode`` if it is None or one of :data:`RENDER_MODES`, else raise ``ValueError``."""
    if render_mode is not None and (not isinstance(render_mode, str) or render_mode not in RENDER_MODES):
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")
    return render_mode


def format_round(round_number, max_cycles, joint, rewards, totals, names) -> str:
    """The text of ``render()``: round, both actions, this round's rewards, running totals.

    Args:
        round_number: rounds played so far.
        max_cycles: rounds per episode.
        joint: ``2 * a0 + a1`` of the last round, or None before the first round.
        rewards: the last round's ``(reward_0, reward_1)``, or None before the first round.
        totals: summed ``(reward_0, reward_1)`` since reset.
        names: how to call the two players.
    """
    totals_text = f"totals {names[0]} {totals[0]:g}, {names[1]} {totals[1]:g}"
    if joint is None:
        return f"round 0/{max_cycles}: no round played yet | {totals_text}"
    return (
        f"round {round_number}/{max_cycles}: {names[0]} {ACTION_NAMES[joint // 2]},"
        f" {names[1]} {ACTION_NAMES[joint % 2]}"
        f" | rewards {rewards[0]:g}, {rewards[1]:g} | {totals_text}"
    )


def gtft_generosity(payoffs: PayoffSpec = "paper") -> float:
    """Generosity of Generous Tit-for-Tat: q = min(1 - (T-R)/(R-S), (R-P)/(T-P)) (Nowak & Sigmund 1992)."""
    reward, sucker, temptation, punishment = symmetric_payoffs(payoffs)
    if not (temptation > reward > punishment > sucker):
        raise ValueError(
            f"GTFT's generosity is defined for a prisoner's dilemma (T > R > P > S), got "
            f"R={reward}, S={sucker}, T={temptation}, P={punishment}"
        )
    generosity = min(1.0 - (temptation - reward) / (reward - sucker), (reward - punishment) / (temptation - punishment))
    if not 0.0 <= generosity <= 1.0 or math.isnan(generosity):
        raise ValueError(f"GTFT's generosity for these payoffs is {generosity}, outside [0, 1]")
    return generosity
