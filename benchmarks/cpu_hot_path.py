"""What helps A2C's CPU hot path at the paper's batch: torch threads and bf16 autocast, measured as ratios.

One A2C iteration (the pool's rollout plus each learner's update) of Fig. 1's mixed pool (two
learners) and of Step 1 (one learner against the pool), at 256 and 2,048 episodes per learner,
100 rounds, timed in interleaved blocks so that every variant sees the same machine load:

* ``fp32 1 thread``: the reference (how every run here trains by default);
* ``fp32 2 threads``: one run using both cores of a quiet 2-core machine;
* ``bf16 autocast``: the rollout and the update under ``torch.autocast("cpu", torch.bfloat16)``
  (matrix products and the GRU in bfloat16 where torch's CPU autocast lowers them), 1 and 2 threads;
* with ``--compile``, also ``compiled``: the run setting ``compile="default"`` (``torch.compile`` of
  the per-round policy step and of the update's loss, :mod:`agents.compilation`), 1 and 2 threads;
  its compilation (tens of seconds) falls in the untimed warm-up block.

Each row prints agent-steps/s (the learners' decisions per second of wall time) and the ratio to
the reference measured in the same run. Nothing here changes how the package trains: autocast is
not a setting of the trainer (see docs/speed.md for the verdict)::

    python benchmarks/cpu_hot_path.py                 # ~5 minutes on 2 quiet cores
    python benchmarks/cpu_hot_path.py --compile       # and torch.compile (+ a few minutes of compiling)
    python benchmarks/cpu_hot_path.py --quick         # a smoke test (tiny sizes)
"""
from __future__ import annotations

import argparse
import contextlib
import time

import torch

from agents.a2c import ALGORITHM, A2CTrainer
from agents.harness.allocator import keep_freed_memory
from agents.harness.experiments import get_experiment

VARIANTS = (("fp32", 1), ("fp32", 2), ("bf16 autocast", 1), ("bf16 autocast", 2))
COMPILED_VARIANTS = (("compiled", 1), ("compiled", 2))


def make_trainer(experiment: str, condition_name: str, games: int, num_rounds: int, compile: str = "off") -> tuple:
    condition = get_experiment(experiment).condition(condition_name)
    config, settings = ALGORITHM.make_run("cpu", condition.paper_step, {"games_per_learner": games,
                                                                       "num_rounds": num_rounds,
                                                                       "num_iterations": 10_000,
                                                                       "compile": compile})
    trainer = A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=condition.num_learners,
                         seed=0)
    return trainer, condition.num_learners * games * num_rounds


def precision(kind: str):
    return torch.autocast("cpu", dtype=torch.bfloat16) if kind.startswith("bf16") else contextlib.nullcontext()


def measure(experiment: str, condition: str, games: int, num_rounds: int, blocks: int, iterations: int,
            variants=VARIANTS) -> dict:
    """``{(kind, threads): agent-steps/s}`` over ``blocks`` interleaved blocks of ``iterations`` each."""
    trainers = {variant: make_trainer(experiment, condition, games, num_rounds,
                                      "default" if variant[0] == "compiled" else "off") for variant in variants}
    seconds = {variant: 0.0 for variant in variants}
    unit = {variant: 0 for variant in variants}
    previous = torch.get_num_threads()
    try:
        for block in range(blocks + 1):  # block 0 warms every variant up
            for variant in variants:
                kind, threads = variant
                trainer, _ = trainers[variant]
                torch.set_num_threads(threads)
                started = time.perf_counter()
                with precision(kind):
                    for _ in range(iterations):
                        trainer.train_unit(unit[variant])
                        unit[variant] += 1
                if block:
                    seconds[variant] += time.perf_counter() - started
    finally:
        torch.set_num_threads(previous)
    return {variant: trainers[variant][1] * blocks * iterations / seconds[variant] for variant in variants}


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not representative")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks per variant (default 3)")
    parser.add_argument("--compile", action="store_true", help="also the compile=default variants")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as every training process of the harness does (agents/harness/allocator.py)
    if args.blocks < 1:
        parser.error(f"--blocks must be >= 1, got {args.blocks}")
    cases = ([("fig1", "mixed", 32)] if args.quick
             else [("fig1", "mixed", 256), ("fig1", "mixed", 2048), ("step1", "step1", 2048)])
    num_rounds, iterations = (10, 1) if args.quick else (100, 2)
    rows = []
    print(f"A2C agent-steps/s on the CPU ({torch.get_num_threads()} threads available), {num_rounds} rounds, "
          f"{args.blocks} interleaved blocks of {iterations} iterations per variant")
    print("| run | batch / learner | variant | threads | agent-steps/s | vs fp32 1 thread |")
    print("|---|---|---|---|---|---|")
    for experiment, condition, games in cases:
        rates = measure(experiment, condition, games, num_rounds, args.blocks, iterations,
                        VARIANTS + (COMPILED_VARIANTS if args.compile else ()))
        reference = rates[("fp32", 1)]
        for (kind, threads), rate in rates.items():
            rows.append((f"{experiment} {condition}", games, kind, threads, rate, rate / reference))
            print(f"| {experiment} {condition} | {games:,} | {kind} | {threads} | {rate:,.0f} | "
                  f"{rate / reference:.2f}x |", flush=True)
    return rows


if __name__ == "__main__":
    main()
