"""The paper at its own scale: speed at the paper's batches and the projected wall time of every experiment.

    python benchmarks/paper_scale.py --threads 1                # this CPU, one torch thread (a few minutes)
    python benchmarks/paper_scale.py --device cuda --repeats 5  # a GPU
    python benchmarks/paper_scale.py --quick                    # smoke test at the test preset (seconds)

Everything is read from the configs each algorithm builds for its ``paper`` preset
(:func:`agents.harness.runner.make_units`), never written here: batches, lengths, model
sizes. Three tables (markdown):

1. **A2C**, per condition of the paper's experiments: ms per iteration at the paper's batch,
   the rollout (the pool plays every learner's episodes, no gradient) and the update (each
   learner's gradient step on its batch) timed apart (mean of ``--repeats`` after one
   warm-up), agent-steps/s, and hours per seed (iterations x ms per iteration);
2. **PPI**: model-training tokens/s (:func:`agents.ppi.trainer.fit_model`, one epoch over
   ``FIT_BATCHES`` of the paper's minibatches of pretraining episodes) and planner decisions/s
   (one :meth:`PlanningPlayer.act` of ``--planner-games`` games, K rollouts of the horizon each,
   as :func:`benchmarks.ppi_throughput.planner_rates` times it, without the bare-GRU
   comparison), then per condition the tokens and decisions of one seed
   (:func:`agents.harness.costs.run_counts`: learners and the frozen Fixed-ICL, Step 3's data
   set starting from Step 2's) and hours per seed (tokens / rate + decisions / rate);
3. **experiments**: hours per seed (the experiment's conditions, prerequisites included) and
   for the paper's number of seeds run one after another (:data:`PAPER_SEEDS`).

``--clock process`` times with this process's CPU time instead of the wall clock: on a CPU
shared with other jobs the wall time of a one-thread run measures the other jobs too (use it
with ``--threads 1``; on a GPU only the wall clock means anything).

The hours count training only: ``ipd-coop plan`` adds evaluation, checkpoints and set-up, and
schedules seeds in parallel. The planner's decision is timed at round 0, where it looks the
full horizon ahead; late in an episode it looks less far (about 8% fewer rollout rounds over
100 rounds at horizon 15), so PPI's figures are slightly pessimistic.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.harness.allocator import keep_freed_memory
from agents.harness.costs import Stopwatch, run_counts, trainer_for
from agents.harness.experiments import EXPERIMENTS
from agents.harness.plan import human_duration
from agents.harness.runner import make_units
from agents.harness.scale import PAPER_SEEDS  # the paper's seeds per experiment
from agents.ppi.collect import pretraining_episodes
from agents.ppi.dataset import EpisodeBatcher
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlanningPlayer
from agents.ppi.trainer import fit_model


def paper_units(algo: str, preset: str) -> dict:
    """``{condition: Unit}`` of seed 0 for every condition of the paper's experiments (step3 lists them all)."""
    units = {}
    for experiment in EXPERIMENTS:
        for (condition, _), unit in make_units(experiment, algo, preset, [0]).items():
            units.setdefault(condition, unit)
    return units


def time_a2c(unit, units_by_key: dict, watch: Stopwatch, repeats: int) -> dict:
    """Mean seconds of the rollout and of the update of one A2C iteration at the unit's batch.

    The trainer is the registry's (``unit.algorithm.make_trainer``); a frozen co-player is an
    untrained stand-in (its cost does not depend on its weights).
    """
    trainer = trainer_for(unit, unit.config, units_by_key, watch.device)
    config = unit.config

    def rollout():
        return trainer.pool.play(trainer.players(), trainer.generator, trainer.frozen_players())

    def update(trajectories):
        for model, optimizer, trajectory in zip(trainer.models, trainer.optimizers, trajectories):
            for _ in range(config.updates_per_iteration):
                trainer.update(model, optimizer, trajectory, config.entropy_coef)

    update(rollout()[0])  # warm-up
    rollout_seconds = update_seconds = 0.0
    for _ in range(repeats):
        (trajectories, _), seconds = watch.seconds(rollout)
        rollout_seconds += seconds
        update_seconds += watch.seconds(lambda: update(trajectories))[1]
    return {"rollout": rollout_seconds / repeats, "update": update_seconds / repeats}


