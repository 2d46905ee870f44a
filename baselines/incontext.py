"""The prize for in-context inference: pool distributions, the exact oracle, the gain.

A learner trained against a pool of memory-1 co-players can only beat always-defect by
recognising, inside an episode, who it is playing. How much there is to win depends on
the pool; this module measures it exactly (no simulation, :mod:`baselines.analytic`)
and scores a learner against it.

Pool distributions (:func:`parse_pool`), each a law of the five cooperation
probabilities ``(start, CC, CD, DC, DD)`` of one co-player:

| spec            | each co-player                                                        |
|-----------------|-----------------------------------------------------------------------|
| ``uniform``     | five i.i.d. U(0, 1) probabilities: the paper's pool (the default)     |
| ``beta:A,B``    | five i.i.d. Beta(A, B) probabilities (A, B > 0); ``beta:1,1`` = uniform in law |
| ``sharpened:K`` | ``p = sigmoid(K * logit(u))``, ``u ~ U(0, 1)``, K > 0: K > 1 pushes   |
|                 | towards deterministic strategies, K < 1 towards 1/2, K = 1 is uniform |
| ``pure``        | one of the 32 deterministic memory-1 strategies, uniformly            |
| ``zoo``         | one of the memory-1 classics of :mod:`baselines.tabular`, uniformly:  |
|                 | allc, alld, tft, stft, gtft, wsls, random, extort2, generous2         |

The yardsticks, per co-player, for a learner playing ``player_0`` over ``T`` rounds
(:func:`oracle_values`): always-defect's per-round reward; the *oracle*, the best of the
32 deterministic memory-1 replies chosen knowing the co-player; and the exact
finite-horizon optimum (a dynamic programme over the round and the last joint outcome,
exact because a memory-1 co-player's move depends only on that outcome). The learner's
score (:func:`gain_report`) is its ``gain_fraction``: the share of the oracle's gain
over always-defect that it wins, 0 for always-defect, 1 for the oracle.

Example::

    >>> from baselines.incontext import evaluation_set, oracle_values, gain_report
    >>> co_players = evaluation_set("uniform", size=1024, seed=0)  # [1024, 5] float32
    >>> oracle = oracle_values(co_players)                         # exact, 100 rounds
    >>> gain_report(oracle["alld_reward"], oracle)["gain_fraction"]
    0.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np
import torch

from baselines.analytic import as_policy, finite_horizon_values
from baselines.tabular import named_probabilities, sample_memory_one
from ipd_env.game import NUM_OBSERVATIONS, PayoffSpec, check_num_rounds, make_payoff_table

#: The memory-1 members of the named zoo that the ``zoo`` pool draws from (Grim is stateful).
ZOO_POOL_MEMBERS = ("allc", "alld", "tft", "stft", "gtft", "wsls", "random", "extort2", "generous2")
POOL_FORMS = (
    "'uniform'",
    "'beta:A,B' (A, B > 0 finite)",
    "'sharpened:K' (K > 0 finite)",
    "'pure'",
    "'zoo'",
)
#: Knowing the co-player "pays" when the oracle beats always-defect by more than this, per round.
PAYING_MARGIN = 0.05
#: Share of the most reciprocal co-players whose gain :func:`gain_report` singles out.
TOP_SHARE = 0.1
# Oracle gains below this count as none (float rounding of equal rewards).
_TIE_TOLERANCE = 1e-12
# Co-players per batch of the exact evaluator in _reply_rewards.
_CHUNK = 2048


def deterministic_policies() -> np.ndarray:
    """The 32 deterministic memory-1 policies, ``[32, 5]`` float64 of 0/1.

    Row ``k`` cooperates at observation ``j`` (start, CC, CD, DC, DD) when bit ``4 - j``
    of ``k`` is set, so row 0 is always-defect and row 31 always-cooperate; TFT
    ``(1, 1, 0, 1, 0)`` is row ``0b11010 = 26``.
    """
    indices = np.arange(32)[:, None]
    return ((indices >> (NUM_OBSERVATIONS - 1 - np.arange(NUM_OBSERVATIONS))) & 1).astype(np.float64)


def _format_number(value: float) -> str:
    """Shortest round-trip text of a float, without a trailing ``.0`` (2.0 -> "2")."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _parse_numbers(spec: str, text: str, count: int) -> tuple:
    parts = text.split(",")
    try:
        numbers = tuple(float(part) for part in parts)
    except ValueError:
        numbers = ()
    if len(numbers) != count or not all(math.isfinite(number) and number > 0 for number in numbers):
        raise ValueError(_bad_spec_message(spec, f"expected {count} finite number(s) > 0 after ':'"))
    return numbers


