"""A2C training throughput (agent-steps/s) beside sb3-contrib RecurrentPPO, in one run.

    python benchmarks/train_throughput.py            # full table (a few minutes)
    python benchmarks/train_throughput.py --quick    # smoke test (< 20 s)

An *agent-step* is one decision of one learner that is also trained on: an A2C iteration
of the mixed pool with ``B`` games per learner and 2 learners is ``2 * B * 100``
agent-steps, counting the rollout (no grad) and the update (forward + backward) in
the time. RecurrentPPO (``MlpLstmPolicy``) learns against the uniform memory-1 pool
through ``gymnasium.make("ipd_env/IPDvsCoPlayer-v0")`` in a ``DummyVecEnv``; its rate is
``total_timesteps / learn time``. Rows are measured with 1 torch thread and with all
``--threads`` torch threads (default 1: on a small shared CPU, more threads per
process than free cores slows torch down by orders of magnitude); say beside the
numbers whether the machine was shared.

The last tables time ``reproduce`` at cpu-quick (fig1's mixed pool: two learners; Step 1:
one) without and with the default in-training evaluation (every ``eval_every``
iterations, ~25 per run), in the same run: the speed the evaluation costs.

A second table times the GRU alone, forward + backward over ``T = 100`` rounds (hidden
128, input 96, the A2C/PPI trunk's sizes) at B = 256 and 2048 with 1 thread: torch's own
kernel (``nn.GRU``, what :mod:`agents.history` runs) against the hand-written backward the
agents used before (``benchmarks/handwritten_gru.py``), measured in the same run, wall
and CPU time (``--gru-only`` prints just this table).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.a2c import ALGORITHM, A2CTrainer
from agents.harness.evaluation import InTrainingEvaluator
from agents.harness.experiments import get_experiment
from benchmarks.handwritten_gru import gru_sequence


def a2c_rate(games_per_learner: int, iterations: int, device: str, num_rounds: int = 100) -> float:
    condition = get_experiment("fig1").condition("mixed")
    run = ALGORITHM.make_run("cpu", condition.paper_step, {"games_per_learner": games_per_learner,
                                                          "num_rounds": num_rounds, "num_iterations": iterations + 1})
    trainer = A2CTrainer(*run, pool_mode=condition.pool_mode, num_learners=condition.num_learners, seed=0,
                         device=device)
    trainer.train_unit(0)  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    for unit in range(1, iterations + 1):
        trainer.train_unit(unit)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    return condition.num_learners * games_per_learner * num_rounds * iterations / elapsed


def recurrent_ppo_rate(total_timesteps: int, num_envs: int) -> float:
    try:
        import gymnasium
        import sb3_contrib
        from stable_baselines3.common.vec_env import DummyVecEnv
    except ImportError as error:
        raise SystemExit(f"RecurrentPPO needs the [sb3] extra: pip install 'ipd-env[sb3]' ({error})")
    import ipd_env  # noqa: F401  (registers the Gymnasium env)

    vec_env = DummyVecEnv([lambda: gymnasium.make("ipd_env/IPDvsCoPlayer-v0")] * num_envs)
    model = sb3_contrib.RecurrentPPO("MlpLstmPolicy", vec_env, n_steps=128, batch_size=128 * num_envs // 4,
                                     seed=0, device="cpu", verbose=0)
    model.learn(128 * num_envs)  # warm-up
    started = time.perf_counter()
    model.learn(total_timesteps)
    return total_timesteps / (time.perf_counter() - started)


def gru_milliseconds(batch_size: int, device: str, steps: int = 100, hidden: int = 128, inputs: int = 96,
                     repeats: int = 3) -> dict[str, tuple[float, float]]:
    """Best-of-``repeats`` milliseconds of one forward + backward, wall and process CPU time.

    Returns ``{"nn.GRU": (wall, cpu), "hand-written": (wall, cpu)}``. With 1 thread the CPU
    time is the steadier number on a shared machine (other processes lengthen the wall
    time, much less the CPU time); on CUDA only the wall time means anything.
    """
    generator = torch.Generator().manual_seed(0)
    gru = torch.nn.GRU(inputs, hidden).to(device)
    x = torch.randn(steps, batch_size, inputs, generator=generator).to(device).requires_grad_()
    initial = torch.zeros(1, batch_size, hidden, device=device)

    def torch_gru():
        return gru(x, initial)[0]

    def handwritten():
        projection = torch.nn.functional.linear(x, gru.weight_ih_l0, gru.bias_ih_l0)
        return gru_sequence(projection, initial[0], gru.weight_hh_l0, gru.bias_hh_l0)

    # Same function first: outputs and input gradients agree, so the timings compare like with like.
    outputs = []
    for run in (torch_gru, handwritten):
        x.grad = None
        output = run()
        output.sum().backward()
        outputs.append((output.detach(), x.grad.clone()))
    for expected, got in zip(outputs[0], outputs[1]):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    best = {"nn.GRU": (float("inf"), float("inf")), "hand-written": (float("inf"), float("inf"))}
    for _ in range(repeats):  # interleaved, so a busy moment on a shared machine hits both
        for name, run in (("nn.GRU", torch_gru), ("hand-written", handwritten)):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            wall, cpu = time.perf_counter(), time.process_time()
            run().sum().backward()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            wall, cpu = 1000 * (time.perf_counter() - wall), 1000 * (time.process_time() - cpu)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def print_gru_table(batch_sizes, steps: int, devices, repeats: int = 3) -> list:
    """Time both GRUs at every batch size and device with 1 CPU thread; print and return the rows."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = [(device, batch_size, gru_milliseconds(batch_size, device, steps, repeats=repeats)) for device in devices
            for batch_size in batch_sizes]
    torch.set_num_threads(threads)
    print(f"\nGRU forward + backward, T={steps}, hidden 128, input 96, 1 CPU thread: ms wall (ms CPU), "
          f"best of {repeats}")
    print("| device | batch | nn.GRU (torch)  | hand-written    | hand-written / torch, wall (CPU) |")
    print("|--------|-------|-----------------|-----------------|----------------------------------|")
    for device, batch_size, times in rows:
        (torch_wall, torch_cpu), (hand_wall, hand_cpu) = times["nn.GRU"], times["hand-written"]
        ratio = f"{hand_wall / torch_wall:.2f}x ({hand_cpu / torch_cpu:.2f}x)"
        print(f"| {device:6s} | {batch_size:5d} | {torch_wall:6.0f} ({torch_cpu:6.0f}) "
              f"| {hand_wall:6.0f} ({hand_cpu:6.0f}) | {ratio:>32s} |")
    return rows


