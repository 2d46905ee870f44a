"""Every figure the harness draws (needs matplotlib, extra ``[plot]``; without it each function
raises :class:`baselines.optional.MissingExtraError` naming the extra, before writing anything).

An experiment folder (:func:`plot_experiment`, called by :func:`agents.harness.summary.aggregate`):

* ``plots/training_curves.png``: the paper's Fig. 1 layout. Per-round reward (top) and
  cooperation rate (bottom) against training units, one column per co-player kind
  (learner vs learner, learner vs tabular, learner vs frozen), one line style per
  condition: the interquartile mean over seeds (IQM) with its 95% stratified-bootstrap
  interval as the shaded band (the ``iqm`` and ``ci95["iqm"]`` of ``summary.json`` at every
  unit, :func:`agents.harness.summary.iqm_curve_ci95`; the line alone for one seed).
* ``plots/within_episode_<condition>.png``: the paper's Fig. 2 / Fig. 4 layout. Reward
  and cooperation per round of the episode against AllC, AllD, TFT, WSLS, Extort-2, the
  other learner and the frozen player, averaged over learners, IQM over seeds with its 95%
  bootstrap band.
* ``plots/in_training_<condition>.png`` (two or more seeds) and
  ``<condition>/seed_<k>/plots/in_training.png``, one per run folder: the in-training
  evaluation (:class:`agents.harness.evaluation.InTrainingEvaluator`) over training units, numbered
  1.. as everywhere: late-episode reward and cooperation against each co-player, the pool
  set's ``gain_fraction``, and a heatmap of cooperation against TFT (training unit x
  round of the episode), which shows whether and when the learners start to answer
  reciprocity (cooperation that rises along the rounds against TFT, not against AllD).
  The experiment-level figure shows the means over seeds at the evaluation points all
  seeds reached.

Every figure of an experiment folder holds the paper's own curve beside ours
(:mod:`agents.harness.paper_reference`, numbers read off its figures): a grey band
labelled "paper (read off Fig. X)" on the paper's x axis (A2C: iterations in Fig. 1,
gradient steps in Steps 1-3; PPI: phases), a dotted vertical line where our run ends
(its legend says what fraction of the paper's axis that is), and in the within-episode
plots the paper's per-round curves (Fig. 2B/D/F, 3, 4B/D/F) as dashed lines in the
co-player's colour over a grey band.

The commands' figures: :func:`plot_evaluation_heatmap` (``ipd-coop evaluate``),
:func:`plot_tournament` (``ipd-coop tournament``) and :func:`plot_sweep_heatmaps`
(``ipd-coop sweep``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

import numpy as np

from agents.harness.paper_reference import (
    describe_progress,
    paper_curve,
    paper_episode_curve,
    paper_length,
    paper_metric_curve,
    paper_x,
)
from agents.harness.summary import iqm_curve, iqm_curve_ci95
from baselines.optional import import_optional

LINE_STYLES = ("-", "--", ":", "-.")
KIND_TITLES = {"learner": "learner vs learner", "tabular": "learner vs tabular", "frozen": "learner vs frozen"}
OPPONENT_LABELS = {"allc": "AllC", "alld": "AllD", "tft": "TFT", "wsls": "WSLS", "extort2": "Extort-2",
                   "learner": "other learner", "frozen": "Fixed-ICL (frozen)", "pool": "pool set"}


def _pyplot(purpose: str):
    """matplotlib's pyplot on the Agg backend (files only, no display), or ``MissingExtraError``
    naming the ``[plot]`` extra and ``purpose``."""
    matplotlib = import_optional("matplotlib", "plot", purpose)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, figure, path: Path, dpi: int) -> Path:
    """Lay ``figure`` out, write it to ``path`` (its folder made if missing), free it; return ``path``."""
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path


#: The most points of a curve at which :func:`_band` bootstraps its interval (each takes about a
#: millisecond): a run of the paper's length has 200,000 units, more than a figure has pixels.
MAX_BAND_POINTS = 400


def band_points(count: int, most: int = MAX_BAND_POINTS) -> np.ndarray:
    """Indices of the points of a ``count``-point curve that get an interval: all of them up to ``most``,
    else about ``most`` spread evenly on a log axis (as the A2C plots are drawn), the first and last included."""
    if count <= most:
        return np.arange(count)
    return np.unique(np.round(np.geomspace(1, count, most)).astype(int) - 1)


def _band(axis, x, curves, label, style, color=None):
    """The interquartile mean over seeds of ``curves`` (``[seeds, points]``) as a line at every point, and its
    95% stratified-bootstrap interval as a shaded band at :func:`band_points`: the numbers of
    ``summary.json`` along the axis (:mod:`agents.harness.summary`). One seed: the line alone."""
    curves, x = np.asarray(curves, dtype=float), np.asarray(x, dtype=float)
    line, = axis.plot(x, iqm_curve(curves), style, label=label, color=color)
    if curves.shape[0] > 1:
        points = band_points(curves.shape[1])
        _, low, high = iqm_curve_ci95(curves[:, points])
        axis.fill_between(x[points], low, high, alpha=0.2, color=line.get_color())


PAPER_COLOR = "0.55"  # grey: the paper's band; ours keep matplotlib's colours


def _paper_lookup(function, *arguments):
    """``function(*arguments)`` (a :mod:`agents.harness.paper_reference` look-up), or None where the
    paper has nothing for these names (another algorithm, a condition outside the experiment)."""
    try:
        return function(*arguments)
    except ValueError:
        return None


def _paper_band(axis, curve, label: str, style: str = "-") -> None:
    """The paper's ``curve`` as a grey band (our read-off uncertainty) around its grey mean line.

    The paper's step 0 (A2C) is a grey point with its error bar, not the band's start: its
    next logged point is hundreds to thousands of steps later (Fig. 4A's collapse happens
    within one pixel), and a line between them would draw, on a log axis, a slow descent
    the paper never showed.
    """
    later = curve.x > 0
    axis.fill_between(curve.x[later], curve.low[later], curve.high[later], color=PAPER_COLOR, alpha=0.3,
                      linewidth=0, label=label)
    axis.plot(curve.x[later], curve.y[later], style, color=PAPER_COLOR, linewidth=1)
    if not later[0]:
        axis.errorbar([0.0], [curve.y[0]], yerr=[[curve.y[0] - curve.low[0]], [curve.high[0] - curve.y[0]]],
                      fmt="o", markersize=3, color=PAPER_COLOR, linewidth=1)


def _paper_axis(axis, algo: str, unit: str, right: float = 0.0) -> None:
    """Our runs are usually 1/10 to 1/10,000 of the paper's (A2C: 200,000 iterations in Fig. 1,
    10,000-100,000 gradient steps in Steps 1-3). A log x axis shows both a run of a few hundred
    iterations and the paper's whole curve, and the paper's early collapse (Fig. 4A) gets as
    much room as its slow climb; symlog keeps the paper's step 0 (linear below 1). PPI's axis
    is 30 phases and our runs a sizeable part of it: linear reads best there."""
    if algo == "a2c":
        axis.set_xscale("symlog", linthresh=1.0)
        axis.set_xlim(left=-0.3, right=right * 1.5 if right else None)  # room for the paper's step-0 point
    elif right:
        axis.set_xlim(right=right + 0.5)
    axis.set_xlabel(f"training {unit}s (the paper's axis)")


def _run_end(axis, algo: str, condition: str, x_end: float, label: bool) -> None:
    """A dotted vertical line where our run ends; its legend entry says how far along the paper's axis."""
    text = f"our {condition} ends: {describe_progress(algo, condition, x_end)}" if label else None
    axis.axvline(x_end, color="black", linestyle=":", linewidth=1, label=text)


