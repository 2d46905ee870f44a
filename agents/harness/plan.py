"""The cost of an experiment before it runs: runs, iterations, agent-steps and the wall time on this device.

``ipd-coop plan fig1 --algo a2c --preset paper`` prints it, and ``reproduce`` / ``sweep``
print it first, so that nobody launches weeks of CPU time by accident::

    plan = make_plan("step3", algo="a2c", preset="paper", seeds=5)
    print(format_plan(plan))   # ... "estimate: the paper preset on this CPU with 1 torch thread, ...: ~2.1 months"

What it counts, exactly, from the configs the algorithm builds for each condition (nothing
here knows a preset's lengths; :func:`agents.harness.costs.run_counts`):

* **runs**: condition x seed, prerequisites included (``step3`` trains ``step1`` and ``step2``
  first, :func:`agents.harness.experiments.select_conditions`);
* **units** per run: A2C iterations, PPI phases, with the episodes each learner plays per unit;
* **agent-steps** per run: decisions of trained learners, ``units x episodes x rounds x
  learners``; PPI also counts its **training tokens**, the (episode, round) pairs its model fits
  on (its data set grows by one phase's episodes per phase; Step 3 starts from Step 2's).

What it times, once per distinct cost (runs that differ only in settings of
:data:`agents.harness.costs.COST_NEUTRAL`, e.g. learning rates, share one timing): the real
trainer from the algorithm registry at the run's real sizes, on the requested device and
thread count, with the evaluations and checkpoints the runner adds (the cost models of
:mod:`agents.harness.costs`). The wall time counts everything ``reproduce`` does per run
except the summary and plots written after the last run (seconds).

Parallel runs are scheduled as :func:`agents.harness.runner.run_unit_jobs` schedules them
(:func:`schedule_seconds`); :func:`parallel_slots` says how many run at once for the local and
Ray backends. On a CPU, more runs x threads than cores are counted as ``cores // threads``
slots; on one GPU, parallel runs are assumed not to slow each other (said in the plan's notes).

The command line's side (``ipd-coop plan``, and the plan printed at the top of ``reproduce``
and ``sweep``) is :mod:`agents.harness.cli.plan`; nothing here reads parsed arguments.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch

from agents.harness.allocator import keep_freed_memory
from agents.harness.costs import COST_MODELS, TIMED_UNITS, Stopwatch, cost_key
from agents.harness.runner import UnitError, make_units, seed_list


@dataclass(frozen=True)
class ConditionPlan:
    """The cost of one condition of an experiment (of one sweep point), per seed.

    Attributes:
        condition: its name; ``point``: the sweep grid point ("" outside a sweep).
        seeds: the seeds it runs (every seed costs the same).
        num_learners: trained learners.
        prerequisites: conditions whose runs of the same seed must finish first.
        unit_name, num_units: ``"iteration"`` (A2C) or ``"phase"`` (PPI), and how many.
        episodes_per_unit: episodes each learner plays per unit (the batch).
        num_rounds: rounds per episode.
        agent_steps: learners' decisions trained on, per seed (``num_units x episodes_per_unit x
            num_rounds x num_learners``).
        training_tokens: PPI's model-fit (episode, round) pairs per seed; 0 for A2C.
        seconds: estimated seconds per seed by part: ``setup`` (trainer, evaluator, D_0),
            ``training`` (the units), ``evaluation`` (in training), ``checkpoints``, ``final_evaluation``.
        timed: what was measured, in words, with the measured figures.
    """

    condition: str
    point: str
    seeds: tuple
    num_learners: int
    prerequisites: tuple
    unit_name: str
    num_units: int
    episodes_per_unit: int
    num_rounds: int
    agent_steps: int
    training_tokens: int
    seconds: dict
    timed: str

    @property
    def training_loop_seconds(self) -> float:
        """Training, in-training evaluation and checkpoints: what ``eval.json``'s ``wall_time_s`` measures."""
        return self.seconds["training"] + self.seconds["evaluation"] + self.seconds["checkpoints"]

    @property
    def seconds_per_seed(self) -> float:
        return float(sum(self.seconds.values()))


@dataclass(frozen=True)
class Plan:
    """The cost of an experiment (or a sweep) on one device.

    Attributes:
        experiment, algo, preset, overrides: what would run (``overrides``: ``--set``).
        device: the torch device; ``device_name``: it in words ("CPU", "NVIDIA H200").
        threads: torch threads per run.
        parallel: runs at the same time (workers, Ray slots).
        rows: one :class:`ConditionPlan` per condition (per sweep point), in run order.
        wall_seconds: estimated wall time of all runs, scheduled ``parallel`` at a time.
        notes: caveats in words (contention, what is not counted).
    """

    experiment: str
    algo: str
    preset: str
    overrides: dict
    device: str
    device_name: str
    threads: int
    parallel: int
    rows: tuple
    wall_seconds: float
    notes: tuple = ()

    @property
    def num_runs(self) -> int:
        """Runs (condition x seed, prerequisites and sweep points included)."""
        return sum(len(row.seeds) for row in self.rows)

    @property
    def agent_steps(self) -> int:
        return sum(row.agent_steps * len(row.seeds) for row in self.rows)

    @property
    def serial_seconds(self) -> float:
        """Estimated seconds with one run at a time."""
        return sum(row.seconds_per_seed * len(row.seeds) for row in self.rows)


