"""Draw the Step-1 floor study's figure: our Table-2 Step-1 runs beside the paper's Fig. 4A.

Reads ``metrics.csv`` of each run folder given as ``LABEL=FOLDER`` (a unit folder
``.../step1/seed_K`` or an experiment folder, whose ``step1/seed_*`` are all drawn) and
writes one PNG: cooperation against the tabular pool (log y, where the post-collapse floor
of 1e-5 to 1e-7 is visible at all) and the pool reward, both on the paper's x axis
(gradient steps, symlog), with the paper's curve as a grey band
(:mod:`agents.harness.paper_reference`, numbers read off Fig. 4A).

    python docs/figures/step1_floor.py --out docs/figures/step1_floor_study.png \
        "B=2048 (paper)=runs/step1-a2c-paper-B2048" "B=256=runs/floor/default"

Each curve is a running mean over ``--window`` iterations (default 25) of the per-iteration
training metric (all ``B x 100`` decisions of the iteration). ``--table N`` prints instead,
per unit folder, the markdown table of blocks of N iterations: the mean training reward and
cooperation against the pool, and the in-training evaluation at the block's end (pool-set
gain fraction, late cooperation against TFT and AllD, and, where recorded, the exact p(C)
against the pool).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from agents.harness.paper_reference import paper_curve


def read_metrics(folder: Path) -> dict:
    """``{"cooperation": [N], "reward": [N]}`` per training iteration of one unit folder."""
    with open(folder / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    return {"cooperation": np.array([float(row["learner_vs_tabular/cooperation"]) for row in rows]),
            "reward": np.array([float(row["learner_vs_tabular/reward"]) for row in rows])}


def unit_folders(folder: Path) -> list:
    if (folder / "metrics.csv").exists():
        return [folder]
    return sorted(path for path in folder.glob("step1/seed_*") if (path / "metrics.csv").exists())


def block_table(unit: Path, size: int) -> str:
    """The markdown table of ``--table`` for one unit folder."""
    metrics = read_metrics(unit)
    evaluations = {}
    if (unit / "eval_metrics.csv").exists():
        with open(unit / "eval_metrics.csv") as handle:
            evaluations = {int(row["units_done"]): row for row in csv.DictReader(handle)}
    lines = ["| iterations | reward vs pool | cooperation vs pool | evaluated at | gain fraction | "
             "late coop. vs TFT | late coop. vs AllD | exact p(C) vs pool |", "|---|---|---|---|---|---|---|---|"]

    def cell(row, key, form):
        return form.format(float(row[key])) if row and row.get(key) not in (None, "") else "-"

    for start in range(0, len(metrics["reward"]), size):
        stop = min(start + size, len(metrics["reward"]))
        done = [units for units in evaluations if start < units <= stop]
        row = evaluations[max(done)] if done else None
        lines.append(f"| {start:,}-{stop - 1:,} | {metrics['reward'][start:stop].mean():.4f} | "
                     f"{metrics['cooperation'][start:stop].mean():.1e} | {max(done) if done else '-'} | "
                     f"{cell(row, 'eval/pool/gain_fraction', '{:+.3f}')} | "
                     f"{cell(row, 'eval/tft/late_cooperation', '{:.3f}')} | "
                     f"{cell(row, 'eval/alld/late_cooperation', '{:.3f}')} | "
                     f"{cell(row, 'eval/pool/policy_cooperation', '{:.1e}')} |")
    return "\n".join(lines)


def running_mean(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=FOLDER")
    parser.add_argument("--out", help="the PNG to write")
    parser.add_argument("--table", type=int, help="print block tables of this many iterations instead of drawing")
    parser.add_argument("--window", type=int, default=25, help="running mean over this many iterations")
    args = parser.parse_args(argv)
    if args.table:
        for spec in args.runs:
            label, _, folder = spec.rpartition("=")
            for unit in unit_folders(Path(folder)):
                print(f"{label}, {unit.name}:\n\n{block_table(unit, args.table)}\n")
        return 0
    if not args.out:
        parser.error("--out is needed to draw the figure")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for quantity, axis in zip(("cooperation", "reward"), axes):
        paper = paper_curve("a2c", "step1", "step1", "tabular", quantity)
        # The paper logged nothing between step 0 and its first point: draw step 0 as a point.
        logged = paper.x > 0
        # On the log axis a band reaching 0 (the paper's "<= 0.01") is drawn down to 1e-3.
        low = np.maximum(paper.low, 1e-3) if quantity == "cooperation" else paper.low
        axis.fill_between(paper.x[logged], low[logged], paper.high[logged], color="0.8",
                          label=f"paper (read off {paper.source})")
        axis.plot(paper.x[logged], paper.y[logged], color="0.45", lw=1)
        axis.errorbar(paper.x[~logged], paper.y[~logged], yerr=(paper.y - low)[~logged], fmt="o", color="0.45")
        for index, spec in enumerate(args.runs):
            label, _, folder = spec.rpartition("=")
            for number, unit in enumerate(unit_folders(Path(folder))):
                values = running_mean(read_metrics(unit)[quantity], args.window)
                x = np.arange(len(values)) + args.window  # gradient steps done at the window's end
                axis.plot(x, values, color=colours[index % len(colours)], lw=1,
                          label=f"{label} ({len(read_metrics(unit)[quantity]):,} steps)" if number == 0 else None,
                          alpha=0.9 if number == 0 else 0.6)
        axis.set_xscale("symlog", linthresh=100)
        axis.set_xlim(0, 60_000)
        axis.set_xlabel("gradient steps (the paper's axis; symlog)")
        if quantity == "cooperation":
            axis.set_yscale("log")
            axis.set_ylim(1e-7, 1)
            axis.set_ylabel("cooperation vs the tabular pool (log)")
        else:
            axis.set_ylim(0.9, 1.1)
            axis.set_ylabel("reward per round vs the tabular pool")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    figure.suptitle("A2C Step 1 at Table 2's settings: our runs beside the paper's Fig. 4A")
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