def _progress(summary: dict, condition: str, runs: dict):
    """``(algo, unit, factor)``: the paper's unit for ``condition`` and how many of them one of our
    units is (A2C Steps 1-3: gradient steps per iteration), or None where the paper has no axis."""
    algo = summary.get("algo")
    try:
        unit = paper_length(algo, condition)[1]
    except ValueError:
        return None
    hyperparameters = next((run["config"].get("hyperparameters", {}) for run in runs.values()), {})
    return algo, unit, paper_x(algo, condition, 1, hyperparameters)


def plot_training_curves(path: Path, runs: dict, summary: dict) -> Path:
    plt = _pyplot("the training curves")
    kinds = [kind for kind in KIND_TITLES
             if any(f"learner_vs_{kind}/reward" in (seed["metrics"][0] if seed["metrics"] else {})
                    for condition in runs.values() for seed in condition.values())]
    figure, axes = plt.subplots(2, max(len(kinds), 1), figsize=(5.2 * max(len(kinds), 1), 7.5), squeeze=False,
                                sharex=True)
    units, right = set(), 0.0
    several = len(summary["conditions"]) > 1
    for style_index, condition in enumerate(summary["conditions"]):
        seeds = [run for run in runs[condition].values() if run["metrics"]]
        if not seeds:
            continue
        style = LINE_STYLES[style_index % len(LINE_STYLES)]
        length = min(len(run["metrics"]) for run in seeds)
        progress = _progress(summary, condition, runs[condition])
        factor = progress[2] if progress else 1.0
        units.add(progress[1] if progress else ("phase" if summary["algo"] == "ppi" else "iteration"))
        x = np.arange(1, length + 1) * factor
        if progress:
            right = max(right, x[-1], paper_length(summary["algo"], condition)[0])
        for column, kind in enumerate(kinds):
            for row, metric in enumerate(("reward", "cooperation")):
                key = f"learner_vs_{kind}/{metric}"
                curves = [[row_values.get(key, np.nan) for row_values in run["metrics"][:length]] for run in seeds]
                if np.all(np.isnan(curves)):
                    continue
                axis = axes[row, column]
                paper = progress and _paper_lookup(paper_curve, summary["algo"], summary["experiment"], condition,
                                                   kind, metric, True)
                if paper:
                    prefix = f"paper, {condition}" if several else "paper"
                    _paper_band(axis, paper, f"{prefix} (read off {paper.source})", style)
                _band(axis, x, curves, condition, style)
                if progress:
                    _run_end(axis, summary["algo"], condition, x[-1], label=row == 0)
    unit = " / ".join(sorted(units)) or "unit"
    for column, kind in enumerate(kinds):
        axes[0, column].set_title(KIND_TITLES[kind])
        axes[0, column].set_ylabel("reward per round")
        axes[1, column].set_ylabel("cooperation rate")
        axes[1, column].set_ylim(-0.02, 1.02)
        for row in (0, 1):
            _paper_axis(axes[row, column], summary["algo"], unit, right)
        axes[0, column].legend(fontsize=7)
    figure.suptitle(f"{summary['experiment']} ({summary['algo']}, preset {summary['preset']}, "
                    f"{len(summary['seeds'])} seeds: IQM, band 95% bootstrap CI)")
    return _save(plt, figure, path, dpi=90)