def in_training_evaluation_cost(num_blocks: int, device: str, preset: str = "cpu-quick",
                                overrides: Optional[dict] = None, experiment: str = "fig1",
                                condition_name: str = "mixed") -> dict:
    """Seconds per iteration of ``reproduce`` (one condition) without and with the default
    in-training evaluation, measured in one run.

    ``num_blocks`` times: train ``eval_every`` iterations (the preset's automatic value, ~25
    evaluations per run), then the runner's :class:`~agents.harness.evaluation.InTrainingEvaluator`
    evaluates both learners; each part is timed on its own. Evaluation never changes
    training (``tests/agents/test_in_training_eval.py``), so a run with it takes the training
    time plus the evaluation time.
    """
    condition = get_experiment(experiment).condition(condition_name)
    config, settings = ALGORITHM.make_run(preset, condition.paper_step, overrides)
    trainer = A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=condition.num_learners, seed=0,
                         device=device)
    evaluator = InTrainingEvaluator(condition, 0, settings.num_rounds, settings.payoffs, pool=settings.pool,
                                    pool_size=settings.eval_pool_size, games_per_co_player=settings.eval_games,
                                    device=device)
    eval_every = settings.evaluation_every(config.num_iterations)

    def timed(work) -> float:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        work()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - started

    unit = 0
    def train_block():
        nonlocal unit
        for _ in range(eval_every):
            trainer.train_unit(unit)
            unit += 1

    timed(train_block), timed(lambda: evaluator(trainer.players(), unit))  # warm-up
    training = evaluation = 0.0
    for _ in range(num_blocks):
        training += timed(train_block)
        evaluation += timed(lambda: evaluator(trainer.players(), unit))
    iterations = num_blocks * eval_every
    return {"run": f"{experiment} {condition_name}", "preset": preset,
            "games_per_learner": config.games_per_learner, "eval_every": eval_every,
            "eval_pool_size": settings.eval_pool_size, "eval_games": settings.eval_games, "iterations": iterations,
            "training_s": training / iterations, "with_evaluation_s": (training + evaluation) / iterations,
            "overhead": evaluation / training}


