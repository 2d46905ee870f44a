"""Seed batching: N seeds of one A2C run as one batched computation vs N trainers one after the other.

    python benchmarks/seed_batching.py            # B = 256 and 2048, N = 1, 2, 5 (~3-4 minutes)
    python benchmarks/seed_batching.py --quick    # smoke test (seconds)
    python benchmarks/seed_batching.py --device cuda

The run is Step 1 (one learner against the uniform memory-1 pool, Table 2's column 1) at
``B`` games per learner and 100 rounds, so an iteration of N seeds is ``N * B * 100``
agent-steps (rollout and update both counted in the time). *Batched* is
:class:`agents.a2c_batched.SeedBatchedA2CTrainer` over seeds ``0 .. N-1``; *separate* is N
:class:`agents.a2c.A2CTrainer` s, each trained one iteration in turn (what ``reproduce
--seeds N`` does in one process today). Both are built and warmed up first, then timed in
alternating blocks (batched, separate, batched, ...) in the same run with 1 torch thread, so
a shared machine slows both alike; the ratio column (batched rate / separate rate, > 1 means
batching is faster) is the number to read, in wall time and in this process's CPU time.
Step 1 keeps ``M = N`` members in memory at once: at B = 2048 each member adds ~1 GB of saved
activations on CPU (5 seeds: ~6 GB).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.a2c import ALGORITHM, A2CTrainer
from agents.a2c_batched import SeedBatchedA2CTrainer
from agents.harness.allocator import keep_freed_memory


def timed(work, device: str) -> tuple:
    """``(wall seconds, CPU seconds)`` of ``work()``."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(games_per_learner: int, num_seeds: int, repeats: int, iterations: int, device: str,
            num_rounds: int = 100) -> dict:
    """Agent-steps/s of the batched and the separate trainers (wall and CPU), alternating blocks."""
    run = ALGORITHM.make_run("cpu", 1, {"games_per_learner": games_per_learner, "num_rounds": num_rounds,
                                        "num_iterations": 1 + repeats * iterations})
    seeds = list(range(num_seeds))
    batched = SeedBatchedA2CTrainer(*run, pool_mode="tabular-only", num_learners=1, seeds=seeds, device=device)
    separate = [A2CTrainer(*run, pool_mode="tabular-only", num_learners=1, seed=seed, device=device) for seed in seeds]
    batched.train_unit(0)  # warm-up
    for trainer in separate:
        trainer.train_unit(0)
    totals = {"batched": [0.0, 0.0], "separate": [0.0, 0.0]}
    unit = 1
    for _ in range(repeats):
        first = unit

        def train_batched():
            for index in range(first, first + iterations):
                batched.train_unit(index)

        def train_separate():
            for index in range(first, first + iterations):
                for trainer in separate:
                    trainer.train_unit(index)

        for name, work in (("batched", train_batched), ("separate", train_separate)):
            wall, cpu = timed(work, device)
            totals[name][0] += wall
            totals[name][1] += cpu
        unit += iterations
    steps = num_seeds * games_per_learner * num_rounds * repeats * iterations
    return {name: (steps / wall, steps / cpu) for name, (wall, cpu) in totals.items()}


def print_table(rows: list) -> None:
    print("| B | seeds N | batched agent-steps/s (wall) | separate agent-steps/s (wall) | batched / separate, wall |"
          " batched / separate, CPU |")
    print("|---|---|---|---|---|---|")
    for batch, num_seeds, rates in rows:
        (batched_wall, batched_cpu), (separate_wall, separate_cpu) = rates["batched"], rates["separate"]
        print(f"| {batch} | {num_seeds} | {batched_wall:,.0f} | {separate_wall:,.0f} | "
              f"{batched_wall / separate_wall:.2f} | {batched_cpu / separate_cpu:.2f} |")


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as every training process of the harness does (agents/harness/allocator.py)
    torch.set_num_threads(args.threads)
    if args.quick:
        plan = [(32, [1, 2], 1, 1, 10)]
    else:  # (B, seed counts, repeats, iterations per block, rounds)
        plan = [(256, [1, 2, 5], 3, 1, 100), (2048, [1, 2, 5], 1, 1, 100)]
    rows = []
    for batch, seed_counts, repeats, iterations, num_rounds in plan:
        for num_seeds in seed_counts:
            rows.append((batch, num_seeds, compare(batch, num_seeds, repeats, iterations, args.device, num_rounds)))
    print(f"Step 1, {args.device}, {args.threads} torch thread(s); batched and separate timed alternately in one run")
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