def plot_within_episode(path: Path, condition: str, seeds: dict, summary: dict) -> Path:
    plt = _pyplot("the within-episode plot")
    evaluations = [run["eval"] for run in seeds.values() if run["eval"] is not None]
    opponents = list(evaluations[0]["learners"][0]["opponents"])
    figure, axes = plt.subplots(2, 1, figsize=(8, 8), sharex=True)
    for opponent in opponents:
        for row, metric in enumerate(("reward_per_round", "cooperation_per_round")):
            curves = []
            for evaluation in evaluations:
                per_learner = [learner["opponents"][opponent][metric] for learner in evaluation["learners"]
                               if opponent in learner["opponents"]]
                curves.append(np.mean(per_learner, axis=0))
            _band(axes[row], np.arange(1, len(curves[0]) + 1), curves, OPPONENT_LABELS.get(opponent, opponent), "-")
            quantity = metric[:-len("_per_round")]
            paper = _paper_lookup(paper_episode_curve, summary["algo"], summary["experiment"], condition, opponent,
                                  quantity, True)
            if paper:
                colour = axes[row].get_lines()[-1].get_color()
                label = paper.label(paper_length(summary["algo"], condition)[1])
                axes[row].fill_between(paper.x, paper.low, paper.high, color=PAPER_COLOR, alpha=0.2, linewidth=0)
                axes[row].plot(paper.x, paper.y, "--", color=colour, linewidth=1.2,
                               label=f"{OPPONENT_LABELS.get(opponent, opponent)}: {label}")
    axes[0].set_ylabel("reward per round")
    axes[1].set_ylabel("cooperation rate")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].set_xlabel("round of the episode (dashed: the paper's, over a grey band)")
    axes[0].legend(fontsize=7, ncol=2)
    figure.suptitle(f"{summary['experiment']} / {condition}: within-episode play ({summary['algo']}, "
                    f"{len(evaluations)} seeds: IQM, band 95% bootstrap CI)")
    return _save(plt, figure, path, dpi=90)


