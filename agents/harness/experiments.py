"""The paper's experiments as named configurations, shared by A2C and PPI.

An experiment is a list of *conditions*; each condition is one training run per seed,
written to ``<out>/<condition>/seed_<k>/`` (see :mod:`agents.harness.runner`).

| experiment | conditions (in run order)              | paper figure                         |
|------------|----------------------------------------|--------------------------------------|
| ``fig1``   | ``mixed``, ``opponent-id``, ``no-tabular`` | Fig. 1: mixed pool and both ablations |
| ``step1``  | ``step1``                              | Fig. 2/4, Step 1: the Fixed-ICL      |
| ``step2``  | ``step1``, ``step2``                   | Step 2: extorting the Fixed-ICL      |
| ``step3``  | ``step1``, ``step2``, ``step3``        | Step 3: two extorters together       |

Prerequisites run inside the same output folder: ``step2`` first trains ``step1`` into
``<out>/step1/`` (or reuses it when that seed is already complete there), then freezes
its learner as the Fixed-ICL; ``step3`` likewise runs ``step1`` and ``step2`` and starts
its two learners from the two Step-2 extorters of the same seed. So one command gives a
whole mechanism figure, and a resumed command skips finished conditions.

Each condition names its pool mode (:data:`agents.pool.POOL_MODES`) and the column of
the paper's Table 2 (``paper_step`` 1-4) whose hyperparameters an algorithm should use.
Presets (``cpu-quick``, ``cpu``, ``paper``) belong to the algorithms, which scale these
runs to a budget.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from agents.pool import check_pool_mode

#: Preset names every algorithm provides, smallest first: ``test`` (seconds, tiny models: checks a
#: set-up end to end, its numbers mean nothing), ``cpu-quick``, ``cpu``, ``paper``.
PRESET_NAMES = ("test", "cpu-quick", "cpu", "paper")


@dataclass(frozen=True)
class Condition:
    """One training run per seed inside an experiment.

    Attributes:
        name: folder name and label in plots and ``summary.json``.
        pool_mode: who the learners play (``agents.pool.POOL_MODES``).
        paper_step: column of the paper's Table 2 (1, 2, 3 or 4 = mixed pool).
        num_learners: trainable learners in the run.
        frozen_from: condition whose finished learner 0 (same seed) is the frozen co-player.
        init_from: condition whose finished learners (same seed) initialise this run's.
        description: one line for tables and ``--help``.
    """

    name: str
    pool_mode: str
    paper_step: int
    num_learners: int
    frozen_from: Optional[str] = None
    init_from: Optional[str] = None
    description: str = ""

    def __post_init__(self):
        check_pool_mode(self.pool_mode)

    @property
    def prerequisites(self) -> tuple:
        return tuple(name for name in (self.frozen_from, self.init_from) if name is not None)


@dataclass(frozen=True)
class Experiment:
    """A named experiment: conditions in an order that puts prerequisites first."""

    name: str
    description: str
    conditions: tuple

    def condition(self, name: str) -> Condition:
        for condition in self.conditions:
            if condition.name == name:
                return condition
        known = ", ".join(condition.name for condition in self.conditions)
        raise ValueError(f"experiment {self.name!r} has no condition {name!r}; its conditions: {known}")

    @property
    def condition_names(self) -> tuple:
        return tuple(condition.name for condition in self.conditions)


STEP1 = Condition("step1", "tabular-only", 1, 1,
                  description="one learner vs fresh uniform memory-1 agents; frozen afterwards as the Fixed-ICL")
STEP2 = Condition("step2", "vs-frozen", 2, 2, frozen_from="step1",
                  description="two fresh learners, each trained only against the Fixed-ICL (they learn to extort it)")
STEP3 = Condition("step3", "learners-only", 3, 2, init_from="step2",
                  description="the two Step-2 extorters trained against each other")

EXPERIMENTS = {
    "fig1": Experiment("fig1", "Fig. 1: mixed pool vs the opponent-ID and no-mixed-pool ablations", (
        Condition("mixed", "mixed", 4, 2,
                  description="each learner: half its games vs the other learner, half vs fresh memory-1 agents"),
        Condition("opponent-id", "opponent-id", 4, 2,
                  description="as mixed, but the learner is told its co-player's identity log p(C|o)"),
        Condition("no-tabular", "no-tabular", 4, 2,
                  description="learners only, no tabular co-players"),
    )),
    "step1": Experiment("step1", "Step 1: in-context best response to memory-1 agents (Fixed-ICL)", (STEP1,)),
    "step2": Experiment("step2", "Step 2: a fresh learner extorts the Fixed-ICL", (STEP1, STEP2)),
    "step3": Experiment("step3", "Step 3: mutual extortion turns into cooperation", (STEP1, STEP2, STEP3)),
}


def get_experiment(name: str) -> Experiment:
    """The named experiment; raises ``ValueError`` listing the known names."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def select_conditions(experiment: Experiment, names: Optional[Sequence[str]] = None) -> list:
    """Conditions to run, in run order, with every prerequisite of a selected one added."""
    if names is None:
        return list(experiment.conditions)
    wanted = set()
    pending = [experiment.condition(name).name for name in names]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(experiment.condition(name).prerequisites)
    return [condition for condition in experiment.conditions if condition.name in wanted]