def _bad_spec_message(spec, reason: str) -> str:
    return f"bad pool spec {spec!r}: {reason}; accepted forms: {', '.join(POOL_FORMS)}"


@dataclass(frozen=True)
class PoolDistribution:
    """A law of memory-1 co-players; build it with :func:`parse_pool`.

    Attributes:
        spec: canonical spec string (``"beta:0.5,0.5"``), parsed back to an equal object.
        name: the family: ``"uniform"``, ``"beta"``, ``"sharpened"``, ``"pure"`` or ``"zoo"``.
        parameters: the family's numbers, ``(A, B)`` for beta, ``(K,)`` for sharpened.
        members: for ``zoo``, the members' probabilities as 5-tuples (payoff-dependent:
            GTFT and the ZD members are built for the game given to :func:`parse_pool`).
    """

    spec: str
    name: str
    parameters: tuple = ()
    members: tuple = ()

    def sample(
        self, num_games: int, generator: Optional[torch.Generator] = None, device="cpu"
    ) -> torch.Tensor:
        """Draw ``[num_games, 5]`` float32 cooperation probabilities (start, CC, CD, DC, DD).

        All randomness comes from ``generator`` (on ``device``; the generator's device wins
        when given), so the same generator state gives the same co-players. ``uniform`` is
        :func:`ipd_env.memory_one.sample_memory_one`, the pool's one definition, and
        ``sharpened`` transforms its draw.
        """
        if isinstance(num_games, bool) or not isinstance(num_games, (int, np.integer)) or num_games < 0:
            raise ValueError(f"num_games must be a non-negative integer, got {num_games!r}")
        if generator is not None:
            device = generator.device
        shape = (int(num_games), NUM_OBSERVATIONS)
        if self.name == "uniform":
            return sample_memory_one(int(num_games), generator, device)
        if self.name == "sharpened":
            (sharpness,) = self.parameters
            uniform = sample_memory_one(int(num_games), generator, device)
            return torch.sigmoid(sharpness * torch.logit(uniform))
        if self.name == "pure":
            return torch.randint(0, 2, shape, generator=generator, device=device).float()
        if self.name == "zoo":
            table = torch.tensor(self.members, dtype=torch.float32, device=device)
            rows = torch.randint(0, len(self.members), shape[:1], generator=generator, device=device)
            return table[rows]
        if self.name == "beta":
            # torch's Beta sampler takes no generator; a numpy stream seeded from the
            # torch generator keeps the draw reproducible from the same generator state.
            alpha, beta = self.parameters
            seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device).item())
            values = np.random.default_rng(seed).beta(alpha, beta, size=shape)
            return torch.as_tensor(values, dtype=torch.float32, device=device)
        raise AssertionError(f"unhandled pool family {self.name!r}")