def _cell_edges(centres) -> np.ndarray:
    """Edges of heatmap cells centred on (possibly unevenly spaced) ``centres``."""
    centres = np.asarray(centres, dtype=float)
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middles = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[centres[0] - (middles[0] - centres[0])], middles,
                           [centres[-1] + (centres[-1] - middles[-1])]])


def _pool_panel(axis, x, rows, quantity: str, paper) -> None:
    """Whole-episode ``eval/pool/<quantity>`` over training with the paper's "Avg. Tabular" curve beside it."""
    key = f"eval/pool/{quantity}"
    if paper is not None:
        _paper_band(axis, paper, f"paper (read off {paper.source})")
    if any(key in row for row in rows):
        axis.plot(x, [row.get(key, np.nan) for row in rows], marker=".", color="tab:blue", label="learners")
    else:  # run folders written before the in-training evaluation recorded it
        axis.text(0.5, 0.5, f"{key} not recorded in this run folder", transform=axis.transAxes, ha="center",
                  fontsize=8)
    axis.set_ylabel(f"{quantity} per round" if quantity == "reward" else "cooperation rate")
    axis.set_title(f"pool set, whole episode: {quantity}", fontsize=9)


def _per_round_panel(axis, curves: dict, paper_of) -> None:
    """Cooperation per round at the last in-training evaluation against TFT, AllD and AllC (those
    recorded), with the paper's per-round curves where it drew them (``paper_of(opponent)``)."""
    for opponent in ("tft", "alld", "allc"):
        values = (curves or {}).get(f"{opponent}_cooperation_per_round")
        if not values:
            continue
        last = np.asarray(values[-1], dtype=float)
        line, = axis.plot(np.arange(1, len(last) + 1), last, label=f"{OPPONENT_LABELS[opponent]} (ours, last)")
        paper = paper_of(opponent)
        if paper is not None:
            axis.fill_between(paper.x, paper.low, paper.high, color=PAPER_COLOR, alpha=0.2, linewidth=0)
            axis.plot(paper.x, paper.y, "--", color=line.get_color(), linewidth=1.2,
                      label=f"{OPPONENT_LABELS[opponent]}: {paper.label(paper_of.unit)}")
    axis.set_ylim(-0.02, 1.02)
    axis.set_xlabel("round of the episode")
    axis.set_ylabel("cooperation rate")
    axis.set_title("cooperation per round, last evaluation (dashed: the paper's)", fontsize=9)
    axis.legend(fontsize=6)


def _heatmap(figure, axis, curves: dict, opponent: str, factor: float, unit_name: str) -> None:
    """Cooperation against ``opponent`` per round (x) and training point (y); a note where not recorded."""
    matrix = (curves or {}).get(f"{opponent}_cooperation_per_round")
    if matrix:
        matrix = np.asarray(matrix, dtype=float)  # [evaluations, rounds]
        points = np.asarray(curves.get(f"{opponent}_units_done", curves["units_done"]), dtype=float) * factor
        rounds = np.arange(1, matrix.shape[1] + 1)
        mesh = axis.pcolormesh(_cell_edges(rounds), _cell_edges(points), matrix, vmin=0.0, vmax=1.0,
                               cmap="viridis", shading="flat")
        figure.colorbar(mesh, ax=axis, label=f"cooperation rate against {OPPONENT_LABELS[opponent]}")
    else:  # older run folders record TFT only
        axis.text(0.5, 0.5, "not recorded in this run folder", transform=axis.transAxes, ha="center", fontsize=8)
    axis.set_xlabel("round of the episode")
    axis.set_ylabel(f"training {unit_name}s done")
    axis.set_title(f"cooperation against {OPPONENT_LABELS[opponent]}: training x round", fontsize=9)


