"""Exact expected play of two memory-1 policies: the Markov chain over joint outcomes.

Two memory-1 policies ``p`` (player_0) and ``q`` (player_1), each five cooperation
probabilities over first-person observations (start, CC, CD, DC, DD), make the sequence
of joint outcomes a Markov chain on four states, written in player_0's frame:

| state | player_0 | player_1 | player_0 sees | player_1 sees |
|-------|----------|----------|---------------|---------------|
| 0     | C        | C        | CC (1)        | CC (1)        |
| 1     | C        | D        | CD (2)        | DC (3)        |
| 2     | D        | C        | DC (3)        | CD (2)        |
| 3     | D        | D        | DD (4)        | DD (4)        |

(player_1's first-person view swaps CD and DC.) The first round's outcome is drawn from
``p[0]`` and ``q[0]``; after outcome ``s`` player_0 cooperates with ``p[1 + s]`` and
player_1 with ``q[1 + swap(s)]``. With ``v_1`` the first round's outcome distribution and
``M`` the ``4 x 4`` transition matrix, round ``t`` has distribution ``v_t = v_1 M^(t-1)``;
everything below is a linear function of the ``v_t``. Nothing is simulated.

* :func:`per_round_values`: expected reward and cooperation at each round ``t = 1..T``.
* :func:`finite_horizon_values`: their mean over rounds ``1..T`` (the per-round reward the
  envs report for an episode of ``T`` rounds), by repeated squaring: exact for any ``T``
  in ``O(log T)`` matrix products.
* :func:`long_run_values`: the limit ``T -> infinity`` of that mean, the Cesaro average
  ``lim (1/T) sum_t v_t = v_1 Pi``. It exists for every chain, including periodic ones
  (TFT against suspicious TFT alternates CD, DC forever: the limit is the average of the
  two) and non-ergodic ones (TFT against TFT stays at CC, against AllD at DD: the limit
  depends on the start, which ``v_1`` carries). It is computed exactly from the chain's
  structure: the recurrent classes (closed communicating classes, from the exact zero
  pattern of ``M``), the stationary distribution of each class by the
  Grassmann-Taksar-Heyman elimination (stable even for nearly decomposable chains), and
  the probability of ending in each class from the fundamental matrix ``(I - Q)^-1`` of
  the transient states. Note the limit jumps where a probability becomes exactly 0 or 1:
  TFT against TFT stays at CC, but with any error rate the chain is ergodic.

Policies may be given as ``[5]`` or batched ``[B, 5]`` arrays (numpy, torch or lists),
:class:`~baselines.tabular.MemoryOnePlayer` objects, or zoo names (``"tft"``); a ``[5]``
policy is broadcast against a batch. Payoffs are any spec of
:func:`ipd_env.game.make_payoff_table`, asymmetric bimatrices included (the first
policy plays player_0). Results are float64 numpy arrays with the player axis first and
the batch axis (if any) last, the same layout as :func:`ipd_env.player.play_episodes`.

Example::

    >>> from baselines.analytic import long_run_values
    >>> values = long_run_values("extort2", "tft")   # extortion vs Tit for Tat
    >>> values.rewards                                # [2]: per-round reward of each player
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np
import torch

from ipd_env.game import NUM_OBSERVATIONS, PayoffSpec, check_num_rounds, check_probabilities, make_payoff_table

#: Joint outcome names in player_0's frame, the order of the chain's states.
OUTCOME_NAMES = ("CC", "CD", "DC", "DD")
# player_1's first-person observation index (1..4) for each joint state (player_0's frame).
_OBSERVATION_OF_PLAYER_1 = np.array([1, 3, 2, 4])
_OBSERVATION_OF_PLAYER_0 = np.array([1, 2, 3, 4])
# Which states have player_0 (column 0) / player_1 (column 1) cooperating: [4, 2].
_COOPERATES = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], dtype=np.float64)


@dataclass(frozen=True)
class MatchValues:
    """Expected play between player_0 and player_1 (float64 numpy arrays).

    Shapes, with ``B`` the batch size (absent for a single pair) and ``T`` the rounds of a
    per-round curve (absent for a mean):

    Attributes:
        rewards: expected reward per round of each player, ``[2]``, ``[2, B]``,
            ``[2, T]`` or ``[2, T, B]`` (index 0 = player_0), in payoff units.
        cooperation_rates: probability that each player cooperates, same shape.
        outcome_frequencies: probability of each joint outcome (CC, CD, DC, DD in
            player_0's frame; see :data:`OUTCOME_NAMES`), ``[4, ...]`` likewise.
        num_rounds: the horizon ``T`` averaged over, or ``math.inf`` for the long-run limit.
    """

    rewards: np.ndarray
    cooperation_rates: np.ndarray
    outcome_frequencies: np.ndarray
    num_rounds: Union[int, float]


PolicyLike = Union[str, np.ndarray, torch.Tensor, list, tuple, object]


def as_policy(policy: PolicyLike, payoffs: PayoffSpec = "paper") -> np.ndarray:
    """Cooperation probabilities ``[5]`` or ``[B, 5]`` float64 of a memory-1 policy.

    Accepts a zoo name, an array-like (numpy, torch, list) or an object with
    ``cooperation_probabilities`` and ``memory_depth == 1`` (``MemoryOnePlayer``,
    ``UniformMemoryOnePool`` after ``reset``).

    Raises:
        ValueError: a stateful player (e.g. Grim trigger), a wrong shape, or a
            probability outside [0, 1] or NaN.
    """
    if isinstance(policy, str):
        from baselines.tabular import named_probabilities

        return np.asarray(named_probabilities(policy, payoffs), dtype=np.float64)
    if hasattr(policy, "act") and hasattr(policy, "reset"):
        name = getattr(policy, "name", type(policy).__name__)
        depth = getattr(policy, "memory_depth", None)
        values = getattr(policy, "cooperation_probabilities", None)
        if depth != 1 or values is None:
            raise ValueError(
                f"the exact evaluator needs memory-1 policies (5 cooperation probabilities); "
                f"{name!r} has memory depth {depth} and no cooperation-probability vector"
                + (" (call reset() on a pool first)" if depth == 1 else "")
            )
        policy = values
    if isinstance(policy, torch.Tensor):
        policy = policy.detach().to("cpu", torch.float64).numpy()
    try:
        array = np.asarray(policy, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a memory-1 policy must be 5 numbers in [0, 1], got {policy!r}") from error
    if array.ndim not in (1, 2) or array.shape[-1] != NUM_OBSERVATIONS:
        raise ValueError(
            f"a memory-1 policy needs {NUM_OBSERVATIONS} cooperation probabilities (start, CC, CD, DC, DD), "
            f"shape [5] or [B, 5]; got shape {array.shape}"
        )
    check_probabilities(array)
    return array


def _pair(policy_0: PolicyLike, policy_1: PolicyLike, payoffs: PayoffSpec):
    """Both policies as ``[B, 5]`` plus whether the caller gave a batch."""
    first, second = as_policy(policy_0, payoffs), as_policy(policy_1, payoffs)
    batched = first.ndim == 2 or second.ndim == 2
    first, second = np.atleast_2d(first), np.atleast_2d(second)
    if first.shape[0] != second.shape[0] and 1 not in (first.shape[0], second.shape[0]):
        raise ValueError(
            f"batched policies must have the same number of rows (or one of them a single policy), "
            f"got {first.shape[0]} and {second.shape[0]}"
        )
    size = max(first.shape[0], second.shape[0])
    return np.broadcast_to(first, (size, 5)), np.broadcast_to(second, (size, 5)), batched


def _joint(cooperate_0: np.ndarray, cooperate_1: np.ndarray) -> np.ndarray:
    """Distribution ``[..., 4]`` over (CC, CD, DC, DD) of two independent choices."""
    return np.stack(
        [
            cooperate_0 * cooperate_1,
            cooperate_0 * (1 - cooperate_1),
            (1 - cooperate_0) * cooperate_1,
            (1 - cooperate_0) * (1 - cooperate_1),
        ],
        axis=-1,
    )


def _chain(policy_0: PolicyLike, policy_1: PolicyLike, payoffs: PayoffSpec):
    """``(initial [B, 4], transition [B, 4, 4], batched)``; see :func:`markov_chain`."""
    first, second, batched = _pair(policy_0, policy_1, payoffs)
    initial = _joint(first[:, 0], second[:, 0])
    transition = _joint(first[:, _OBSERVATION_OF_PLAYER_0], second[:, _OBSERVATION_OF_PLAYER_1])
    return initial, transition, batched


def markov_chain(policy_0: PolicyLike, policy_1: PolicyLike, payoffs: PayoffSpec = "paper"):
    """The chain of two memory-1 policies.

    Returns:
        ``(initial, transition)``: the first round's outcome distribution ``[B, 4]`` and
        the transition matrices ``[B, 4, 4]`` (rows: this round's outcome, columns: the
        next), states in player_0's frame (CC, CD, DC, DD). ``B = 1`` for a single pair.
    """
    initial, transition, _ = _chain(policy_0, policy_1, payoffs)
    return initial, transition


def _outcome_values(table: np.ndarray) -> np.ndarray:
    """``[4, 2]``: each player's reward in each joint state (player_0's frame)."""
    return table.reshape(4, 2)  # table[a0, a1, player] with state = 2 * a0 + a1


def _values(frequencies: np.ndarray, table: np.ndarray, batched: bool, num_rounds) -> MatchValues:
    """Package outcome frequencies ``[B, ..., 4]`` as player-first, batch-last arrays."""
    rewards = frequencies @ _outcome_values(table)  # [B, ..., 2]
    cooperation = frequencies @ _COOPERATES

    def layout(array: np.ndarray) -> np.ndarray:
        array = np.moveaxis(array, -1, 0)  # [2 or 4, B, ...]
        array = np.moveaxis(array, 1, -1)  # [2 or 4, ..., B]
        return array if batched else array[..., 0]

    return MatchValues(layout(rewards), layout(cooperation), layout(frequencies), num_rounds)


def per_round_values(
    policy_0: PolicyLike, policy_1: PolicyLike, num_rounds: int = 100, payoffs: PayoffSpec = "paper"
) -> MatchValues:
    """Expected reward, cooperation and outcome at each round ``t = 1..num_rounds``.

    Returns:
        :class:`MatchValues` with ``rewards`` and ``cooperation_rates`` ``[2, T]``
        (``[2, T, B]`` for a batch) and ``outcome_frequencies`` ``[4, T]`` (``[4, T, B]``).
    """
    num_rounds = check_num_rounds(num_rounds)
    table = make_payoff_table(payoffs)
    initial, transition, batched = _chain(policy_0, policy_1, payoffs)
    distributions = np.empty((initial.shape[0], num_rounds, 4))
    current = initial
    for round_index in range(num_rounds):
        distributions[:, round_index] = current
        current = np.einsum("bs,bst->bt", current, transition)
    return _values(distributions, table, batched, num_rounds)


def _sum_of_powers(transition: np.ndarray, count: int) -> np.ndarray:
    """``I + M + ... + M^(count-1)`` for ``[B, 4, 4]`` matrices, by repeated squaring."""
    identity = np.broadcast_to(np.eye(4), transition.shape)
    total = np.zeros_like(transition)  # S_0 = 0, power = M^0 = I
    power = identity.copy()
    # Walk the bits of count from the top: S_{2n} = S_n + M^n S_n, S_{n+1} = I + M S_n.
    for bit in bin(count)[2:]:
        total = total + power @ total
        power = power @ power
        if bit == "1":
            total = identity + transition @ total
            power = transition @ power
    return total


def finite_horizon_values(
    policy_0: PolicyLike, policy_1: PolicyLike, num_rounds: int = 100, payoffs: PayoffSpec = "paper"
) -> MatchValues:
    """Expected per-round reward and cooperation rate, averaged over rounds ``1..num_rounds``.

    Exact for any horizon: the mean distribution ``v_1 (I + M + ... + M^(T-1)) / T`` is
    built by repeated squaring.

    Returns:
        :class:`MatchValues` with ``rewards`` and ``cooperation_rates`` ``[2]`` (``[2, B]``)
        and ``outcome_frequencies`` ``[4]`` (``[4, B]``).
    """
    num_rounds = check_num_rounds(num_rounds)
    table = make_payoff_table(payoffs)
    initial, transition, batched = _chain(policy_0, policy_1, payoffs)
    mean = np.einsum("bs,bst->bt", initial, _sum_of_powers(transition, num_rounds)) / num_rounds
    return _values(mean, table, batched, num_rounds)


def _recurrent_classes(support: np.ndarray) -> list[list[int]]:
    """Closed communicating classes of a chain given its ``[4, 4]`` boolean support."""
    size = support.shape[0]
    reach = support | np.eye(size, dtype=bool)
    for middle in range(size):  # Warshall's transitive closure
        reach = reach | (reach[:, [middle]] & reach[[middle], :])
    classes, seen = [], set()
    for state in range(size):
        if state in seen:
            continue
        members = [other for other in range(size) if reach[state, other] and reach[other, state]]
        seen.update(members)
        # Closed: everything reachable from the class lies in the class.
        if set(np.flatnonzero(reach[state]).tolist()) <= set(members):
            classes.append(members)
    return classes


def _stationary_gth(transition: np.ndarray) -> np.ndarray:
    """Stationary distributions ``[B, n]`` of irreducible chains ``[B, n, n]`` (GTH elimination).

    Grassmann, Taksar & Heyman (1985): state elimination using only additions of
    non-negative numbers, accurate even when some transitions are tiny.
    """
    matrix = transition.copy()
    size = matrix.shape[-1]
    for last in range(size - 1, 0, -1):
        leaving = matrix[:, last, :last].sum(axis=1)  # [B], > 0 for an irreducible chain
        matrix[:, :last, last] /= leaving[:, None]
        matrix[:, :last, :last] += matrix[:, :last, last][:, :, None] * matrix[:, last, :last][:, None, :]
    weights = np.zeros(matrix.shape[:2])
    weights[:, 0] = 1.0
    for state in range(1, size):
        weights[:, state] = np.einsum("bi,bi->b", weights[:, :state], matrix[:, :state, state])
    return weights / weights.sum(axis=1, keepdims=True)


def _cesaro_limit(initial: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """``lim (1/T) sum_t v_1 M^(t-1)`` for chains that share one support pattern, ``[B, 4]``."""
    support = transition[0] > 0
    classes = _recurrent_classes(support)
    recurrent = [state for members in classes for state in members]
    transient = [state for state in range(4) if state not in recurrent]
    # Probability of ending up in each class: starting mass already in it, plus the
    # transient mass routed through the fundamental matrix N = (I - Q)^-1.
    absorbed = np.stack([initial[:, members].sum(axis=1) for members in classes], axis=1)  # [B, classes]
    if transient:
        within = transition[:, transient][:, :, transient]  # Q: [B, t, t]
        into = np.stack([transition[:, transient][:, :, members].sum(axis=2) for members in classes], axis=2)
        fundamental = np.linalg.inv(np.eye(len(transient)) - within)
        absorbed = absorbed + np.einsum("bi,bij,bjc->bc", initial[:, transient], fundamental, into)
    limit = np.zeros_like(initial)
    for class_index, members in enumerate(classes):
        block = transition[:, members][:, :, members]
        limit[:, members] += absorbed[:, [class_index]] * _stationary_gth(block)
    return limit


def long_run_values(policy_0: PolicyLike, policy_1: PolicyLike, payoffs: PayoffSpec = "paper") -> MatchValues:
    """The long-run (``T -> infinity``) per-round reward and cooperation rate.

    Defined as the limit of :func:`finite_horizon_values` (a Cesaro average, which exists
    for periodic and non-ergodic chains too); computed exactly from the chain's recurrent
    classes, see the module docstring. Pairs are grouped by the zero pattern of their
    transition matrix so a batch is handled in a few vectorised passes.

    Returns:
        :class:`MatchValues` with ``rewards`` and ``cooperation_rates`` ``[2]`` (``[2, B]``),
        ``outcome_frequencies`` ``[4]`` (``[4, B]``) and ``num_rounds = math.inf``.
    """
    table = make_payoff_table(payoffs)
    initial, transition, batched = _chain(policy_0, policy_1, payoffs)
    patterns = (transition > 0).reshape(transition.shape[0], 16)
    unique_patterns, group = np.unique(patterns, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    limit = np.empty_like(initial)
    for pattern_index in range(unique_patterns.shape[0]):
        rows = np.flatnonzero(group == pattern_index)
        limit[rows] = _cesaro_limit(initial[rows], transition[rows])
    return _values(limit, table, batched, math.inf)
