"""Aggregate a finished experiment folder: ``summary.json``, ``summary.md`` and ``plots/``.

Reads only the files of the run folders (``config.json``, ``metrics.csv``, ``eval.json``),
so it works the same for local runs and for runs that Ray tasks wrote.

``summary.json``::

    {"experiment", "algo", "preset", "seeds", "wall_time_s" (sum over units),
     "conditions": {condition: {
         "seeds": [...], "complete_seeds": [...], "wall_time_s": {"mean", "std", "total"},
         "num_units": int, "final_fraction": 0.1,
         "training": {"learner_vs_learner/cooperation": {"mean", "std", "values", "iqm", "ci95"}, ...},
         "evaluation": {opponent: {"reward": {"mean", "std", "values", "iqm", "ci95"}, "late_reward": ...}}}}}

The opponent ``"pool"`` (the run's fixed pool evaluation set) also has ``alld_reward``,
``oracle_reward``, ``gain_fraction``, ``top_decile_gain_share``, ``top_decile_gain_fraction``
and ``oracle_top_decile_gain_share`` (see :mod:`agents.harness.evaluation`).

``training`` holds, per metric, the mean over the last ``final_fraction`` of the units of
each seed, then mean and sample standard deviation over seeds. ``evaluation`` averages
the learners of a seed, then takes mean and standard deviation over seeds. Beside them, as
the field reports results (Agarwal et al. 2021, rliable): ``iqm``, the interquartile mean over
seeds, and ``ci95``, ``{"mean": [low, high], "iqm": [low, high]}``, 95% stratified-bootstrap
intervals of both (2,000 resamples of the seeds from a fixed seed, so a summary is the same
every time it is written; None with one seed). They are computed here with numpy, as rliable
defines them (:func:`iqm`, :func:`bootstrap_ci95`), so the summary does not depend on an extra.

Each condition also gets ``"paper"`` (:mod:`agents.harness.paper_reference`, where the
paper has the condition): ``{"x", "length", "unit", "fraction", "progress"}`` (how far
along the paper's x axis the run got, e.g. ``"250 of the paper's 50,000 gradient steps
(0.5%)"``) and ``"at_end"``: ``{metric: {"value", "low", "high", "source"}}``, the paper's
curve at the run's last point for every training metric (and the pool set's evaluation)
the paper drew. :func:`format_summary` writes these as the "paper at this point of
training" column of ``summary.md``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Union

import numpy as np

from agents.harness.checkpoint import read_json, read_metrics, write_json
from agents.harness.evaluation import EVAL_CURVES_FILE, EVAL_METRICS_FILE, POOL_KEYS, SUMMARY_KEYS
from agents.harness.experiments import get_experiment
from agents.harness.paper_reference import (
    describe_progress,
    first_logged,
    paper_length,
    paper_metric_curve,
    paper_x,
    value_at,
)
from baselines.optional import MissingExtraError

FINAL_FRACTION = 0.1
#: Scalars of ``eval.json`` aggregated over seeds: every opponent's, and the pool set's gain.
EVALUATION_KEYS = SUMMARY_KEYS + POOL_KEYS


#: Bootstrap resamples of the confidence intervals (rliable's default) and the seed of their generator:
#: the same runs always give the same summary.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


def iqm(values) -> float:
    """Interquartile mean: the mean of the values left after cutting ``int(n / 4)`` from each end of the sorted
    values (``scipy.stats.trim_mean(values, 0.25)``, rliable's ``aggregate_iqm``). With fewer than 4 values
    nothing is cut and it is the mean. ``[1, 2, 3, 4, 100]`` -> 3.0 (mean of 2, 3, 4)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if ordered.size == 0:
        return float("nan")
    cut = ordered.size // 4
    return float(ordered[cut:ordered.size - cut].mean())


def _bootstrap_statistics(matrix: np.ndarray, resamples: int, seed: int, chunk_size: int = 1 << 22):
    """``{"mean", "iqm"}``, each ``[points, resamples]``: the statistic of every resample of the rows (seeds)
    of ``matrix`` (``[seeds, points]``). Every column is resampled with the same draws of seed indices (a
    generator seeded with ``seed``) and reduced along a contiguous axis, so a column gives the same numbers,
    to the bit, whether it comes alone or with others; columns go through in chunks of about ``chunk_size``
    resampled values."""
    count, points = matrix.shape
    indices = np.random.default_rng(seed).integers(0, count, size=(resamples, count))
    cut = count // 4
    columns = np.ascontiguousarray(matrix.T)  # [points, seeds]: every reduction runs along memory, as for one column
    statistics = {"mean": np.empty((points, resamples)), "iqm": np.empty((points, resamples))}
    step = max(1, chunk_size // (resamples * count))
    for start in range(0, points, step):
        samples = columns[start:start + step][:, indices]  # [columns, resamples, seeds]
        samples = np.ascontiguousarray(np.sort(samples, axis=-1))
        statistics["mean"][start:start + step] = samples.mean(axis=-1)
        statistics["iqm"][start:start + step] = samples[..., cut:count - cut].mean(axis=-1)
    return statistics


def _percentiles(statistic: np.ndarray) -> np.ndarray:
    """``[points, 2]``: the ``CONFIDENCE`` interval (percentiles) of ``statistic`` ``[points, resamples]``."""
    tail = 100 * (1 - CONFIDENCE) / 2
    return np.percentile(statistic, [tail, 100 - tail], axis=-1).T


def bootstrap_ci95(values, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Optional[dict]:
    """``{"mean": [low, high], "iqm": [low, high]}``: 95% percentile bootstrap intervals over seeds, or None
    for fewer than 2 values.

    rliable's stratified bootstrap resamples the runs of each task apart; a metric of one condition
    is one task, so its seeds are resampled with replacement (``resamples`` times, a fixed ``seed``),
    and each interval is the 2.5th and 97.5th percentile of the statistic over the resamples.
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return None
    statistics = _bootstrap_statistics(values.reshape(-1, 1), resamples, seed)
    return {name: [float(bound) for bound in _percentiles(statistic)[0]] for name, statistic in statistics.items()}


def iqm_curve(curves) -> np.ndarray:
    """``[points]``: the interquartile mean over seeds at every point of ``curves`` (``[seeds, points]``);
    column ``k`` is exactly :func:`iqm` of ``curves[:, k]``."""
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] == 0:
        raise ValueError(f"curves must be [seeds, points] with at least one seed, got shape {curves.shape}")
    count = curves.shape[0]
    ordered = np.ascontiguousarray(np.sort(curves.T, axis=-1))  # [points, seeds]: each row in memory as iqm()'s
    return ordered[:, count // 4:count - count // 4].mean(axis=-1)


def iqm_curve_ci95(curves, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple:
    """``(iqm, low, high)``, each ``[points]``: at every point of ``curves`` (``[seeds, points]``, e.g. a metric
    per training unit of each seed) the interquartile mean over seeds (:func:`iqm_curve`) and its 95% bootstrap
    interval; ``low`` and ``high`` are None for one seed. Column ``k`` is exactly :func:`iqm` of ``curves[:, k]``
    and ``bootstrap_ci95(curves[:, k])["iqm"]``: the plots' bands are the summary's numbers along the axis."""
    centre = iqm_curve(curves)
    curves = np.asarray(curves, dtype=float)
    if curves.shape[0] < 2:
        return centre, None, None
    low, high = _percentiles(_bootstrap_statistics(curves, resamples, seed)["iqm"]).T
    return centre, low, high


def mean_std(values) -> dict:
    """``{"mean", "std", "values", "iqm", "ci95"}`` over seeds: the sample standard deviation (0 for one
    value), the interquartile mean (:func:`iqm`) and 95% bootstrap intervals of the mean and the IQM
    (:func:`bootstrap_ci95`; None for fewer than 2 values)."""
    values = [float(value) for value in values]
    if not values:
        return {"mean": float("nan"), "std": float("nan"), "values": [], "iqm": float("nan"), "ci95": None}
    mean = sum(values) / len(values)
    variance = sum((value - mean) ** 2 for value in values) / (len(values) - 1) if len(values) > 1 else 0.0
    return {"mean": mean, "std": math.sqrt(variance), "values": values, "iqm": iqm(values),
            "ci95": bootstrap_ci95(values)}


def load_runs(out: Union[str, Path]) -> dict:
    """``{condition: {seed: {...}}}`` for every unit folder under ``out``.

    Each run holds ``"directory"``, ``"config"``, ``"metrics"`` (rows of ``metrics.csv``),
    ``"eval"`` (``eval.json``, or None while unfinished), ``"eval_metrics"`` (rows of the
    in-training evaluation, possibly empty) and ``"eval_curves"`` (``eval_curves.json`` or None).
    """
    runs: dict = {}
    for config_path in sorted(Path(out).glob("*/seed_*/config.json")):
        directory = config_path.parent
        config = read_json(config_path)
        metrics_path, eval_path = directory / "metrics.csv", directory / "eval.json"
        eval_metrics_path, eval_curves_path = directory / EVAL_METRICS_FILE, directory / EVAL_CURVES_FILE
        runs.setdefault(config["condition"], {})[config["seed"]] = {
            "directory": directory,
            "config": config,
            "metrics": read_metrics(metrics_path) if metrics_path.is_file() else [],
            "eval": read_json(eval_path) if eval_path.is_file() else None,
            "eval_metrics": read_metrics(eval_metrics_path) if eval_metrics_path.is_file() else [],
            "eval_curves": read_json(eval_curves_path) if eval_curves_path.is_file() else None,
        }
    return runs


def _final_training(metrics: list) -> dict:
    if not metrics:
        return {}
    count = max(1, int(round(len(metrics) * FINAL_FRACTION)))
    tail = metrics[-count:]
    keys = [key for key in tail[-1] if key.startswith("learner_vs_")]
    return {key: sum(row[key] for row in tail if key in row) / sum(1 for row in tail if key in row) for key in keys}


def _seed_evaluation(evaluation: dict) -> dict:
    """Mean over the learners of one seed: ``{opponent: {key: value}}``."""
    per_opponent: dict = {}
    for learner in evaluation["learners"]:
        for opponent, values in learner["opponents"].items():
            for key in EVALUATION_KEYS:
                if key in values:
                    per_opponent.setdefault(opponent, {}).setdefault(key, []).append(values[key])
    return {opponent: {key: sum(values) / len(values) for key, values in keys.items()}
            for opponent, keys in per_opponent.items()}


def summarise(out: Union[str, Path]) -> dict:
    """The summary dict of an experiment folder (see the module docstring); writes nothing."""
    runs = load_runs(out)
    if not runs:
        raise ValueError(f"{out} holds no run folders (<condition>/seed_<k>/config.json)")
    first = next(iter(next(iter(runs.values())).values()))["config"]
    # A folder may hold a prerequisite's runs written under another experiment's name (step1's
    # folder reused by step2 --resume): name it after the experiment that covers the most conditions.
    named = {config["config"]["experiment"] for seeds in runs.values() for config in seeds.values()}
    experiment = max((get_experiment(name) for name in sorted(named)),
                     key=lambda candidate: (sum(name in runs for name in candidate.condition_names),
                                            -len(candidate.condition_names)))
    order = [name for name in experiment.condition_names if name in runs] + \
        sorted(name for name in runs if name not in experiment.condition_names)
    conditions, total_wall, all_seeds = {}, 0.0, set()
    for name in order:
        seeds = runs[name]
        complete = sorted(seed for seed, run in seeds.items() if run["eval"] is not None)
        all_seeds.update(seeds)
        training_by_seed = [_final_training(seeds[seed]["metrics"]) for seed in sorted(seeds)]
        keys = sorted({key for values in training_by_seed for key in values})
        training = {key: mean_std([values[key] for values in training_by_seed if key in values]) for key in keys}
        evaluation_by_seed = [_seed_evaluation(seeds[seed]["eval"]) for seed in complete]
        opponents = list(evaluation_by_seed[0]) if evaluation_by_seed else []
        evaluation = {opponent: {key: mean_std([values[opponent][key] for values in evaluation_by_seed
                                                if key in values.get(opponent, {})])
                                 for key in EVALUATION_KEYS if key in evaluation_by_seed[0][opponent]}
                      for opponent in opponents}
        walls = [seeds[seed]["eval"]["wall_time_s"] for seed in complete]
        total_wall += sum(walls)
        conditions[name] = {
            "seeds": sorted(seeds), "complete_seeds": complete,
            "num_units": max((len(run["metrics"]) for run in seeds.values()), default=0),
            "final_fraction": FINAL_FRACTION,
            "wall_time_s": {**mean_std(walls), "total": sum(walls)},
            "training": training, "evaluation": evaluation,
        }
        paper = _paper_at_end(first["algo"], experiment.name, name, conditions[name]["num_units"],
                              next(iter(seeds.values()))["config"].get("hyperparameters", {}),
                              list(training) + ["eval/pool/reward", "eval/pool/cooperation"])
        if paper is not None:
            conditions[name]["paper"] = paper
    return {"experiment": experiment.name, "algo": first["algo"], "preset": first["preset"],
            "seeds": sorted(all_seeds), "wall_time_s": total_wall, "conditions": conditions}


def _paper_at_end(algo: str, experiment: str, condition: str, num_units: int, hyperparameters: dict,
                  metrics: list):
    """The condition's ``"paper"`` entry (module docstring), or None where the paper has no such condition."""
    try:
        length, unit = paper_length(algo, condition)
        get_experiment(experiment).condition(condition)
    except ValueError:
        return None
    x = paper_x(algo, condition, num_units, hyperparameters)
    at_end = {}
    for metric in metrics:
        curve = paper_metric_curve(algo, experiment, condition, metric)
        if curve is None:
            continue
        value = value_at(curve, x)
        if value is not None:
            at_end[metric] = {"value": value.value, "low": value.low, "high": value.high, "source": value.source}
        elif 0 < x < first_logged(curve):  # the paper's curve is not known this early
            at_end[metric] = {"value": None, "first_logged": first_logged(curve), "source": curve.source}
    return {"x": x, "length": length, "unit": unit, "fraction": x / length,
            "progress": describe_progress(algo, condition, x), "at_end": at_end}


def format_summary(summary: dict) -> str:
    """``summary.md``: final training metrics and evaluation (mean ± std over seeds, then the interquartile
    mean with its 95% bootstrap interval) beside the paper's curve at the same point of its x axis, and how
    far along that axis each condition got.

    The paper's cell is ``value [low, high] (panel)``; "-" where the paper drew no such curve,
    "beyond its axis" where our run went past the paper's length.
    """
    lines = [f"{summary['experiment']} | {summary['algo']} | preset {summary['preset']} | seeds {summary['seeds']}",
             ""]
    for name, condition in summary["conditions"].items():
        paper = condition.get("paper")
        if paper:
            lines.append(f"- {name}: {paper['progress']}")
    lines += ["", "| condition | pairing | reward / round | cooperation | IQM [95% CI] over seeds "
              "(reward; cooperation) | paper at this point of training (reward; cooperation) |",
              "|---|---|---|---|---|---|"]

    def cell(entry):
        return f"{entry['mean']:.3f} ± {entry['std']:.3f}" if entry else "-"

    def iqm_cell(*entries):
        parts = []
        for entry in entries:
            if not entry or "iqm" not in entry:
                parts.append("-")
            elif entry.get("ci95") is None:  # one seed: no interval
                parts.append(f"{entry['iqm']:.3f}")
            else:
                low, high = entry["ci95"]["iqm"]
                parts.append(f"{entry['iqm']:.3f} [{low:.3f}, {high:.3f}]")
        return "-" if all(part == "-" for part in parts) else "; ".join(parts)

    def paper_cell(paper, metrics):
        if not paper:
            return "-"
        parts = []
        for metric in metrics:
            value = paper["at_end"].get(metric)
            if value is None:
                parts.append("-")
            elif value["value"] is None:
                parts.append(f"before {value['source']}'s first logged point ({value['first_logged']:,.0f})")
            else:
                parts.append(f"{value['value']:.3f} [{value['low']:.3f}, {value['high']:.3f}] ({value['source']})")
        if all(part == "-" for part in parts):
            return "beyond its axis" if paper["fraction"] > 1 else "-"
        if len(set(parts)) == 1 and parts[0].startswith("before"):
            return parts[0]
        return "; ".join(parts)

    for name, condition in summary["conditions"].items():
        training, paper = condition.get("training", {}), condition.get("paper")
        for pairing in ("learner_vs_learner", "learner_vs_tabular", "learner_vs_frozen"):
            reward, cooperation = training.get(f"{pairing}/reward"), training.get(f"{pairing}/cooperation")
            if reward or cooperation:
                paper_value = paper_cell(paper, (f"{pairing}/reward", f"{pairing}/cooperation"))
                lines.append(f"| {name} | {pairing.replace('_', ' ')} (training, end) | {cell(reward)} | "
                             f"{cell(cooperation)} | {iqm_cell(reward, cooperation)} | {paper_value} |")
        for opponent, values in condition.get("evaluation", {}).items():
            label = f"vs {opponent} (evaluation)"
            compared = "-"
            if "gain_fraction" in values:  # the pool set: how much of the in-context prize was won
                label = (f"vs pool set (evaluation; gain fraction {cell(values['gain_fraction'])}, "
                         f"AllD {values['alld_reward']['mean']:.3f}, oracle {values['oracle_reward']['mean']:.3f})")
                compared = paper_cell(paper, ("eval/pool/reward", "eval/pool/cooperation"))
            lines.append(f"| {name} | {label} | {cell(values.get('reward'))} | {cell(values.get('cooperation'))} | "
                         f"{iqm_cell(values.get('reward'), values.get('cooperation'))} | {compared} |")
    return "\n".join(lines)


def aggregate(out: Union[str, Path], plots: bool = True) -> dict:
    """Write ``<out>/summary.json``, ``<out>/summary.md`` (:func:`format_summary`) and (with matplotlib
    installed) ``<out>/plots/``; return the summary."""
    summary = summarise(out)
    if plots:
        from agents.harness.plots import plot_experiment

        try:
            summary["plots"] = [str(path) for path in plot_experiment(out, load_runs(out), summary)]
        except MissingExtraError as error:  # matplotlib is the optional extra [plot]; the message names it
            summary["plots"] = f"not drawn: {error}"
    write_json(Path(out) / "summary.json", summary)
    (Path(out) / "summary.md").write_text(format_summary(summary) + "\n")
    return summary
