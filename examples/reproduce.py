"""Reproduce one of the paper's experiments with A2C or PPI: train, evaluate, plot, summarise.

    python examples/reproduce.py fig1 --algo a2c --preset cpu-quick --seeds 3 --out runs/fig1-a2c
    python examples/reproduce.py step3 --algo a2c --preset cpu-quick --workers 2 --out runs/step3-a2c
    python examples/reproduce.py fig1 --out runs/fig1-a2c --resume          # after a crash / Ctrl-C

This is ``ipd-coop reproduce`` (``agents/harness/cli/reproduce.py``) with one torch thread per run
by default: on a small or shared CPU, more torch threads than free cores slowed our runs
2x to 50x (README, Speed); on a large idle CPU, ``--threads N`` may pay. Every flag is the
command's (``--help`` lists them: ``--conditions``, ``--set NAME=VALUE``, ``--quiet``, ...).
Experiments: fig1 (mixed pool, opponent-id, no-tabular), step1, step2, step3 (each step runs
the steps before it into the same folder). The folder gets one sub-folder per condition and
seed, ``summary.json``, ``summary.md`` and ``plots/``; from Python, the same is
``agents.harness.runner.run_experiment``.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.harness.cli import main as ipd_coop


def main(argv=None) -> int:
    """``ipd-coop reproduce ARGV`` with ``--threads 1`` unless ARGV sets it; returns the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    return ipd_coop(["reproduce", "--threads", "1", *arguments])


if __name__ == "__main__":
    sys.exit(main())
