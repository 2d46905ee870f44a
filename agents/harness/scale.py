"""How big each preset is beside the paper: training length, batch and the fraction of its compute.

The paper's A2C trains 200,000 iterations for Fig. 1 and 50,000 / 100,000 / 10,000 gradient
steps for Steps 1-3 (SPEC 6b); PPI 30 phases of 20,000 episodes after 200,000 pretraining
episodes. Our CPU presets are far shorter, and a result read at their end is a result at that
point of the paper's x axis, not at its end. :func:`preset_scale_rows` gives, for every
algorithm, experiment (the condition the figure is about: Fig. 1's mixed pool, each Step's
own) and preset: the
units (iterations or phases), the episodes per unit and learner, the agent-steps (A2C) or
episodes (PPI) of one seed, and that as a fraction of the ``paper`` preset's, which is the
paper's exactly. :func:`format_preset_scale` is the markdown table docs/reproduce.md holds
(``tests/agents/test_scale.py`` checks that the page and the code agree).

The paper's seed counts are :data:`PAPER_SEEDS`.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.harness.algorithms import ALGORITHMS, get_algorithm
from agents.harness.experiments import EXPERIMENTS, get_experiment

#: The seeds behind the paper's error bars (SPEC section 6): 10 for Fig. 1 (both algorithms) and
#: PPI's Steps (Fig. 2), 5 for A2C's Steps (Fig. 4).
PAPER_SEEDS = {("a2c", "fig1"): 10, ("ppi", "fig1"): 10, ("a2c", "step1"): 5, ("a2c", "step2"): 5,
               ("a2c", "step3"): 5, ("ppi", "step1"): 10, ("ppi", "step2"): 10, ("ppi", "step3"): 10}


def paper_seeds(algo: str, experiment: str) -> int:
    """How many seeds the paper reports for ``experiment`` with ``algo``; ``ValueError`` if unknown."""
    get_algorithm(algo)
    get_experiment(experiment)
    return PAPER_SEEDS[(algo, experiment)]


@dataclass(frozen=True)
class PresetScale:
    """One row of the scale table (one seed of the condition the experiment's figure is about)."""

    algo: str
    experiment: str
    condition: str
    preset: str
    units: int
    """iterations (A2C; one gradient step each) or phases (PPI)."""
    episodes_per_unit: int
    """episodes each learner plays per unit."""
    work: float
    """agent-steps (A2C: units x episodes x learners x rounds) or episodes played and pretrained on (PPI)."""
    fraction_of_paper: float
    """``work`` over the ``paper`` preset's."""


def _work(algo: str, config, settings, num_learners: int) -> tuple:
    if algo == "ppi":
        units, episodes = config.num_phases, config.episodes_per_phase
        return units, episodes, float(units * episodes * num_learners + config.pretraining_episodes)
    units, episodes = config.num_iterations, config.games_per_learner
    return units, episodes, float(units * episodes * num_learners * settings.num_rounds)


def preset_scale_rows(algos=None, experiments=None) -> list:
    """:class:`PresetScale` rows for every (algorithm, experiment, preset), presets smallest first."""
    rows = []
    for algo in algos or ALGORITHMS:
        algorithm = get_algorithm(algo)
        for name in experiments or EXPERIMENTS:
            experiment = get_experiment(name)
            # The condition the figure is about: Fig. 1's mixed pool, and each Step's own.
            condition = experiment.conditions[0] if name == "fig1" else experiment.conditions[-1]
            measured = {}
            for preset in algorithm.presets:
                config, settings = algorithm.make_run(preset, condition.paper_step)
                measured[preset] = _work(algo, config, settings, condition.num_learners)
            paper_work = measured["paper"][2]
            for preset, (units, episodes, work) in measured.items():
                rows.append(PresetScale(algo, name, condition.name, preset, units, episodes, work, work / paper_work))
    return rows


def _fraction(value: float) -> str:
    if value >= 0.9995:
        return "1 (the paper)" if abs(value - 1) < 5e-4 else f"{value:.2f}"
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def format_preset_scale(rows=None) -> str:
    """The markdown table of :func:`preset_scale_rows` (one line per row)."""
    rows = preset_scale_rows() if rows is None else rows
    lines = ["| algorithm | experiment (condition) | preset | length | episodes per unit and learner | "
             "agent-steps (A2C) / episodes (PPI) per seed | fraction of the paper's | paper's seeds |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        unit = "phases" if row.algo == "ppi" else "iterations"
        lines.append(f"| {row.algo} | {row.experiment} ({row.condition}) | `{row.preset}` | {row.units:,} {unit} | "
                     f"{row.episodes_per_unit:,} | {row.work:.2g} | {_fraction(row.fraction_of_paper)} | "
                     f"{PAPER_SEEDS[(row.algo, row.experiment)]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_preset_scale())