def parse_pool(spec: Union[str, PoolDistribution], payoffs: PayoffSpec = "paper") -> PoolDistribution:
    """Parse a pool spec (see the module table) into a :class:`PoolDistribution`.

    Case and surrounding spaces are ignored (``"Beta: 0.5, 0.5"`` works). ``payoffs``
    matters only for ``zoo`` (GTFT's generosity and the ZD members depend on the game).
    A :class:`PoolDistribution` is returned unchanged.

    Raises:
        ValueError: an unknown form, or a parameter that is not a finite number > 0; the
            message names the spec and lists the accepted forms.
    """
    if isinstance(spec, PoolDistribution):
        return spec
    if not isinstance(spec, str):
        raise ValueError(_bad_spec_message(spec, f"a pool spec is a string, got {type(spec).__name__}"))
    text = spec.strip().lower().replace(" ", "")
    family, _, arguments = text.partition(":")
    if family in ("uniform", "pure", "zoo"):
        if arguments or ":" in text:
            raise ValueError(_bad_spec_message(spec, f"{family!r} takes no parameters"))
        if family == "zoo":
            try:
                members = tuple(tuple(named_probabilities(name, payoffs).tolist()) for name in ZOO_POOL_MEMBERS)
            except ValueError as error:
                raise ValueError(f"pool {spec!r} cannot be built for payoffs {payoffs!r}: {error}") from error
            return PoolDistribution("zoo", "zoo", members=members)
        return PoolDistribution(family, family)
    if family == "beta":
        alpha, beta = _parse_numbers(spec, arguments, 2)
        return PoolDistribution(f"beta:{_format_number(alpha)},{_format_number(beta)}", "beta", (alpha, beta))
    if family == "sharpened":
        (sharpness,) = _parse_numbers(spec, arguments, 1)
        return PoolDistribution(f"sharpened:{_format_number(sharpness)}", "sharpened", (sharpness,))
    raise ValueError(_bad_spec_message(spec, f"unknown pool family {family!r}"))


def evaluation_set(
    pool: Union[str, PoolDistribution] = "uniform", size: int = 1024, seed: int = 0, payoffs: PayoffSpec = "paper"
) -> torch.Tensor:
    """A fixed set of co-players to score learners on: ``[size, 5]`` float32, CPU.

    Drawn from ``pool`` with a generator of its own, seeded from ``seed`` through a
    salt, so it is the same for every run of a seed and independent of a training stream
    seeded with ``torch.manual_seed(seed)``.

    Raises:
        ValueError: a bad pool spec, ``size < 1`` or a non-integer seed.
    """
    distribution = parse_pool(pool, payoffs)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"evaluation set size must be a positive integer, got {size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"evaluation set seed must be a non-negative integer, got {seed!r}")
    # SeedSequence mixes (salt, seed) so that seed 0 here never replays training seed 0.
    state = np.random.SeedSequence([0x1CE5E7, int(seed)]).generate_state(1, dtype=np.uint64)[0]
    generator = torch.Generator().manual_seed(int(state) & (2**63 - 1))
    return distribution.sample(int(size), generator, "cpu")


def reciprocity(probabilities) -> np.ndarray:
    """``(p_CC - p_CD) + (p_DC - p_DD)`` per co-player, ``[N]`` float64.

    How much more the co-player cooperates after the other cooperated than after it
    defected (2 for TFT, 0 for AllC, AllD or Random, -2 for anti-TFT).
    """
    policy = np.atleast_2d(as_policy(probabilities))
    return (policy[:, 1] - policy[:, 2]) + (policy[:, 3] - policy[:, 4])


def _reply_rewards(co_players: np.ndarray, payoffs: PayoffSpec, num_rounds: int) -> np.ndarray:
    """``[32, N]``: per-round reward of each deterministic memory-1 reply against each co-player."""
    replies = deterministic_policies()
    rewards = np.empty((len(replies), co_players.shape[0]))
    # Chunks of co-players keep the 32 x chunk batch of 4 x 4 matrices to ~10 MB each.
    for start in range(0, co_players.shape[0], _CHUNK):
        chunk = co_players[start:start + _CHUNK]
        values = finite_horizon_values(
            np.repeat(replies, len(chunk), axis=0), np.tile(chunk, (len(replies), 1)), num_rounds, payoffs
        )
        rewards[:, start:start + len(chunk)] = values.rewards[0].reshape(len(replies), len(chunk))
    return rewards


