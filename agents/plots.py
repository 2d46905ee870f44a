"""Figures of an experiment folder (needs matplotlib, extra ``[plot]``).

* ``plots/training_curves.png``: the paper's Fig. 1 layout. Per-round reward (top) and
  cooperation rate (bottom) against training units, one column per co-player kind
  (learner vs learner, learner vs tabular, learner vs frozen), one line style per
  condition, mean ± standard deviation over seeds.
* ``plots/within_episode_<condition>.png``: the paper's Fig. 2 / Fig. 4 layout. Reward
  and cooperation per round of the episode against AllC, AllD, TFT, WSLS, the other
  learner and the frozen player, averaged over learners, mean ± std over seeds.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LINE_STYLES = ("-", "--", ":", "-.")
KIND_TITLES = {"learner": "learner vs learner", "tabular": "learner vs tabular", "frozen": "learner vs frozen"}
OPPONENT_LABELS = {"allc": "AllC", "alld": "AllD", "tft": "TFT", "wsls": "WSLS", "learner": "other learner",
                   "frozen": "Fixed-ICL (frozen)"}


def _band(axis, x, curves, label, style, color=None):
    curves = np.asarray(curves, dtype=float)
    mean = curves.mean(axis=0)
    std = curves.std(axis=0, ddof=1) if curves.shape[0] > 1 else np.zeros_like(mean)
    line, = axis.plot(x, mean, style, label=label, color=color)
    axis.fill_between(x, mean - std, mean + std, alpha=0.2, color=line.get_color())


def plot_training_curves(path: Path, runs: dict, summary: dict) -> Path:
    kinds = [kind for kind in KIND_TITLES
             if any(f"learner_vs_{kind}/reward" in (seed["metrics"][0] if seed["metrics"] else {})
                    for condition in runs.values() for seed in condition.values())]
    figure, axes = plt.subplots(2, max(len(kinds), 1), figsize=(4.2 * max(len(kinds), 1), 6), squeeze=False,
                                sharex=True)
    for style_index, condition in enumerate(summary["conditions"]):
        seeds = [run for run in runs[condition].values() if run["metrics"]]
        if not seeds:
            continue
        length = min(len(run["metrics"]) for run in seeds)
        x = np.arange(1, length + 1)
        for column, kind in enumerate(kinds):
            for row, metric in enumerate(("reward", "cooperation")):
                key = f"learner_vs_{kind}/{metric}"
                curves = [[row_values.get(key, np.nan) for row_values in run["metrics"][:length]] for run in seeds]
                if np.all(np.isnan(curves)):
                    continue
                _band(axes[row, column], x, curves, condition, LINE_STYLES[style_index % len(LINE_STYLES)])
    unit = "phase" if summary["algo"] == "ppi" else "iteration"
    for column, kind in enumerate(kinds):
        axes[0, column].set_title(KIND_TITLES[kind])
        axes[0, column].set_ylabel("reward per round")
        axes[1, column].set_ylabel("cooperation rate")
        axes[1, column].set_ylim(-0.02, 1.02)
        axes[1, column].set_xlabel(f"training {unit}")
        axes[0, column].legend(fontsize=8)
    figure.suptitle(f"{summary['experiment']} ({summary['algo']}, preset {summary['preset']}, "
                    f"{len(summary['seeds'])} seeds, mean ± std)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_within_episode(path: Path, condition: str, seeds: dict, summary: dict) -> Path:
    evaluations = [run["eval"] for run in seeds.values() if run["eval"] is not None]
    opponents = list(evaluations[0]["learners"][0]["opponents"])
    figure, axes = plt.subplots(2, 1, figsize=(6.5, 6), sharex=True)
    for opponent in opponents:
        for row, metric in enumerate(("reward_per_round", "cooperation_per_round")):
            curves = []
            for evaluation in evaluations:
                per_learner = [learner["opponents"][opponent][metric] for learner in evaluation["learners"]
                               if opponent in learner["opponents"]]
                curves.append(np.mean(per_learner, axis=0))
            _band(axes[row], np.arange(1, len(curves[0]) + 1), curves, OPPONENT_LABELS.get(opponent, opponent), "-")
    axes[0].set_ylabel("reward per round")
    axes[1].set_ylabel("cooperation rate")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].set_xlabel("round of the episode")
    axes[0].legend(fontsize=8, ncol=2)
    figure.suptitle(f"{summary['experiment']} / {condition}: within-episode play ({summary['algo']}, "
                    f"{len(evaluations)} seeds)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def plot_experiment(out, runs: dict, summary: dict) -> list:
    """Draw every figure of an experiment folder into ``<out>/plots/``; returns the paths."""
    directory = Path(out) / "plots"
    directory.mkdir(parents=True, exist_ok=True)
    paths = [plot_training_curves(directory / "training_curves.png", runs, summary)]
    for condition, seeds in runs.items():
        if any(run["eval"] is not None for run in seeds.values()):
            paths.append(plot_within_episode(directory / f"within_episode_{condition}.png", condition, seeds, summary))
    return paths