# ---------------------------------------------------------------------------- scheduling
def parallel_slots(backend: str = "local", workers: int = 1, threads: Optional[int] = None,
                   num_cpus: Optional[int] = None, gpus_per_unit: float = 0.0, device: str = "cpu") -> int:
    """Runs at the same time: ``workers`` (local), or the Ray tasks that fit (``num_cpus // threads``,
    and ``GPUs // gpus_per_unit`` when each reserves a GPU share)."""
    if backend == "local":
        return workers
    if backend != "ray":
        raise ValueError(f"unknown backend {backend!r}; use local or ray")
    slots = max(1, (num_cpus or os.cpu_count() or 1) // (threads or 1))
    if gpus_per_unit and str(device).startswith("cuda"):
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        slots = min(slots, max(1, int(gpus / gpus_per_unit)))
    return slots


def schedule_seconds(jobs: dict, parallel: int) -> float:
    """Wall time of ``jobs`` run as :func:`agents.harness.runner.run_unit_jobs` runs them.

    Args:
        jobs: ``{key: (seconds, keys it needs)}``, in run order (prerequisites first).
        parallel: jobs at the same time.

    Returns:
        seconds from the first start to the last end: each job starts, in order, as soon as
        a slot is free and the jobs it needs are done.
    """
    now, done, running, pending = 0.0, set(), [], list(jobs)
    while pending or running:
        for key in list(pending):
            seconds, needs = jobs[key]
            if len(running) < parallel and all(need in done for need in needs):
                pending.remove(key)
                running.append((now + seconds, key))
        if not running:
            raise ValueError(f"jobs {pending} wait for jobs that are not planned")
        running.sort(key=lambda item: item[0])
        now, key = running.pop(0)
        done.add(key)
    return now


# ---------------------------------------------------------------------------- the plan
def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _device_name(device: str) -> str:
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU here; use --device cpu")
        return torch.cuda.get_device_name(torch_device)
    return torch_device.type.upper()


def make_plan(
    experiment: str,
    algo: str = "a2c",
    preset: str = "cpu-quick",
    seeds: Union[int, Sequence[int]] = 3,
    overrides: Optional[dict] = None,
    conditions: Optional[Sequence[str]] = None,
    device: str = "cpu",
    parallel: int = 1,
    threads: Optional[int] = None,
    timed_units: int = TIMED_UNITS,
    points: Optional[Sequence] = None,
    progress: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> Plan:
    """The cost plan of ``reproduce`` (or, with ``points``, of ``sweep``) on ``device``.

    Args:
        experiment, algo, preset, seeds, overrides, conditions, device: as ``run_experiment`` takes them.
        parallel: runs at the same time (``--workers``, or :func:`parallel_slots` for Ray).
        threads: torch threads per run, used while timing (default: torch's current number
            with ``parallel`` 1, else 1, as the runner does).
        timed_units: units (A2C iterations; repeats of each PPI piece) timed after a warm-up.
        points: sweep grid points, ``[(name, settings)]`` (settings on top of ``overrides``);
            every point runs every condition.
        progress: say on stderr what is being timed (it takes a few seconds per condition
            at the paper's sizes on a CPU).
        clock: what the timings read (``time.process_time`` compares CPU time, which other
            jobs on a shared machine do not lengthen; only meaningful on a CPU).

    Raises:
        ValueError: a bad name or value (one line), a device this machine lacks, an algorithm
            without a cost model.
    """
    _check_positive("parallel (workers)", parallel)
    _check_positive("timed units", timed_units)
    if threads is not None:
        _check_positive("threads", threads)
    device_name = _device_name(device)
    seeds = seed_list(seeds)
    point_list = [("", {})] if points is None else [(str(name), dict(settings)) for name, settings in points]
    units_by_point = {}
    for name, settings in point_list:
        try:
            units_by_point[name] = make_units(experiment, algo, preset, seeds, {**(overrides or {}), **settings},
                                              conditions)
        except UnitError as error:
            raise (error.at_point(name) if name else ValueError(str(error))) from None
    algorithm_name = next(iter(units_by_point[point_list[0][0]].values())).algorithm.name
    if algorithm_name not in COST_MODELS:
        raise ValueError(f"no cost model for algorithm {algorithm_name!r}; known: {', '.join(COST_MODELS)}")
    measure, project = COST_MODELS[algorithm_name]
    threads = threads or (torch.get_num_threads() if parallel == 1 else 1)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    keep_freed_memory()  # timed as a run trains (agents/harness/allocator.py)
    watch = Stopwatch(str(device), clock)
    rates_by_key, rows, jobs = {}, [], {}
    try:
        for point, _ in point_list:
            units = units_by_point[point]
            for condition in dict.fromkeys(name for name, _ in units):
                unit = units[(condition, seeds[0])]
                key = cost_key(unit, device, threads)
                if key not in rates_by_key:
                    if progress:
                        label = f"{point}: " if point else ""
                        print(f"plan: timing {algorithm_name} {label}{condition} on {device_name} "
                              f"({threads} thread{'s' if threads > 1 else ''}) ...", file=sys.stderr, flush=True)
                    with torch.random.fork_rng(devices=[]):
                        rates_by_key[key] = dict(measure(unit, units, watch, timed_units), timed_units=timed_units)
                rates = rates_by_key[key]
                rows.append(ConditionPlan(
                    condition=condition, point=point, seeds=tuple(seeds), num_learners=unit.condition.num_learners,
                    prerequisites=unit.condition.prerequisites, unit_name=rates["unit_name"],
                    episodes_per_unit=unit.episodes_per_unit, num_rounds=unit.settings.num_rounds,
                    **project(unit, units, rates)))
                for seed in seeds:
                    jobs[(point, condition, seed)] = (rows[-1].seconds_per_seed,
                                                      [(point, need, seed) for need in unit.condition.prerequisites])
    finally:
        torch.set_num_threads(previous_threads)
    notes = []
    slots = parallel
    cores = os.cpu_count() or 1
    if torch.device(device).type == "cpu" and parallel * threads > cores:
        slots = max(1, cores // threads)
        notes.append(f"{parallel} runs x {threads} threads > {cores} cores: counted as {slots} run(s) at a time")
    elif torch.device(device).type != "cpu" and parallel > 1:
        notes.append(f"{parallel} runs share one {device_name}: assumed not to slow each other (optimistic)")
    return Plan(experiment=experiment, algo=algorithm_name, preset=preset, overrides=dict(overrides or {}),
                device=str(device), device_name=device_name, threads=threads, parallel=parallel, rows=tuple(rows),
                wall_seconds=schedule_seconds(jobs, slots), notes=tuple(notes))


# ---------------------------------------------------------------------------- the table
def human_duration(seconds: float) -> str:
    """``42 s``, ``12 minutes``, ``5.2 hours``, ``4.5 days``, ``3.1 weeks``, ``7.4 months``, ``2.1 years``."""
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    for size, name, limit in ((60, "minutes", 90), (3600, "hours", 36), (86400, "days", 14), (7 * 86400, "weeks", 9),
                              (30.44 * 86400, "months", 24)):
        if seconds / size < limit:
            return f"{seconds / size:.0f} {name}" if size == 60 else f"{seconds / size:.1f} {name}"
    return f"{seconds / (365.25 * 86400):.1f} years"


def _seed_text(seeds: tuple) -> str:
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 1:
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seed" + ("s " if len(seeds) > 1 else " ") + ",".join(map(str, seeds))


def format_plan(plan: Plan) -> str:
    """The plan as a markdown table and a closing estimate in human units (minutes to years)."""
    unit = plan.rows[0].unit_name if plan.rows else "unit"
    where = (f"{plan.device_name} with {plan.threads} torch thread{'s' if plan.threads > 1 else ''}, "
             f"{plan.parallel} run{'s' if plan.parallel > 1 else ''} at a time")
    overrides = " ".join(f"{key}={value}" for key, value in plan.overrides.items())
    lines = [f"plan: {plan.experiment} with {plan.algo}, preset {plan.preset}"
             + (f" (--set {overrides})" if overrides else "")
             + (f", {_seed_text(plan.rows[0].seeds)}" if plan.rows else "") + f", on {where}", "",
             f"| condition | after | seeds | {unit}s | episodes per {unit} and learner | learners | "
             f"agent-steps per seed | time per seed | of which training | what was timed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in plan.rows:
        name = f"{row.point} / {row.condition}" if row.point else row.condition
        tokens = f" (+{row.training_tokens:.2g} training tokens)" if row.training_tokens else ""
        steps = f"{row.agent_steps:.2g}{tokens}"
        share = row.seconds["training"] / row.seconds_per_seed if row.seconds_per_seed else 0.0
        lines.append(f"| {name} | {', '.join(row.prerequisites) or '-'} | {len(row.seeds)} | {row.num_units:,} | "
                     f"{row.episodes_per_unit:,} | {row.num_learners} | {steps} | "
                     f"{human_duration(row.seconds_per_seed)} | {share:.0%} | {row.timed} |")
    lines += ["", f"total: {plan.num_runs} runs (condition x seed), {plan.agent_steps:.2g} agent-steps, "
                  f"{human_duration(plan.serial_seconds)} one run after another",
              f"estimate: the {plan.preset} preset on this {where}: ~{human_duration(plan.wall_seconds)}"]
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)
