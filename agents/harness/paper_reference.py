"""The paper's own curves, as numbers read off its figures, for our plots and summaries.

The numbers live in :mod:`agents.harness.paper_reference_data` (how they were read, and
what each name means, is its docstring); this module looks them up by our names:

* :func:`paper_curve` ``(algo, experiment, condition, pairing, quantity)``: a training-progress
  curve (Fig. 1, 2A/C/E, 4A/C/E) on the paper's x axis, as a :class:`PaperCurve`;
* :func:`paper_episode_curve` ``(algo, experiment, condition, opponent, quantity)``: a
  within-episode curve, round 1-100 (Fig. 2B/D/F, 3, 4B/D/F);
* :func:`paper_metric_curve`: the same from one of our metric names
  (``learner_vs_tabular/cooperation`` in ``metrics.csv``, ``eval/pool/reward`` in
  ``eval_metrics.csv``);
* :func:`paper_value_at`: the curve at one x (linear interpolation; None beyond the paper's axis);
* :func:`paper_length`, :func:`paper_x`, :func:`describe_progress`: how long the paper trained
  each condition (A2C: Fig. 1 200,000 iterations, Step 1 50,000, Step 2 100,000, Step 3
  10,000 gradient steps; PPI: 30 phases) and how far along that axis a run of ours got.

Names are ours: ``algo`` ``a2c`` / ``ppi``; ``experiment`` and ``condition`` as in
:mod:`agents.harness.experiments` (``fig1``: ``mixed``, ``opponent-id``, ``no-tabular``;
``step1``..``step3``); ``pairing`` ``learner`` / ``tabular`` / ``frozen`` as in our
``learner_vs_<pairing>/<quantity>`` metrics; ``quantity`` ``reward`` / ``cooperation``
(the learner's) or ``co_player_reward`` / ``co_player_cooperation`` (a metric or quantity name
of a file written before the co_player rename is read as today's: :mod:`agents.legacy_names`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from agents.harness.experiments import get_experiment
from agents.harness.paper_reference_data import EPISODE, TRAINING
from agents.legacy_names import current_name

ALGORITHMS = ("a2c", "ppi")
PAIRINGS = ("learner", "tabular", "frozen")
OPPONENTS = ("tft", "alld", "allc", "pool", "learner", "frozen")
QUANTITIES = ("reward", "cooperation", "co_player_reward", "co_player_cooperation")
#: What a quantity can be: reward per round lies in [S, T] = [-1, 2] for the paper's payoffs.
QUANTITY_RANGE = {"reward": (-1.0, 2.0), "co_player_reward": (-1.0, 2.0),
                  "cooperation": (0.0, 1.0), "co_player_cooperation": (0.0, 1.0)}
#: How long the paper trained each condition, and the unit of its x axis (SPEC 6b).
PAPER_LENGTHS = {
    "a2c": {"mixed": (200_000, "iteration"), "opponent-id": (200_000, "iteration"),
            "no-tabular": (200_000, "iteration"), "step1": (50_000, "gradient step"),
            "step2": (100_000, "gradient step"), "step3": (10_000, "gradient step")},
    "ppi": {name: (30, "phase") for name in ("mixed", "opponent-id", "no-tabular", "step1", "step2", "step3")},
}
#: The paper's in-training-evaluation counterpart of our pool evaluation set: fresh uniform memory-1 agents.
EVAL_OPPONENT_PAIRING = {"pool": "tabular", "learner": "learner", "frozen": "frozen"}


@dataclass(frozen=True)
class PaperCurve:
    """One curve of the paper, as we read it.

    Attributes:
        x: ``[num_points]`` float, increasing, on the paper's axis (``x_unit``).
        y: ``[num_points]`` float, the plotted mean (over the paper's seeds).
        low, high: ``[num_points]`` float, ``y`` minus / plus our read-off uncertainty, clipped
            to the quantity's range (the band within which a value is "on the paper's curve").
        source: the figure panel, e.g. ``"Fig. 4A"``.
        x_unit: ``"iteration"``, ``"gradient step"``, ``"phase"`` or ``"round"``.
        at: within-episode curves only: where in training the paper played the episode, on the
            training axis (None for training curves and for "before training").
        key: ``(algo, condition, pairing or opponent, quantity)``.
    """

    x: np.ndarray
    y: np.ndarray
    low: np.ndarray
    high: np.ndarray
    source: str
    x_unit: str
    key: tuple[str, str, str, str]
    at: Optional[float] = None

    @property
    def half_width(self) -> np.ndarray:
        """``[num_points]`` the read-off uncertainty before clipping (upper minus y where unclipped)."""
        return np.maximum(self.high - self.y, self.y - self.low)

    def label(self, training_unit: str = "") -> str:
        """Legend text, e.g. ``"paper (read off Fig. 4A)"``, or for an episode curve
        ``"paper, after 50,000 gradient steps (read off Fig. 4B)"``."""
        if self.x_unit != "round":
            return f"paper (read off {self.source})"
        when = "before training" if self.at is None else f"at {self.at:,.0f} {training_unit}s".rstrip()
        return f"paper, {when} (read off {self.source})"


@dataclass(frozen=True)
class PaperValue:
    """The paper's curve at one x: ``value`` and the band ``[low, high]``, from panel ``source``."""

    value: float
    low: float
    high: float
    source: str


def _check(algo: str, experiment: str, condition: str) -> None:
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}; the paper's curves exist for {', '.join(ALGORITHMS)}")
    get_experiment(experiment).condition(condition)  # ValueError naming the unknown experiment or condition