def plot_in_training(path: Path, run: dict, title: str) -> Path:
    """``in_training.png`` of one run folder (see the module docstring); ``run`` as in
    :func:`agents.harness.summary.load_runs`.

    Rows: late-episode reward and cooperation per co-player and the pool set's gain fraction;
    the pool set's whole-episode reward and cooperation with the paper's curve against its
    tabular co-players (Fig. 1, 2A, 4A) and the last evaluation's cooperation per round with
    the paper's (Fig. 2B, 3, 4B); heatmaps of cooperation per round against TFT, AllD and AllC.
    Line panels use the paper's x axis (see :func:`_paper_axis`).
    """
    plt = _pyplot("the in-training evaluation plot")

    rows, curves = run["eval_metrics"], run["eval_curves"]
    config = run.get("config") or {}
    algo, condition, experiment = config.get("algo"), config.get("condition"), config.get("experiment")
    progress = _progress({"algo": algo}, condition, {0: run}) if config else None
    factor = progress[2] if progress else 1.0
    unit_name = progress[1] if progress else (curves["unit_name"] if curves else "unit")
    x = np.array([row["units_done"] for row in rows], dtype=float) * factor
    figure, axes = plt.subplots(3, 3, figsize=(17, 12))
    opponents = [name for name in OPPONENT_LABELS if f"eval/{name}/late_reward" in rows[0]]
    for column, quantity in enumerate(("late_reward", "late_cooperation")):
        axis = axes[0, column]
        for opponent in opponents:
            axis.plot(x, [row.get(f"eval/{opponent}/{quantity}", np.nan) for row in rows], marker=".",
                      label=OPPONENT_LABELS[opponent])
        axis.set_ylabel(("reward per round" if quantity == "late_reward" else "cooperation rate")
                        + " (last quarter of the episode)")
    axes[0, 1].set_ylim(-0.02, 1.02)
    axes[0, 0].legend(fontsize=8, ncol=2)
    axes[0, 0].set_title("late-episode reward per co-player")
    axes[0, 1].set_title("late-episode cooperation per co-player")
    axis = axes[0, 2]
    gain = np.array([row.get("eval/pool/gain_fraction", np.nan) for row in rows], dtype=float)
    # A cooperative beginner can sit far below 0 (the prize is small); keep 0..1 readable
    # and mark the points below the floor with triangles on it.
    floor = -2.0
    axis.plot(x, np.maximum(gain, floor), marker=".", color="black", label="learners")
    below = gain < floor
    if below.any():
        axis.plot(x[below], np.full(int(below.sum()), floor), "v", color="black", label=f"below {floor:g}")
    axis.set_ylim(floor - 0.1, max(1.1, float(np.nanmax(gain)) + 0.1) if np.isfinite(gain).any() else 1.1)
    axis.axhline(0.0, color="tab:red", linestyle="--", linewidth=1, label="always-defect (0)")
    axis.axhline(1.0, color="tab:green", linestyle="--", linewidth=1, label="oracle reply (1)")
    pool_title = f"pool set {curves['pool']['spec']}, {curves['pool']['size']} co-players" if curves else "pool set"
    if "eval/pool/oracle_reward" in rows[-1]:
        pool_title += (f"\nAllD {rows[-1]['eval/pool/alld_reward']:.3f}"
                       f" / oracle {rows[-1]['eval/pool/oracle_reward']:.3f}"
                       f" per round; last: learners {rows[-1]['eval/pool/reward']:.3f}")
    axis.set_title(f"in-context gain fraction ({pool_title})", fontsize=9)
    axis.set_ylabel("(reward - AllD) / (oracle - AllD)")
    axis.legend(fontsize=8)
    for column, quantity in enumerate(("reward", "cooperation")):
        paper = progress and _paper_lookup(paper_metric_curve, algo, experiment, condition, f"eval/pool/{quantity}")
        _pool_panel(axes[1, column], x, rows, quantity, paper or None)
    axes[1, 1].set_ylim(-0.02, 1.02)

    def paper_of(opponent):
        return progress and _paper_lookup(paper_episode_curve, algo, experiment, condition, opponent,
                                          "cooperation", True) or None

    paper_of.unit = unit_name
    _per_round_panel(axes[1, 2], curves, paper_of)
    line_axes = [axes[0, 0], axes[0, 1], axes[0, 2], axes[1, 0], axes[1, 1]]
    for axis in line_axes:
        if progress:
            _paper_axis(axis, algo, unit_name, max(x[-1], paper_length(algo, condition)[0]))
            _run_end(axis, algo, condition, x[-1], label=axis in (axes[1, 0], axes[1, 1]))
        else:
            axis.set_xlabel(f"training {unit_name}s done")
    for axis in (axes[1, 0], axes[1, 1]):
        axis.legend(fontsize=7)
    for column, opponent in enumerate(("tft", "alld", "allc")):
        _heatmap(figure, axes[2, column], curves, opponent, factor, unit_name)
    figure.suptitle(title)
    return _save(plt, figure, path, dpi=80)