def print_evaluation_cost(cost: dict, device: str) -> None:
    print(f"\nreproduce {cost['run']} at {cost['preset']} (B={cost['games_per_learner']}/learner, "
          f"{torch.get_num_threads()} thread(s), {device}): "
          f"in-training evaluation every {cost['eval_every']} iterations "
          f"(pool set {cost['eval_pool_size']}, {cost['eval_games']} games per classic), "
          f"{cost['iterations']} iterations")
    print("| run | s per iteration | relative |")
    print("|-----|-----------------|----------|")
    print(f"| training only (no in-training evaluation) | {cost['training_s']:15.3f} | {1:8.3f} |")
    print(f"| training + default in-training evaluation | {cost['with_evaluation_s']:15.3f} | "
          f"{1 + cost['overhead']:8.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test")
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="torch thread counts to measure A2C with (default 1; RecurrentPPO uses the first)")
    parser.add_argument("--gru-only", action="store_true", help="only the nn.GRU vs hand-written GRU table")
    args = parser.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if args.gru_only:
        return print_gru_table([32] if args.quick else [256, 2048], 20 if args.quick else 100, devices,
                               repeats=2 if args.quick else 5)
    if args.quick:
        a2c_cases, iterations, num_rounds, ppo_steps, ppo_envs = [64], 1, 20, 256, 2
    else:
        a2c_cases, iterations, num_rounds, ppo_steps, ppo_envs = [256, 1024, 2048], 2, 100, 8192, 8
    rows = []
    for device in devices:
        for threads in args.threads if device == "cpu" else [torch.get_num_threads()]:
            torch.set_num_threads(threads)
            for games in a2c_cases:
                rate = a2c_rate(games, iterations, device, num_rounds)
                rows.append((f"A2C (ours), mixed pool, B={games}/learner", device, threads, rate))
                print(f"  measured {rows[-1][0]} on {device} with {threads} thread(s): {rate:,.0f}", flush=True)
    torch.set_num_threads(args.threads[0])
    ppo = recurrent_ppo_rate(ppo_steps, ppo_envs)
    rows.append((f"sb3-contrib RecurrentPPO (MlpLstmPolicy), {ppo_envs} envs", "cpu", args.threads[0], ppo))
    best_cpu = max(rate for name, device, _, rate in rows if device == "cpu" and name.startswith("A2C"))
    print(f"\nTraining throughput{' (quick: tiny sizes, not representative)' if args.quick else ''}, "
          f"{num_rounds} rounds per episode")
    print(f"| {'learner':52s} | device | threads | agent-steps/s | vs RecurrentPPO |")
    print(f"|{'-' * 54}|--------|---------|---------------|-----------------|")
    for name, device, threads, rate in rows:
        print(f"| {name:52s} | {device:6s} | {threads:7d} | {rate:13,.0f} | {rate / ppo:14.1f}x |")
    print(f"\nbest A2C on CPU: {best_cpu:,.0f} agent-steps/s = {best_cpu / ppo:.0f}x RecurrentPPO")
    print_gru_table([32] if args.quick else [256, 2048], num_rounds, devices, repeats=2 if args.quick else 5)
    torch.set_num_threads(args.threads[0])
    for experiment, condition in (("fig1", "mixed"), ("step1", "step1")):  # two learners; one learner
        cost = (in_training_evaluation_cost(2, "cpu", "test", {"num_iterations": 25}, experiment, condition)
                if args.quick else in_training_evaluation_cost(3, "cpu", experiment=experiment,
                                                               condition_name=condition))
        print_evaluation_cost(cost, "cpu")
    return rows


if __name__ == "__main__":
    main()