def _build(key, panel, points, x_unit, at=None) -> PaperCurve:
    points = np.asarray(points, dtype=float)
    bottom, top = QUANTITY_RANGE[key[3]]
    x, y, half = points[:, 0], points[:, 1], points[:, 2]
    return PaperCurve(x=x, y=y, low=np.clip(y - half, bottom, top), high=np.clip(y + half, bottom, top),
                      source=panel, x_unit=x_unit, key=key, at=at)


def paper_curve(algo: str, experiment: str, condition: str, pairing: str, quantity: str,
                missing_ok: bool = False) -> Optional[PaperCurve]:
    """The paper's training-progress curve of ``pairing``/``quantity`` in ``condition``.

    Raises ``ValueError`` naming an unknown algorithm, experiment, condition, pairing or
    quantity, and (unless ``missing_ok``, then returns None) when the paper drew no such curve.
    """
    _check(algo, experiment, condition)
    if pairing not in PAIRINGS:
        raise ValueError(f"unknown pairing {pairing!r}; pairings: {', '.join(PAIRINGS)}")
    quantity = current_name(quantity)
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; quantities: {', '.join(QUANTITIES)}")
    key = (algo, condition, pairing, quantity)
    if key not in TRAINING:
        if missing_ok:
            return None
        drawn = sorted(f"{k[2]}/{k[3]}" for k in TRAINING if k[:2] == (algo, condition))
        raise ValueError(f"the paper has no {algo} training curve for {condition} {pairing}/{quantity}; "
                         f"it has: {', '.join(drawn) or 'none'}")
    panel, points = TRAINING[key]
    return _build(key, panel, points, PAPER_LENGTHS[algo][condition][1])


def paper_episode_curve(algo: str, experiment: str, condition: str, opponent: str, quantity: str,
                        missing_ok: bool = False) -> Optional[PaperCurve]:
    """The paper's within-episode curve (x = round 1-100) of the learner of ``condition``
    against ``opponent`` (``tft``, ``alld``, ``allc``, ``pool``, ``learner``, ``frozen``).

    Errors and ``missing_ok`` as in :func:`paper_curve`.
    """
    _check(algo, experiment, condition)
    if opponent not in OPPONENTS:
        raise ValueError(f"unknown opponent {opponent!r}; the paper's episode curves are against "
                         f"{', '.join(OPPONENTS)}")
    quantity = current_name(quantity)
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; quantities: {', '.join(QUANTITIES)}")
    key = (algo, condition, opponent, quantity)
    if key not in EPISODE:
        if missing_ok:
            return None
        drawn = sorted(f"{k[2]}/{k[3]}" for k in EPISODE if k[:2] == (algo, condition))
        raise ValueError(f"the paper has no {algo} within-episode curve for {condition} against {opponent} "
                         f"({quantity}); it has: {', '.join(drawn) or 'none'}")
    panel, at, points = EPISODE[key]
    return _build(key, panel, points, "round", at=None if at is None else float(at))