def plot_experiment(out, runs: dict, summary: dict) -> list:
    """Draw every figure of an experiment folder into ``<out>/plots/`` (and each run folder's
    ``plots/in_training.png``); returns the paths."""
    _pyplot("the experiment's plots")  # before the folder is made
    directory = Path(out) / "plots"
    directory.mkdir(parents=True, exist_ok=True)
    paths = [plot_training_curves(directory / "training_curves.png", runs, summary)]
    for condition, seeds in runs.items():
        if any(run["eval"] is not None for run in seeds.values()):
            paths.append(plot_within_episode(directory / f"within_episode_{condition}.png", condition, seeds, summary))
        for seed, run in seeds.items():
            if run.get("eval_metrics"):
                title = (f"{summary['experiment']} / {condition} / seed {seed} ({summary['algo']}, preset "
                         f"{summary['preset']}): in-training evaluation, mean over learners")
                paths.append(plot_in_training(Path(run["directory"]) / "plots" / "in_training.png", run, title))
        pooled = _mean_over_seeds([run for run in seeds.values() if run.get("eval_metrics") and run.get("eval_curves")])
        if pooled is not None:
            title = (f"{summary['experiment']} / {condition} ({summary['algo']}, preset {summary['preset']}): "
                     f"in-training evaluation, mean over learners and {pooled['num_seeds']} seeds")
            paths.append(plot_in_training(directory / f"in_training_{condition}.png", pooled, title))
    return paths


def _mean_over_seeds(runs: list):
    """A run-like dict whose in-training series are the means over ``runs`` at the points all of them
    reached (None when fewer than two runs have the series)."""
    if len(runs) < 2:
        return None
    common = sorted(set.intersection(*({row["units_done"] for row in run["eval_metrics"]} for run in runs)))
    if not common:
        return None
    rows = []
    for units_done in common:
        per_seed = [next(row for row in run["eval_metrics"] if row["units_done"] == units_done) for run in runs]
        keys = set.intersection(*(set(row) for row in per_seed))
        rows.append({key: float(np.mean([row[key] for row in per_seed])) for key in keys})
    first = runs[0]["eval_curves"]
    pooled = {**first, "units_done": common}
    for opponent in ("tft", "alld", "allc"):  # AllD and AllC only where every seed recorded them
        key, points_key = f"{opponent}_cooperation_per_round", f"{opponent}_units_done"
        pooled.pop(key, None), pooled.pop(points_key, None)
        if not all(run["eval_curves"].get(key) for run in runs):
            continue
        points = [run["eval_curves"].get(points_key, run["eval_curves"]["units_done"]) for run in runs]
        shared = [units_done for units_done in common if all(units_done in own for own in points)]
        pooled[key] = [np.mean([run["eval_curves"][key][own.index(units_done)] for run, own in zip(runs, points)],
                               axis=0).tolist() for units_done in shared]
        pooled[points_key] = shared
    return {"eval_metrics": rows, "num_seeds": len(runs), "config": runs[0].get("config"), "eval_curves": pooled}