def dynamic_programming_rewards(probabilities, payoffs: PayoffSpec = "paper", num_rounds: int = 100) -> np.ndarray:
    """The exact finite-horizon optimum against each memory-1 co-player, per round, ``[N]`` float64.

    Backward induction over ``(round, last joint outcome)``: against a memory-1 co-player
    these are a sufficient state, so the optimum over *all* (history-dependent) policies
    of ``player_0`` is reached by a policy of them. ``V_t(s) = max_a sum_b q(b|s)
    [r(a, b) + V_{t+1}(outcome(a, b))]`` with ``q`` the co-player's move given the
    outcome ``s`` (seen from its side); the value is ``V_1(start) / T``.
    """
    num_rounds = check_num_rounds(num_rounds)
    co_players = np.atleast_2d(as_policy(probabilities, payoffs))
    own_reward = make_payoff_table(payoffs)[:, :, 0]  # [own action, other's action]
    # The co-player cooperates with q[1 + swap(s)] after joint outcome s = (own, other)
    # in player_0's frame (it sees CD and DC swapped), and with q[0] in round 1.
    after_outcome = co_players[:, [1, 3, 2, 4]]  # [N, 4], outcomes CC, CD, DC, DD
    future = np.zeros((co_players.shape[0], 4))  # V_{t+1} per outcome
    for round_index in range(num_rounds, 0, -1):
        cooperate = co_players[:, [0]] if round_index == 1 else after_outcome  # [N, 1] or [N, 4]
        action_values = []
        for action in (0, 1):
            # Outcome index 2 * own + other; value of playing `action` now, optimally after.
            action_values.append(
                cooperate * (own_reward[action, 0] + future[:, [2 * action]])
                + (1 - cooperate) * (own_reward[action, 1] + future[:, [2 * action + 1]])
            )
        future = np.maximum(*action_values)
    return future[:, 0] / num_rounds


def oracle_values(probabilities, payoffs: PayoffSpec = "paper", num_rounds: int = 100) -> dict:
    """Exact yardsticks for a learner (``player_0``) against each co-player of a set.

    Args:
        probabilities: ``[N, 5]`` (or ``[5]``) cooperation probabilities of the co-players,
            numpy or torch.
        payoffs: the game (see ``ipd_env.game.make_payoff_table``).
        num_rounds: the horizon ``T``; rewards are means over its rounds.

    Returns:
        dict of float64 numpy arrays, per-round rewards in payoff units:

        * ``alld_reward`` ``[N]``: always-defect's reward;
        * ``oracle_reward`` ``[N]``: the best of the 32 deterministic memory-1 replies,
          chosen per co-player (ties go to the lowest row of
          :func:`deterministic_policies`, so always-defect when it is among the best);
        * ``oracle_policy`` ``[N, 5]``: that reply;
        * ``dp_reward`` ``[N]``: the exact finite-horizon optimum over all policies
          (:func:`dynamic_programming_rewards`), ``>= oracle_reward``;
        * ``reciprocity`` ``[N]``: ``(p_CC - p_CD) + (p_DC - p_DD)``.
    """
    num_rounds = check_num_rounds(num_rounds)
    co_players = np.atleast_2d(as_policy(probabilities, payoffs))
    return _oracle(co_players, _reply_rewards(co_players, payoffs, num_rounds), payoffs, num_rounds)


def _oracle(co_players: np.ndarray, rewards: np.ndarray, payoffs: PayoffSpec, num_rounds: int) -> dict:
    """:func:`oracle_values` from the ``[32, N]`` rewards of the deterministic replies."""
    best = rewards.max(axis=0)
    choice = np.argmax(rewards >= best - _TIE_TOLERANCE, axis=0)  # first reply within the tolerance
    columns = np.arange(co_players.shape[0])
    return {
        "alld_reward": rewards[0].copy(),
        "oracle_reward": rewards[choice, columns],
        "oracle_policy": deterministic_policies()[choice],
        "dp_reward": dynamic_programming_rewards(co_players, payoffs, num_rounds),
        "reciprocity": reciprocity(co_players),
    }


