"""Reproduce one of the paper's experiments with A2C or PPI: train, evaluate, plot, summarise.

    python examples/reproduce.py fig1 --algo a2c --preset cpu-quick --seeds 3 --out runs/fig1-a2c
    python examples/reproduce.py step3 --algo a2c --preset cpu-quick --workers 2 --out runs/step3-a2c
    python examples/reproduce.py fig1 --out runs/fig1-a2c --resume          # after a crash / Ctrl-C

Experiments: fig1 (mixed pool, opponent-id, no-tabular), step1, step2, step3 (each
step runs the steps before it into the same folder). The folder gets one sub-folder per
condition and seed, ``summary.json`` and ``plots/``; see ``agents/harness/runner.py``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.harness.experiments import EXPERIMENTS  # noqa: E402
from agents.harness.runner import ALGORITHMS, run_experiment  # noqa: E402


def parse_overrides(items):
    """``["learning_rate=1e-3", "num_iterations=50"]`` -> dict with JSON-parsed values."""
    overrides = {}
    for item in items or []:
        key, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"--set expects NAME=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", help=f"one of: {', '.join(EXPERIMENTS)}")
    parser.add_argument("--algo", default="a2c", help=f"one of: {', '.join(ALGORITHMS)} (default a2c)")
    parser.add_argument("--preset", default="cpu-quick",
                        help="test, cpu-quick, cpu or paper (default cpu-quick; test: seconds, to check a set-up)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds, run as 0..N-1 (default 3)")
    parser.add_argument("--out", default=None, help="output folder (default runs/<experiment>-<algo>-<preset>)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    parser.add_argument("--resume", action="store_true", help="continue the runs in --out from their checkpoints")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel processes (default 1)")
    # Why 1: on a small or shared CPU, more torch threads than free cores slowed our runs 2x to 50x (README,
    # Speed); on a large idle CPU with --workers 1, more may pay: compare train_throughput.py --threads 1 4.
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1, measured fastest)")
    parser.add_argument("--condition", action="append", help="run only this condition (and its prerequisites)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a hyperparameter")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    out = args.out or f"runs/{args.experiment}-{args.algo}-{args.preset}"
    try:
        summary = run_experiment(
            args.experiment, algo=args.algo, preset=args.preset, seeds=args.seeds, out=out, device=args.device,
            resume=args.resume, overrides=parse_overrides(args.set), conditions=args.condition,
            progress=not args.no_progress, workers=args.workers, threads_per_worker=args.threads,
        )
    except (ValueError, FileNotFoundError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"\n{summary['experiment']} ({summary['algo']}, preset {summary['preset']}, seeds {summary['seeds']}), "
          f"total training time {summary['wall_time_s']:.0f} s")
    for condition, values in summary["conditions"].items():
        print(f"  {condition}:")
        for key, stats in values["training"].items():
            print(f"    end of training  {key:36s} {stats['mean']:6.3f} ± {stats['std']:.3f}")
        for opponent, stats in values["evaluation"].items():
            print(f"    evaluation vs {opponent:7s} reward {stats['reward']['mean']:6.3f} ± {stats['reward']['std']:.3f}"
                  f"  cooperation {stats['cooperation']['mean']:5.3f}   late: reward "
                  f"{stats['late_reward']['mean']:6.3f} cooperation {stats['late_cooperation']['mean']:5.3f}")
    print(f"summary: {Path(out) / 'summary.json'}\nplots:   {Path(out) / 'plots'}")
    return summary


if __name__ == "__main__":
    main()