def metric_pairing(metric: str) -> Optional[tuple[str, str]]:
    """``(pairing, quantity)`` of one of our metric names, or None when the paper has no counterpart.

    ``learner_vs_<pairing>/<quantity>`` (``metrics.csv``) maps to itself; ``eval/pool/reward``
    and ``eval/pool/cooperation`` (``eval_metrics.csv``, whole-episode means against the
    uniform pool set) map to the paper's ``tabular`` pairing. Late-episode means
    (``eval/<opponent>/late_*``) have no counterpart: the paper plots whole episodes.
    """
    metric = current_name(metric)
    if metric.startswith("learner_vs_"):
        pairing, _, quantity = metric[len("learner_vs_"):].partition("/")
        return (pairing, quantity) if pairing in PAIRINGS and quantity in QUANTITIES else None
    parts = metric.split("/")
    if len(parts) == 3 and parts[0] == "eval" and parts[1] in EVAL_OPPONENT_PAIRING and parts[2] in (
            "reward", "cooperation"):
        return EVAL_OPPONENT_PAIRING[parts[1]], parts[2]
    return None


def paper_metric_curve(algo: str, experiment: str, condition: str, metric: str) -> Optional[PaperCurve]:
    """The paper's training curve for one of our metric names (see :func:`metric_pairing`), or None."""
    mapped = metric_pairing(metric)
    if mapped is None:
        _check(algo, experiment, condition)
        return None
    return paper_curve(algo, experiment, condition, *mapped, missing_ok=True)


def first_logged(curve: PaperCurve) -> float:
    """The first x after the paper's step 0 (A2C curves start with the initial policy at x = 0)."""
    return float(curve.x[1] if curve.x[0] == 0 and len(curve.x) > 1 else curve.x[0])


def value_at(curve: PaperCurve, x: float) -> Optional[PaperValue]:
    """``curve`` at ``x`` (linear interpolation of y and of the band); None outside ``[x[0], x[-1]]``
    and strictly between the paper's step 0 and its first logged point (:func:`first_logged`):
    there the paper shows only a jump (Fig. 4A's collapse happens within its first pixel), so an
    interpolated value would be ours, not the paper's."""
    if not curve.x[0] <= x <= curve.x[-1] or 0 < x < first_logged(curve):
        return None
    return PaperValue(value=float(np.interp(x, curve.x, curve.y)), low=float(np.interp(x, curve.x, curve.low)),
                      high=float(np.interp(x, curve.x, curve.high)), source=curve.source)


def paper_value_at(algo: str, experiment: str, condition: str, pairing: str, quantity: str,
                   x: float) -> Optional[PaperValue]:
    """The paper's training curve at ``x`` on its own axis (:func:`value_at`); None when the paper
    has no such curve or ``x`` lies beyond its axis."""
    curve = paper_curve(algo, experiment, condition, pairing, quantity, missing_ok=True)
    return None if curve is None else value_at(curve, x)


def paper_length(algo: str, condition: str) -> tuple[int, str]:
    """``(length, unit)``: how long the paper trained ``condition``, e.g. ``(50000, "gradient step")``."""
    if algo not in PAPER_LENGTHS:
        raise ValueError(f"unknown algorithm {algo!r}; the paper's lengths exist for {', '.join(PAPER_LENGTHS)}")
    if condition not in PAPER_LENGTHS[algo]:
        raise ValueError(f"unknown condition {condition!r}; the paper's conditions: {', '.join(PAPER_LENGTHS[algo])}")
    return PAPER_LENGTHS[algo][condition]


def paper_x(algo: str, condition: str, units_done: float, hyperparameters: Optional[dict] = None) -> float:
    """Our ``units_done`` (iterations or phases, as in ``metrics.csv`` and ``eval_metrics.csv``) on
    the paper's axis: A2C Steps 1-3 count gradient steps (iterations x ``updates_per_iteration``,
    from the run's ``hyperparameters``), Fig. 1 training iterations, PPI phases."""
    unit = paper_length(algo, condition)[1]
    updates = int((hyperparameters or {}).get("updates_per_iteration", 1)) if unit == "gradient step" else 1
    return float(units_done) * updates


def describe_progress(algo: str, condition: str, x: float) -> str:
    """``"250 of the paper's 50,000 gradient steps (0.5%)"`` for a run that reached ``x`` on the paper's axis."""
    length, unit = paper_length(algo, condition)
    fraction = 100.0 * x / length
    digits = 1 if fraction >= 0.1 else 3
    return f"{x:,.0f} of the paper's {length:,} {unit}s ({fraction:.{digits}f}%)"