def _top_rows(reciprocity_values: np.ndarray) -> np.ndarray:
    """Indices of the ``ceil(TOP_SHARE * N)`` most reciprocal co-players (ties: lower index first)."""
    count = max(1, math.ceil(TOP_SHARE * reciprocity_values.shape[0] - 1e-9))
    return np.argsort(-reciprocity_values, kind="stable")[:count]


def _fraction(gain: float, prize: float) -> float:
    return gain / prize if prize > _TIE_TOLERANCE else float("nan")


def _gain_share(gains: np.ndarray, top: np.ndarray) -> float:
    total = float(gains.sum())
    return float(gains[top].sum()) / total if total > 0 else 0.0


def gain_report(rewards, oracle: dict) -> dict:
    """Score a learner's rewards against the oracle's.

    Args:
        rewards: ``[N]`` the learner's mean per-round reward against each co-player of the
            set that ``oracle`` (from :func:`oracle_values`) was computed for.
        oracle: the dict of :func:`oracle_values`.

    Returns:
        dict of floats:

        * ``reward``, ``alld_reward``, ``oracle_reward``: means over the co-players;
        * ``gain_fraction = (reward - alld_reward) / (oracle_reward - alld_reward)`` on
          the means: 0 = like always-defect, 1 = as good as the oracle, negative = worse
          than always-defect; NaN only when the set offers no prize (the oracle gains
          less than 1e-12 over always-defect), e.g. a set of always-defectors;
        * ``top_decile_gain_share``: of the learner's total gain over always-defect
          (summed over co-players), the share won on the 10% most reciprocal co-players
          (``ceil(N / 10)``, by :func:`reciprocity`). It can exceed 1 or be negative when
          the learner loses elsewhere; when the total gain is <= 0 there is no gain to
          share and it is 0.0;
        * ``oracle_top_decile_gain_share``: the same for the oracle (where the prize sits);
        * ``top_decile_gain_fraction``: ``gain_fraction`` on that decile alone;
        * ``num_co_players``: ``N``.

    Raises:
        ValueError: ``rewards`` is not ``[N]`` for the ``N`` co-players of ``oracle``, or
            holds a NaN.
    """
    if isinstance(rewards, torch.Tensor):
        rewards = rewards.detach().to("cpu", torch.float64).numpy()
    rewards = np.asarray(rewards, dtype=np.float64)
    alld, best = oracle["alld_reward"], oracle["oracle_reward"]
    if rewards.shape != alld.shape:
        raise ValueError(
            f"rewards must be [N] = {list(alld.shape)}, one per co-player of the oracle's set, "
            f"got shape {list(rewards.shape)}"
        )
    if np.isnan(rewards).any():
        raise ValueError("rewards contain NaN")
    top = _top_rows(oracle["reciprocity"])
    return {
        "reward": float(rewards.mean()),
        "alld_reward": float(alld.mean()),
        "oracle_reward": float(best.mean()),
        "gain_fraction": _fraction(float(rewards.mean() - alld.mean()), float(best.mean() - alld.mean())),
        "top_decile_gain_share": _gain_share(rewards - alld, top),
        "oracle_top_decile_gain_share": _gain_share(best - alld, top),
        "top_decile_gain_fraction": _fraction(
            float(rewards[top].mean() - alld[top].mean()), float(best[top].mean() - alld[top].mean())
        ),
        "num_co_players": int(rewards.shape[0]),
    }


#: Fixed players whose reward against a pool :func:`pool_stats` reports (AllD is the baseline).
REFERENCE_PLAYERS = ("alld", "allc", "tft", "wsls", "extort2")