#: Minibatches of the timed PPI model fit.
FIT_BATCHES = 4


def training_tokens_per_second(config, settings, watch: Stopwatch, repeats: int) -> float:
    """Model-fit (episode, round) pairs per second: one epoch of :func:`fit_model` over ``FIT_BATCHES``
    minibatches of ``config.batch_size`` pretraining episodes, at the config's model size."""
    episodes = pretraining_episodes(FIT_BATCHES * config.batch_size // 2 * 2, "tabular", settings.num_rounds,
                                    torch.Generator().manual_seed(0))
    stored = {key: value.numpy() for key, value in episodes.items()}
    stored["outcomes"] = stored["outcomes"].astype("uint8")
    batcher = EpisodeBatcher(stored, settings.payoffs, False, watch.device)
    one_epoch = dataclasses.replace(config, epochs=1)
    generator = torch.Generator().manual_seed(0)

    def fit():
        model = SequenceModel(ModelConfig(config.hidden_size, config.embedding_size)).to(watch.device)
        fit_model(model, batcher, one_epoch, generator)

    fit()  # warm-up
    return batcher.num_episodes * settings.num_rounds / watch.mean(fit, repeats)


def planner_decisions_per_second(config, settings, num_games: int, watch: Stopwatch, repeats: int) -> float:
    """Decisions/s of one planner step for ``num_games`` games at round 0 (the full horizon ahead)."""
    model = SequenceModel(ModelConfig(config.hidden_size, config.embedding_size)).to(watch.device).eval()
    player = PlanningPlayer(model, config.planner(), settings.num_rounds)
    generator = torch.Generator(device=watch.device).manual_seed(0)
    observation = torch.randint(1, 5, (num_games,), device=watch.device, generator=generator)
    reward = torch.zeros(num_games, device=watch.device)

    def decide():
        player.reset(num_games, generator)
        player.act(observation, reward)

    decide()  # warm-up
    return num_games / watch.mean(decide, repeats)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:,.3g}"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where to time (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats after one warm-up (default 2)")
    parser.add_argument("--planner-games", type=int, default=None,
                        help="games per timed planner step (default: the paper's episodes per phase on cuda, "
                             "1,024 on cpu, where the rate is flat beyond a few hundred games)")
    parser.add_argument("--algos", default="a2c,ppi", help="comma-separated: a2c, ppi (default both)")
    parser.add_argument("--clock", default="wall", choices=("wall", "process"),
                        help="wall: the wall clock; process: this process's CPU time (a shared CPU, 1 thread)")
    parser.add_argument("--quick", action="store_true", help="the test preset instead of paper: a smoke test")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as every training process of the harness does (agents/harness/allocator.py)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("paper_scale: --device cuda asked for, but torch sees no CUDA GPU here")
    if args.repeats < 1:
        raise SystemExit(f"paper_scale: --repeats must be >= 1, got {args.repeats}")
    if args.threads:
        torch.set_num_threads(args.threads)
    preset = "test" if args.quick else "paper"
    algos = [name.strip().lower() for name in args.algos.split(",") if name.strip()]
    if args.clock == "process" and args.device == "cuda":
        raise SystemExit("paper_scale: --clock process times the CPU only; use the wall clock on cuda")
    watch = Stopwatch(args.device, time.process_time if args.clock == "process" else time.perf_counter)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"paper_scale: preset {preset}, {device_name}, {torch.get_num_threads()} torch thread(s), "
          f"{'process CPU time' if args.clock == 'process' else 'wall clock'}, mean of {args.repeats} after a warm-up, "
          f"torch {torch.__version__}\n", flush=True)
    per_seed: dict = {}
    results: dict = {"a2c": {}, "ppi": {}}
    if "a2c" in algos:
        units = paper_units("a2c", preset)
        keyed = {(name, 0): unit for name, unit in units.items()}
        lines = ["| A2C condition | episodes per learner | learners | iterations | rollout ms | update ms | "
                 "iteration ms | agent-steps/s | hours per seed |", "|---|---|---|---|---|---|---|---|---|"]
        for name, unit in units.items():
            print(f"  timing a2c {name} ...", file=sys.stderr, flush=True)
            timing = time_a2c(unit, keyed, watch, args.repeats)
            counts = run_counts(unit, keyed)
            iteration = timing["rollout"] + timing["update"]
            per_seed[("a2c", name)] = counts["num_units"] * iteration
            results["a2c"][name] = dict(timing, iterations=counts["num_units"],
                                        seconds_per_seed=per_seed[("a2c", name)])
            rate = counts["agent_steps"] / counts["num_units"] / iteration
            lines.append(f"| {name} | {unit.config.games_per_learner:,} | {unit.condition.num_learners} | "
                         f"{counts['num_units']:,} | {1e3 * timing['rollout']:,.0f} | {1e3 * timing['update']:,.0f} | "
                         f"{1e3 * iteration:,.0f} | {rate:,.0f} | {hours(per_seed[('a2c', name)])} |")
        print("\n".join(lines) + "\n", flush=True)
    if "ppi" in algos:
        units = paper_units("ppi", preset)
        keyed = {(name, 0): unit for name, unit in units.items()}
        config, settings = next(iter(units.values())).config, next(iter(units.values())).settings
        games = args.planner_games or (config.episodes_per_phase if args.device == "cuda" else min(
            1024, config.episodes_per_phase))
        print("  timing ppi training and planner ...", file=sys.stderr, flush=True)
        tokens_per_second = training_tokens_per_second(config, settings, watch, args.repeats)
        decisions_per_second = planner_decisions_per_second(config, settings, games, watch, args.repeats)
        results["ppi"]["rates"] = {"tokens_per_second": tokens_per_second, "decisions_per_second": decisions_per_second,
                                   "planner_games": games}
        print(f"| PPI rate ({config.hidden_size} hidden, K {config.num_rollouts}, horizon {config.horizon}) | value |\n"
              f"|---|---|\n| training tokens/s (batch {config.batch_size} episodes x {settings.num_rounds} rounds) | "
              f"{tokens_per_second:,.0f} |\n| planner decisions/s ({games:,} games in one step) | "
              f"{decisions_per_second:,.0f} |\n", flush=True)
        lines = ["| PPI condition | phases | episodes per phase and learner | learners | training tokens per seed | "
                 "planner decisions per seed | hours per seed |", "|---|---|---|---|---|---|---|"]
        for name, unit in units.items():
            counts = run_counts(unit, keyed)
            decisions = counts["agent_steps"] + counts["co_player_decisions"]
            per_seed[("ppi", name)] = counts["training_tokens"] / tokens_per_second + decisions / decisions_per_second
            results["ppi"][name] = dict(counts, seconds_per_seed=per_seed[("ppi", name)])
            lines.append(f"| {name} | {counts['num_units']} | {unit.config.episodes_per_phase:,} | "
                         f"{unit.condition.num_learners} | {counts['training_tokens']:.3g} | {decisions:.3g} | "
                         f"{hours(per_seed[('ppi', name)])} |")
        print("\n".join(lines) + "\n", flush=True)
    lines = ["| algorithm | experiment | conditions | hours per seed | paper's seeds | hours for the paper's seeds |",
             "|---|---|---|---|---|---|"]
    for algo in algos:
        for experiment in EXPERIMENTS.values():
            seconds = sum(per_seed[(algo, condition)] for condition in experiment.condition_names)
            seeds = PAPER_SEEDS[(algo, experiment.name)]
            results[algo].setdefault("experiments", {})[experiment.name] = {"seconds_per_seed": seconds, "seeds": seeds}
            lines.append(f"| {algo} | {experiment.name} | {', '.join(experiment.condition_names)} | {hours(seconds)} | "
                         f"{seeds} | {hours(seeds * seconds)} ({human_duration(seeds * seconds)}) |")
    print("\n".join(lines))
    print(f"\ntraining only, one seed after another on {device_name}; `ipd-coop plan` adds evaluation, checkpoints "
          f"and parallel seeds")
    return results


if __name__ == "__main__":
    main()