def plot_evaluation_heatmap(path: Path, player_name: str, results: dict) -> Path:
    """Two heatmaps (co-players x rounds): per-round reward and cooperation rate."""
    plt = _pyplot("the evaluation heatmap (or pass --no-plot)")
    from matplotlib.ticker import MaxNLocator

    names = list(results)
    figure, axes = plt.subplots(1, 2, figsize=(12, 1.2 + 0.45 * len(names)), squeeze=False)
    for axis, key, title, colormap in ((axes[0, 0], "reward_per_round", "reward per round", "viridis"),
                                       (axes[0, 1], "cooperation_per_round", "cooperation rate", "RdYlGn")):
        grid = np.array([results[name][key] for name in names])
        image = axis.imshow(grid, aspect="auto", cmap=colormap, interpolation="nearest",
                            extent=(0.5, grid.shape[1] + 0.5, len(names) - 0.5, -0.5),  # rounds 1..T
                            vmin=0.0 if key.startswith("cooperation") else None,
                            vmax=1.0 if key.startswith("cooperation") else None)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_yticks(range(len(names)), names)
        axis.set_xlabel("round")
        axis.set_title(f"{player_name}: {title}")
        figure.colorbar(image, ax=axis)
    return _save(plt, figure, path, dpi=120)


def plot_tournament(path: Path, rows: list) -> Path:
    """Bar plot of a tournament's median score per turn (``rows`` of ``baselines.axelrod_adapter.ranked_table``)."""
    plt = _pyplot("the tournament plot (or pass --no-plot)")

    names = [row["name"] for row in rows][::-1]
    scores = [row["median_score_per_turn"] for row in rows][::-1]
    colors = ["tab:orange" if name.startswith("ipd:") or "@" in name else "tab:blue" for name in names]
    figure, axis = plt.subplots(figsize=(8, 0.8 + 0.3 * len(rows)))
    axis.barh(names, scores, color=colors)
    axis.set_xlabel("median score per turn (orange: ipd-env players)")
    return _save(plt, figure, path, dpi=120)


def plot_sweep_heatmaps(path: Path, sweep: dict, metrics: Sequence[str], value_text: Callable = str) -> Path:
    """One heatmap per metric over the first grid axis (x) and the second (y; one row if there is none).

    ``sweep`` is the content of ``sweep.json`` (:mod:`agents.harness.sweep`); a cell is the
    metric's mean over seeds, averaged over any further grid axes. ``value_text`` writes a
    grid value as a tick label (the sweep passes its own, so labels match its tables).
    """
    plt = _pyplot("the sweep heatmaps")

    axes_names = list(sweep["grid"])[:2]
    x_values = sweep["grid"][axes_names[0]]
    y_values = sweep["grid"][axes_names[1]] if len(axes_names) > 1 else [None]
    figure, panels = plt.subplots(1, len(metrics), figsize=(1.5 + 4.5 * len(metrics), 1.8 + 0.5 * len(y_values)),
                                  squeeze=False)
    for panel, metric in zip(panels[0], metrics):
        grid = np.full((len(y_values), len(x_values)), np.nan)
        for row, y_value in enumerate(y_values):
            for column, x_value in enumerate(x_values):
                means = [point["metrics"][metric]["mean"] for point in sweep["points"]
                         if point["settings"][axes_names[0]] == x_value and metric in point["metrics"]
                         and (y_value is None or point["settings"][axes_names[1]] == y_value)]
                means = [mean for mean in means if mean is not None and not math.isnan(mean)]
                if means:
                    grid[row, column] = sum(means) / len(means)
        image = panel.imshow(grid, aspect="auto", cmap="viridis", interpolation="nearest")
        middle = np.nanmean(grid) if np.isfinite(grid).any() else 0.0
        for (row, column), value in np.ndenumerate(grid):
            if not np.isnan(value):  # dark text on viridis' bright upper half
                panel.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=8,
                           color="black" if value > middle else "white")
        panel.set_xticks(range(len(x_values)), [value_text(value) for value in x_values], rotation=30, ha="right")
        panel.set_xlabel(axes_names[0])
        if len(axes_names) > 1:
            panel.set_yticks(range(len(y_values)), [value_text(value) for value in y_values])
            panel.set_ylabel(axes_names[1])
        else:
            panel.set_yticks([])
        panel.set_title(metric, fontsize=9)
        figure.colorbar(image, ax=panel)
    return _save(plt, figure, path, dpi=120)
