"""The Python parts of ``benchmarks/gpu_check.sh``: CPU-vs-CUDA equivalence, a timed Step-1 run, the plans.

    python benchmarks/gpu_check.py equivalence --devices cpu,cuda    # the learning math agrees across devices
    python benchmarks/gpu_check.py step1 --device cuda --seconds 180 # paper-scale Step-1 iterations in a budget
    python benchmarks/gpu_check.py plan --device cuda                # ipd-coop's cost plan of every paper experiment

Each prints a markdown table and exits 1 with one line when a check fails.

**Equivalence.** CPU and CUDA draw from different random generators (Mersenne Twister,
Philox), so the same seed gives different games and no run can be compared number by number
across devices. Two things can, and are checked at the test preset:

* *the update*: two trainers with the same seed (same initial weights, built on the CPU) are
  fed the same games, played on the first device and copied to the second, for
  ``--iterations`` iterations; their losses and, after the last update, every weight must
  agree within ``--tolerance`` (relative, default 1e-3: float32 sums in another order, over a
  few Adam steps);
* *the rollout*: the same weights play the pool on both devices, ``--games`` games per
  learner; every pool metric (cooperation and reward per co-player kind) must agree within
  5 standard errors of the difference of two independent means.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.compilation import COMPILE_MODES, CompileFallbackWarning
from agents.harness.costs import Stopwatch, run_counts, trainer_for
from agents.harness.plan import format_plan, human_duration, make_plan
from agents.harness.runner import make_units


def _to(trajectory, device):
    """A :class:`agents.pool.LearnerTrajectory` with every tensor on ``device``."""
    return dataclasses.replace(trajectory, **{field.name: getattr(trajectory, field.name).to(device)
                                              for field in dataclasses.fields(trajectory)})


def _trainers(experiment: str, condition: str, devices, overrides: dict) -> tuple:
    units = make_units(experiment, "a2c", "test", [0], overrides)
    unit = units[(condition, 0)]
    return unit, [trainer_for(unit, unit.config, units, device) for device in devices]


def update_equivalence(devices, iterations: int, tolerance: float, experiment: str = "fig1",
                       condition: str = "mixed") -> dict:
    """Largest relative differences of the losses and of the weights of two trainers fed the same games.

    Returns ``{"loss": float, "weights": float, "rows": [(iteration, key, first, second, relative)]}``.
    """
    unit, (first, second) = _trainers(experiment, condition, devices, {})
    config = unit.config
    worst_loss, rows = 0.0, []
    for iteration in range(iterations):
        trajectories, _ = first.pool.play(first.players(), first.generator, first.frozen_players())
        for index, trajectory in enumerate(trajectories):
            losses = [trainer.update(trainer.models[index], trainer.optimizers[index], _to(trajectory, trainer.device),
                                     config.entropy_coef) for trainer in (first, second)]
            for key in losses[0]:
                a, b = float(losses[0][key]), float(losses[1][key])
                relative = abs(a - b) / max(abs(a), abs(b), 1e-6)
                worst_loss = max(worst_loss, relative)
                rows.append((iteration, f"learner {index} {key}", a, b, relative))
    worst_weight = 0.0
    for model_a, model_b in zip(first.models, second.models):
        for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
            a, b = a.detach().double().cpu(), b.detach().double().cpu()
            worst_weight = max(worst_weight, float((a - b).abs().max() / a.abs().max().clamp_min(1e-6)))
    return {"loss": worst_loss, "weights": worst_weight, "rows": rows}


def rollout_equivalence(devices, games: int, experiment: str = "fig1", condition: str = "mixed") -> list:
    """``[(metric, first, second, z)]``: pool metrics of the same weights played on both devices.

    ``z`` is the difference over its standard error, with each metric treated as a mean of
    ``games x rounds`` values of at most unit variance per game (conservative: rounds of one game
    are correlated, so the standard error uses games, not rounds).
    """
    unit, (first, second) = _trainers(experiment, condition, devices, {"games_per_learner": games})
    for model_a, model_b in zip(first.models, second.models):
        model_b.load_state_dict(model_a.state_dict())
    metrics = [trainer.pool.play(trainer.players(), trainer.generator, trainer.frozen_players())[1]
               for trainer in (first, second)]
    rows = []
    for key in sorted(metrics[0]):
        a, b = float(metrics[0][key]), float(metrics[1][key])
        spread = 3.0 if key.endswith("reward") else 1.0  # rewards lie in [-1, 2], cooperation in [0, 1]
        standard_error = spread * math.sqrt(2.0 / games)
        rows.append((key, a, b, abs(a - b) / standard_error))
    return rows


def command_equivalence(args) -> int:
    devices = [device.strip() for device in args.devices.split(",")]
    if len(devices) != 2:
        raise SystemExit(f"gpu_check equivalence: --devices takes two devices, got {args.devices!r}")
    update = update_equivalence(devices, args.iterations, args.tolerance)
    print(f"update equivalence, a2c fig1 mixed at the test preset, {args.iterations} iterations of the same games "
          f"on {devices[0]} and {devices[1]}: tolerance {args.tolerance:g} (relative)\n")
    print(f"| iteration | loss | {devices[0]} | {devices[1]} | relative difference |\n|---|---|---|---|---|")
    for iteration, key, a, b, relative in update["rows"]:
        print(f"| {iteration} | {key} | {a:.6g} | {b:.6g} | {relative:.2e} |")
    print(f"\nlargest relative difference: losses {update['loss']:.2e}, weights after the last update "
          f"{update['weights']:.2e}\n")
    rollout = rollout_equivalence(devices, args.games)
    print(f"rollout equivalence: the same weights play {args.games:,} games per learner on each device (different "
          f"random streams); limit 5 standard errors\n")
    print(f"| metric | {devices[0]} | {devices[1]} | difference / standard error |\n|---|---|---|---|")
    for key, a, b, z in rollout:
        print(f"| {key} | {a:.4f} | {b:.4f} | {z:.2f} |")
    failures = []
    if not update["loss"] <= args.tolerance or not update["weights"] <= args.tolerance:
        failures.append(f"updates differ by {max(update['loss'], update['weights']):.2e} > {args.tolerance:g}")
    failures += [f"{key} differs by {z:.1f} standard errors" for key, _, _, z in rollout if not z <= 5.0]
    if failures:
        print(f"gpu_check equivalence: FAILED: {'; '.join(failures)}", file=sys.stderr)
        return 1
    print("\nequivalence: passed")
    return 0


def command_step1(args) -> int:
    """As many Step-1 iterations at the preset's batch as fit in ``--seconds``; their speed and metrics."""
    units = make_units("step1", "a2c", args.preset, [0], overrides={"compile": args.compile})
    unit = units[("step1", 0)]
    watch = Stopwatch(args.device)
    trainer = trainer_for(unit, unit.config, units, args.device)
    counts = run_counts(unit, units)
    rows, started, iteration = [], time.perf_counter(), 0
    print(f"  step1: training for {args.seconds:g} s on {args.device} (compile={args.compile}) ...", file=sys.stderr,
          flush=True)
    with warnings.catch_warnings(record=True) as fallbacks:
        warnings.simplefilter("always", CompileFallbackWarning)
        # at least two: the first warms up (and compiles), the timing is of the others
        while (time.perf_counter() - started < args.seconds or iteration < 2) and iteration < counts["num_units"]:
            metrics, seconds = watch.seconds(lambda: trainer.train_unit(iteration))
            rows.append((iteration, seconds, metrics))
            iteration += 1
    fallbacks = [str(item.message) for item in fallbacks if issubclass(item.category, CompileFallbackWarning)]
    timed = [seconds for _, seconds, _ in rows[1:]] or [rows[0][1]]  # the first iteration warms up (and compiles)
    per_iteration = sum(timed) / len(timed)
    total = counts["num_units"] * per_iteration
    elapsed = time.perf_counter() - started
    print(f"a2c step1, preset {args.preset} ({unit.episodes_per_unit:,} episodes per iteration, "
          f"{counts['num_units']:,} iterations), {args.device}, compile={args.compile}: {len(rows)} iterations in "
          f"{elapsed:.0f} s (budget {args.seconds:g} s; training only, no evaluation or checkpoints; the first "
          f"iteration took {rows[0][1]:.1f} s)\n")
    for message in fallbacks:
        print(f"compile fell back: {message}\n")
    print(f"| iterations done | ms per iteration (after the first) | agent-steps/s | projected {counts['num_units']:,} "
          f"iterations |\n|---|---|---|---|")
    rate = unit.episodes_per_unit * unit.settings.num_rounds / per_iteration
    print(f"| {len(rows)} | {1e3 * per_iteration:,.1f} | {rate:,.0f} | {human_duration(total)} |\n")
    keys = [key for key in ("learner_vs_tabular/reward", "learner_vs_tabular/cooperation", "loss/entropy")
            if key in rows[0][2]]
    print("| iteration | ms | " + " | ".join(keys) + " |\n|---|---|" + "---|" * len(keys))
    shown = sorted({0, len(rows) - 1, *range(0, len(rows), max(1, len(rows) // 20))})
    for index in shown:
        number, seconds, metrics = rows[index]
        print(f"| {number} | {1e3 * seconds:,.1f} | " + " | ".join(f"{float(metrics[key]):.4g}" for key in keys) + " |")
    return 0


def command_plan(args) -> int:
    """The plans of fig1 and step3 (whose rows hold step1 and step2) for both algorithms at the paper's seeds."""
    for algo in ("a2c", "ppi"):
        for experiment in ("fig1", "step3"):
            seeds = {"fig1": 10}.get(experiment, 5 if algo == "a2c" else 10)
            print(format_plan(make_plan(experiment, algo, args.preset, seeds=seeds, device=args.device,
                                        timed_units=args.timed_units)) + "\n", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    equivalence = commands.add_parser("equivalence", help="CPU-vs-CUDA equivalence at the test preset")
    equivalence.add_argument("--devices", default="cpu,cuda", help="the two devices (default cpu,cuda)")
    equivalence.add_argument("--iterations", type=int, default=5, help="updates compared (default 5)")
    equivalence.add_argument("--tolerance", type=float, default=1e-3, help="relative tolerance (default 1e-3)")
    equivalence.add_argument("--games", type=int, default=8192, help="rollout games per learner (default 8,192)")
    equivalence.set_defaults(handler=command_equivalence)
    step1 = commands.add_parser("step1", help="paper-scale Step-1 iterations within a time budget")
    step1.add_argument("--device", default="cuda")
    step1.add_argument("--seconds", type=float, default=180.0, help="the budget (default 180 s)")
    step1.add_argument("--preset", default="paper", help="preset (default paper; test for a dry run)")
    step1.add_argument("--compile", default="off", choices=COMPILE_MODES,
                       help="the run setting compile (default off; reduce-overhead: CUDA graphs)")
    step1.set_defaults(handler=command_step1)
    plan = commands.add_parser("plan", help="the cost plan of every paper experiment at the paper's seed counts")
    plan.add_argument("--device", default="cuda")
    plan.add_argument("--preset", default="paper")
    plan.add_argument("--timed-units", type=int, default=2)
    plan.set_defaults(handler=command_plan)
    args = parser.parse_args(argv)
    for device in getattr(args, "devices", getattr(args, "device", "cpu")).split(","):
        if device.strip().startswith("cuda") and not torch.cuda.is_available():
            raise SystemExit(f"gpu_check {args.command}: {device.strip()} asked for, but torch sees no CUDA GPU here")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