def describe_policy(policy) -> str:
    """A deterministic memory-1 policy as its moves after (start, CC, CD, DC, DD), e.g. TFT = ``"CCDCD"``."""
    return "".join("C" if value >= 0.5 else "D" for value in np.asarray(policy).tolist())


def pool_stats(
    pool: Union[str, PoolDistribution] = "uniform",
    num_rounds: int = 100,
    payoffs: PayoffSpec = "paper",
    size: int = 1024,
    seed: int = 0,
) -> dict:
    """How much knowing the co-player is worth against a pool: exact values on its evaluation set.

    Everything is computed exactly (:func:`oracle_values`, no simulation) for the
    :func:`evaluation_set` of ``pool`` (``size`` co-players, ``seed``) over ``num_rounds``
    rounds; rewards are per round, averaged over the co-players.

    Returns:
        dict (JSON-able):

        * ``pool`` (canonical spec), ``num_rounds``, ``payoffs``, ``size``, ``seed``;
        * ``alld_reward``, ``oracle_reward`` (best of 32 memory-1 replies, chosen per
          co-player), ``dp_reward`` (the exact finite-horizon optimum per co-player) and
          ``prize`` = ``oracle_reward - alld_reward``;
        * ``share_paying``: share of co-players where the oracle beats always-defect by
          more than :data:`PAYING_MARGIN` (0.05) per round; ``share_alld_best``: share where
          always-defect is already the best memory-1 reply;
        * ``oracle_top_decile_gain_share``: share of the oracle's gain held by the 10% most
          reciprocal co-players (see :func:`gain_report`);
        * ``best_fixed_reply``: the single deterministic memory-1 reply best on average
          (what a learner that does not tell co-players apart can reach at most with one),
          as ``{"moves": "DDDDD", "reward": ...}``;
        * ``reference_rewards``: ``{name: reward}`` of :data:`REFERENCE_PLAYERS`.

    Raises:
        ValueError: a bad pool spec, size, seed, horizon or payoffs.
    """
    distribution = parse_pool(pool, payoffs)
    num_rounds = check_num_rounds(num_rounds)
    co_players = as_policy(evaluation_set(distribution, size, seed, payoffs))
    reply_rewards = _reply_rewards(co_players, payoffs, num_rounds)  # [32, size]
    oracle = _oracle(co_players, reply_rewards, payoffs, num_rounds)
    gain = oracle["oracle_reward"] - oracle["alld_reward"]
    mean_reply_rewards = reply_rewards.mean(axis=1)  # [32]
    best_fixed = int(np.argmax(mean_reply_rewards >= mean_reply_rewards.max() - _TIE_TOLERANCE))
    reference = {
        name: float(finite_horizon_values(name, co_players, num_rounds, payoffs).rewards[0].mean())
        for name in REFERENCE_PLAYERS
    }
    report = gain_report(oracle["alld_reward"], oracle)
    return {
        "pool": distribution.spec,
        "num_rounds": num_rounds,
        "payoffs": payoffs if isinstance(payoffs, str) else np.asarray(payoffs, dtype=float).tolist(),
        "size": int(size),
        "seed": int(seed),
        "alld_reward": report["alld_reward"],
        "oracle_reward": report["oracle_reward"],
        "dp_reward": float(oracle["dp_reward"].mean()),
        "prize": report["oracle_reward"] - report["alld_reward"],
        "share_paying": float(np.mean(gain > PAYING_MARGIN)),
        "share_alld_best": float(np.mean(gain <= _TIE_TOLERANCE)),
        "oracle_top_decile_gain_share": report["oracle_top_decile_gain_share"],
        "best_fixed_reply": {
            "moves": describe_policy(deterministic_policies()[best_fixed]),
            "reward": float(mean_reply_rewards[best_fixed]),
        },
        "reference_rewards": reference,
    }
