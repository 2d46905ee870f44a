"""What keeping freed memory in the process (agents/harness/allocator.py) gains per A2C iteration.

Step 1 at the paper's batch (one learner, 2,048 games of 100 rounds against the uniform pool),
one iteration after another, in fresh processes that alternate between the two allocator
settings (``IPD_ENV_MALLOC_TUNING=0``: glibc as it comes; ``1``: the harness's default), so both
see the same machine load; 1 and 2 torch threads. Each process trains one warm-up iteration
untimed, then ``--iterations`` timed ones, and reports its wall time, minor page faults and
kernel (system) time per iteration. The table gives the mean over ``--blocks`` processes per
variant and the ratio to glibc's default measured in the same run::

    python benchmarks/allocator.py               # ~4 minutes on 2 quiet cores
    python benchmarks/allocator.py --quick       # a smoke test (batch 64, 10 rounds)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
import torch
from agents.harness.allocator import keep_freed_memory
from agents.a2c import ALGORITHM, A2CTrainer
from agents.harness.experiments import get_experiment

games, rounds, iterations, threads = (int(value) for value in sys.argv[1:5])
torch.set_num_threads(threads)
applied = keep_freed_memory()
condition = get_experiment("step1").condition("step1")
config, settings = ALGORITHM.make_run("paper", condition.paper_step, {"games_per_learner": games, "num_rounds": rounds})
trainer = A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=1, seed=0)
trainer.train_unit(0)
before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for unit in range(1, iterations + 1):
    trainer.train_unit(unit)
wall = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"applied": applied, "seconds": wall / iterations,
                  "faults": (after.ru_minflt - before.ru_minflt) / iterations,
                  "system": (after.ru_stime - before.ru_stime) / iterations}))
"""


def measure(tuning: str, games: int, rounds: int, iterations: int, threads: int) -> dict:
    """One fresh process's figures (see the module docstring)."""
    environment = {**os.environ, "IPD_ENV_MALLOC_TUNING": tuning, "OMP_NUM_THREADS": str(threads)}
    result = subprocess.run([sys.executable, "-c", WORKER, str(games), str(rounds), str(iterations), str(threads)],
                            env=environment, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=2048, help="games per iteration (default 2,048, Table 2)")
    parser.add_argument("--rounds", type=int, default=100, help="rounds per game (default 100)")
    parser.add_argument("--iterations", type=int, default=4, help="timed iterations per process (default 4)")
    parser.add_argument("--blocks", type=int, default=2, help="processes per variant, alternating (default 2)")
    parser.add_argument("--threads", default="1,2", help="torch threads to measure, comma-separated (default 1,2)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: batch 64, 10 rounds, 1 iteration")
    args = parser.parse_args(argv)
    try:
        threads_list = [int(value) for value in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads must be comma-separated whole numbers, got {args.threads!r}")
    if min(args.games, args.rounds, args.iterations, args.blocks, *threads_list) < 1:
        parser.error("--games, --rounds, --iterations, --blocks and --threads must be positive")
    if args.quick:
        args.games, args.rounds, args.iterations, args.blocks = 64, 10, 1, 1
    steps = args.games * args.rounds
    rows = []
    print(f"Step 1, {args.games:,} games x {args.rounds} rounds per iteration, {args.iterations} timed iterations "
          f"per process, {args.blocks} processes per variant\n")
    print("| threads | allocator | agent-steps/s | page faults / iteration | kernel s / iteration | vs glibc default |")
    print("|---|---|---|---|---|---|")
    for threads in threads_list:
        runs = {"0": [], "1": []}
        for _ in range(args.blocks):
            for tuning in runs:
                runs[tuning].append(measure(tuning, args.games, args.rounds, args.iterations, threads))
        reference = None
        for tuning, results in runs.items():
            seconds = sum(result["seconds"] for result in results) / len(results)
            rate = steps / seconds
            reference = reference or rate
            label = "glibc default" if tuning == "0" else (
                "kept in the process" if all(result["applied"] for result in results) else "kept (not applied here)")
            row = dict(threads=threads, allocator=label, agent_steps_per_s=rate,
                       faults=sum(result["faults"] for result in results) / len(results),
                       system_s=sum(result["system"] for result in results) / len(results), ratio=rate / reference)
            rows.append(row)
            print(f"| {threads} | {label} | {rate:,.0f} | {row['faults']:,.0f} | {row['system_s']:.2f} | "
                  f"{row['ratio']:.2f}x |", flush=True)
    return rows


if __name__ == "__main__":
    main()
