"""Throughput of every form of the IPD env, printed as one table.

    python benchmarks/env_throughput.py            # full run (about a minute on 2 CPU cores)
    python benchmarks/env_throughput.py --quick    # smoke version (a few seconds)

Rows:

* ``parallel``: the PettingZoo ``ParallelEnv`` with pre-drawn action dicts (numpy int64
  actions, as ``action_space.sample()`` and SB3 give them), resetting when the episode ends;
* ``aec``: the PettingZoo AEC env (``ipd_env.env()``), one ``step`` per agent, dead steps
  with ``None`` at the end of each episode as the AEC API requires;
* ``gymnasium``: ``IPDvsCoPlayerEnv`` against a fixed stochastic memory-1 co-player (GTFT);
* ``gymnasium vector``: ``IPDvsCoPlayerVectorEnv`` (numpy, ``gymnasium.make_vec``), N learners
  against GTFT, co-player sampling included;
* ``vector``: ``IPDVectorEnv.step_indices`` at several batch sizes N, with action
  validation on (the default) and off, pre-drawn action tensors;
* ``numpy lookup``: the ceiling, a bare numpy loop doing the same arithmetic and table
  lookup with preallocated buffers and no checks.

An env-step is one round of one game (both players act); an agent-step is one player's
action, so agent-steps = 2 x env-steps. Each figure is the best of ``--repeats`` timed
runs of at least ``--seconds`` each.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FULL_SIZES = (1, 256, 4096, 16384, 65536, 262144)
QUICK_SIZES = (1, 4096)
NUM_PREDRAWN = 16


def best_rate(run, work_per_call: int, seconds: float, repeats: int) -> float:
    """Best work/second over ``repeats`` timings, each calling ``run(calls)`` for >= ``seconds``."""
    calls = 1
    while True:  # calibrate the number of calls to fill `seconds`
        start = time.perf_counter()
        run(calls)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds * 0.2 or calls >= 1 << 30:
            break
        calls *= 4
    calls = max(1, int(calls * seconds / max(elapsed, 1e-9)))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        run(calls)
        best = max(best, calls * work_per_call / (time.perf_counter() - start))
    return best


def parallel_env_rate(seconds, repeats, rng):
    from ipd_env import ipd_v0

    env = ipd_v0.parallel_env()
    draws = rng.integers(0, 2, size=(4096, 2))
    actions = [{"player_0": a0, "player_1": a1} for a0, a1 in draws]

    def run(calls):
        env.reset()
        step, reset = env.step, env.reset
        for index in range(calls):
            if not env.agents:
                reset()
            step(actions[index & 4095])

    return best_rate(run, 1, seconds, repeats)


def aec_env_rate(seconds, repeats, rng):
    import ipd_env

    env = ipd_env.env()
    draws = rng.integers(0, 2, size=4096).tolist()

    def run(rounds):
        env.reset()
        for index in range(2 * rounds):
            agent = env.agent_selection
            if env.truncations[agent] or env.terminations[agent]:
                env.step(None)
                if not env.agents:
                    env.reset()
                continue
            env.step(draws[index & 4095])

    return best_rate(run, 1, seconds, repeats)


def gymnasium_env_rate(seconds, repeats, rng):
    from ipd_env.single_agent import IPDvsCoPlayerEnv

    env = IPDvsCoPlayerEnv(co_player="gtft")
    env.reset(seed=0)
    draws = rng.integers(0, 2, size=4096).tolist()

    def run(calls):
        step = env.step
        for index in range(calls):
            if step(draws[index & 4095])[3]:
                env.reset()

    return best_rate(run, 1, seconds, repeats)


def gymnasium_vector_env_rate(num_envs, seconds, repeats, rng):
    from ipd_env.single_agent_vector import IPDvsCoPlayerVectorEnv

    env = IPDvsCoPlayerVectorEnv(num_envs, co_player="gtft")
    env.reset(seed=0)
    actions = [rng.integers(0, 2, size=num_envs) for _ in range(NUM_PREDRAWN)]

    def run(calls):
        step = env.step
        for index in range(calls):
            step(actions[index % NUM_PREDRAWN])

    return best_rate(run, num_envs, seconds, repeats)


def vector_env_rate(num_games, device, validate, seconds, repeats):
    import torch

    from ipd_env.vector import IPDVectorEnv

    generator = torch.Generator(device=device).manual_seed(0)
    env = IPDVectorEnv(num_games, num_rounds=1 << 62, device=device, validate_actions=validate)
    env.reset()
    actions = [torch.randint(0, 2, (2, num_games), generator=generator, device=device) for _ in range(NUM_PREDRAWN)]
    synchronize = torch.cuda.synchronize if env.device.type == "cuda" else (lambda: None)

    def run(calls):
        step = env.step_indices
        for index in range(calls):
            step(actions[index % NUM_PREDRAWN])
        synchronize()

    return best_rate(run, num_games, seconds, repeats)


def numpy_lookup_rate(num_games, seconds, repeats, rng):
    actions = [rng.integers(0, 2, size=(2, num_games)) for _ in range(NUM_PREDRAWN)]
    reward_lookup = np.array([[1.0, -1.0, 2.0, 0.0], [1.0, 2.0, -1.0, 0.0]], dtype=np.float32)
    joint = np.empty(num_games, dtype=np.int64)
    observations = np.empty((2, num_games), dtype=np.int64)
    rewards = np.empty((2, num_games), dtype=np.float32)

    def run(calls):
        for index in range(calls):
            own, other = actions[index % NUM_PREDRAWN]
            np.left_shift(own, 1, out=joint)
            np.add(joint, other, out=joint)
            np.add(joint, 1, out=observations[0])
            np.left_shift(other, 1, out=observations[1])
            observations[1] += own
            observations[1] += 1
            np.take(reward_lookup, joint, axis=1, out=rewards)

    return best_rate(run, num_games, seconds, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: two sizes, short timings")
    parser.add_argument("--sizes", type=int, nargs="+", help="batch sizes N of the vector env")
    parser.add_argument("--seconds", type=float, help="minimum seconds per timing (default 0.5, quick 0.05)")
    parser.add_argument("--repeats", type=int, help="timings per row, best kept (default 3, quick 1)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--devices", nargs="+", help="torch devices (default: cpu, and cuda when present)")
    args = parser.parse_args(argv)

    import torch

    seconds = args.seconds or (0.05 if args.quick else 0.5)
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    rng = np.random.default_rng(0)

    print(
        f"# IPD env throughput: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, devices {devices}"
    )
    print(f"# best of {repeats} timing(s) of >= {seconds} s each; agent-steps = 2 x env-steps")
    header = (f"| {'env':<22} | {'device':<6} | {'N':>7} | {'env-steps/s':>12} | {'agent-steps/s':>13} "
              f"| {'vs numpy lookup':>15} |")
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")

    def row(name, device, num_games, env_rate, ceiling=None):
        ratio = f"{env_rate / ceiling:.2f}x" if ceiling else ""
        print(
            f"| {name:<22} | {device:<6} | {num_games:>7} | {env_rate:>12.3g} | {2 * env_rate:>13.3g} | {ratio:>15} |",
            flush=True,
        )

    row("parallel (PettingZoo)", "cpu", 1, parallel_env_rate(seconds, repeats, rng))
    row("aec (PettingZoo)", "cpu", 1, aec_env_rate(seconds, repeats, rng))
    row("gymnasium vs gtft", "cpu", 1, gymnasium_env_rate(seconds, repeats, rng))
    for num_games in sizes:
        ceiling = numpy_lookup_rate(num_games, seconds, repeats, rng)
        row("numpy lookup (ceiling)", "cpu", num_games, ceiling)
        for device in devices:
            for validate in (True, False):
                name = "vector" + ("" if validate else " (no checks)")
                rate = vector_env_rate(num_games, device, validate, seconds, repeats)
                row(name, device, num_games, rate, ceiling)
        row("gymnasium vector", "cpu", num_games, gymnasium_vector_env_rate(num_games, seconds, repeats, rng))


if __name__ == "__main__":
    main()
