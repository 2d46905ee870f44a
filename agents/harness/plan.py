"""The cost of an experiment before it runs: runs, iterations, agent-steps and the wall time on this device.

``ipd-coop plan fig1 --algo a2c --preset paper`` prints it, and ``reproduce`` / ``sweep``
print it first, so that nobody launches weeks of CPU time by accident::

    plan = make_plan("step3", algo="a2c", preset="paper", seeds=5)
    print(format_plan(plan))      # ... "the paper preset on this CPU (1 torch thread): ~2 months"

What it counts (exact, from the configs the algorithm builds for each condition; nothing here
knows a preset's lengths):

* **runs**: condition x seed, prerequisites included (``step3`` trains ``step1`` and ``step2``
  first, :func:`agents.harness.experiments.select_conditions`);
* **units** per run: A2C iterations, PPI phases, with the episodes each learner plays per unit;
* **agent-steps** per run: decisions of trained learners, ``units x episodes x rounds x
  learners``; PPI also counts its **training tokens**, the (episode, round) pairs its model fits
  on, ``learners x epochs x rounds x sum over phases of the data set's size`` (the data set
  grows by one phase's episodes per phase; Step 3 starts from Step 2's whole data set).

What it times, once per distinct cost (the real trainer from the algorithm registry, at the
run's real model sizes, on the requested device and thread count):

* **A2C**: one warm-up :meth:`train_unit`, then ``timed_units`` more at the run's real batch;
  every iteration costs the same, so a run is ``iterations x`` their mean;
* **PPI**: its phases grow, so the pieces are timed apart and scaled: the pool play (the
  planner's collection) at ``min(episodes per phase, PPI_TIMED_GAMES)`` games per learner and
  at half that, extrapolated as a fixed cost plus a cost per game (:func:`extrapolate`); the
  model fit, one epoch over ``min(D_0, PPI_FIT_EPISODES)`` episodes at the real batch size,
  linear in episodes x epochs; the data set's save and load, and D_0's generation, per episode;
* **both**: one in-training evaluation and one final evaluation of the trainer's players (a
  planning learner's above ``EVAL_TIMED_GAMES`` learner-games at two smaller sizes,
  extrapolated); a checkpoint as the runner writes it, with ``RECORDS_TIMED`` history rows and
  evaluation records (a checkpoint holds the whole history, so its cost grows with the run, and
  so does the evaluation curves file rewritten after every evaluation); the trainer's and the
  evaluator's construction.

Parallel runs: the runs are scheduled as :func:`agents.harness.runner.run_unit_jobs` does
(in order, each once its prerequisites of the same seed are done, at most ``parallel`` at a
time), with each run's estimated duration; :func:`parallel_slots` says how many run at once
for the local and Ray backends. On a CPU, more runs x threads than cores are counted as
``cores // threads`` slots. The summary and plots written after the last run (seconds) are
not included.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import torch

from agents.algorithm import TrainedRun
from agents.harness.checkpoint import save_checkpoint, write_json
from agents.harness.evaluation import (
    EVALUATION_COPLAYERS,
    FINAL_GAMES_PER_COPLAYER,
    InTrainingEvaluator,
    PoolEvaluationSet,
    evaluate_learners,
)
from agents.harness.runner import Unit, make_units, seed_list
from agents.pool import split_games
from agents.settings import first_non_finite

#: Training units timed after the warm-up (A2C iterations), or repeats of each timed PPI piece.
TIMED_UNITS = 2
#: Games per learner of the timed PPI pool play (the planner's cost is linear in games beyond a few dozen).
PPI_TIMED_GAMES = 32
#: Episodes of the timed PPI model fit (one epoch, the run's batch size).
PPI_FIT_EPISODES = 1024
#: Learner-games of the timed evaluation of a planning learner (PPI); A2C's is timed at its real size.
EVAL_TIMED_GAMES = 256
#: History rows and evaluation records of the timed checkpoints (their cost per record is extrapolated).
RECORDS_TIMED = 200
#: Settings that change the numbers a run computes but not its amount of arithmetic: runs that
#: differ only in these share one timing (a sweep over learning rates is timed once per condition).
COST_NEUTRAL = {
    "a2c": ("num_iterations", "learning_rate", "adam_eps", "gamma", "gae_lambda", "entropy_coef",
            "entropy_schedule", "entropy_floor", "value_coef", "reward_scale", "max_grad_norm", "payoffs", "pool",
            "checkpoint_every", "eval_every"),
    "ppi": ("num_phases", "learning_rate", "weight_decay", "adam_betas", "max_grad_norm", "beta", "discount",
            "payoffs", "pool", "checkpoint_every", "eval_every", "pretraining_episodes", "epochs"),
}


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


# ---------------------------------------------------------------------------- counting
def evaluation_count(num_units: int, eval_every: int) -> int:
    """In-training evaluations of a run: after every ``eval_every`` units and after the last one."""
    return num_units // eval_every + (1 if num_units % eval_every else 0)


def evaluation_games(num_learners: int, pool_size: int, games: int, num_frozen: int = 0, final: bool = False) -> int:
    """Learner-games of one evaluation (a game counts once per trained or frozen model playing in it).

    In training (:class:`agents.harness.evaluation.InTrainingEvaluator`) the learners share the
    pool set and play ``games`` against each classic and one cycle of learner pairs; the final
    evaluation (:func:`agents.harness.evaluation.evaluate_learners`) has every learner play the
    whole set, ``games`` against each classic, the next learner and each frozen player.
    """
    classics = len(EVALUATION_COPLAYERS)
    if final:
        pairs = num_learners if num_learners > 1 else 0
        return num_learners * (pool_size + classics * games) + 2 * games * (pairs + num_learners * num_frozen)
    pairs = 0 if num_learners == 1 else 1 if num_learners == 2 else num_learners
    return pool_size + num_learners * classics * games + 2 * games * pairs


def _ppi_initial_episodes(unit: Unit, units: dict) -> int:
    """Episodes of a PPI run's D_0 per learner: the pretraining set, or the whole data set of the run it starts from."""
    source = unit.condition.init_from
    if source is None:
        return unit.config.pretraining_episodes
    parent = units[(source, unit.seed)]
    return _ppi_initial_episodes(parent, units) + parent.config.num_phases * parent.config.episodes_per_phase


# ---------------------------------------------------------------------------- timing
#: The clock of every timing; :func:`make_plan` sets it for the duration of one plan (its ``clock``).
_clock: Callable[[], float] = time.perf_counter


def _seconds(function: Callable, device: torch.device):
    """``(result, seconds)`` of one call by :data:`_clock`, the device synchronised around it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = _clock()
    result = function()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, _clock() - started


def _mean_seconds(function: Callable, repeats: int, device: torch.device) -> float:
    return sum(_seconds(function, device)[1] for _ in range(repeats)) / repeats


def _stand_in(unit: Unit, device) -> TrainedRun:
    """An untrained run of ``unit``'s condition as a :class:`TrainedRun`: what a frozen co-player costs
    does not depend on its weights, so a plan needs no finished prerequisite."""
    condition = unit.condition
    trainer = unit.algorithm.make_trainer(unit.config, pool_mode=condition.pool_mode,
                                          num_learners=condition.num_learners, seed=unit.seed, device=device)
    return TrainedRun(config=unit.config, pool_mode=condition.pool_mode, num_learners=condition.num_learners,
                      state=trainer.state_dict(), source=f"plan: an untrained stand-in for {condition.name}")


def _make_trainer(unit: Unit, config, units: dict, device):
    condition = unit.condition
    frozen = None if condition.frozen_from is None else _stand_in(units[(condition.frozen_from, unit.seed)], device)
    # init_from is left out: starting weights (and PPI's starting data, counted apart) change no arithmetic.
    return unit.algorithm.make_trainer(config, pool_mode=condition.pool_mode, num_learners=condition.num_learners,
                                       seed=unit.seed, device=device, frozen_from=frozen)


def extrapolate(small: tuple, large: tuple, target: float) -> float:
    """Seconds at size ``target`` from two timings ``(size, seconds)``, as fixed cost + cost per size.

    A fixed per-call cost (Python and kernel launches per round) makes a small batch cost
    more per game than a large one; a straight line through two sizes keeps it fixed. The
    slope is taken >= 0 and the result >= the larger timing, so timing noise cannot make a
    bigger batch cheaper.
    """
    (small_size, small_seconds), (large_size, large_seconds) = small, large
    if target <= large_size or large_size <= small_size:
        return large_seconds * target / large_size
    slope = max(0.0, (large_seconds - small_seconds) / (large_size - small_size))
    return max(large_seconds, large_seconds + slope * (target - large_size))


def _scaled_sizes(full_games: int, pool_size: int, games: int, max_games: Optional[int], minimum_pool: int) -> tuple:
    """``(pool_size, games, fraction)`` of an evaluation shrunk to about ``max_games`` learner-games (None: as is)."""
    if max_games is None or full_games <= max_games:
        return pool_size, games, 1.0
    fraction = max_games / full_games
    return max(minimum_pool, round(pool_size * fraction)), max(1, round(games * fraction)), fraction


def _caps(full: int, max_games: Optional[int]) -> tuple:
    """The sizes to time at: the real one (None) when it is at most ``max_games``, else two below it."""
    return (max_games // 2, max_games) if max_games is not None and full > max_games else (None,)


def _time_evaluation(unit: Unit, trainer, device, max_games: Optional[int]) -> dict:
    """Seconds of the evaluator's construction, one in-training evaluation and the final evaluation,
    at the run's sizes or, above ``max_games`` learner-games (:func:`evaluation_games`), at two
    smaller sizes and extrapolated (:func:`extrapolate`)."""
    config, condition, torch_device = unit.config, unit.condition, torch.device(device)
    num_learners, frozen = condition.num_learners, trainer.frozen_players()

    def build(pool_size: int, games: int):
        return InTrainingEvaluator(condition, unit.seed, config.num_rounds, config.payoffs, pool=config.pool,
                                   pool_size=pool_size, games_per_coplayer=games, device=device)

    build(config.eval_pool_size, config.eval_games)  # the first call pays one-off imports
    evaluator, setup = _seconds(lambda: build(config.eval_pool_size, config.eval_games), torch_device)
    full = evaluation_games(num_learners, config.eval_pool_size, config.eval_games)
    players, timings = trainer.players(), []
    for cap in _caps(full, max_games):
        pool_size, games, _ = _scaled_sizes(full, config.eval_pool_size, config.eval_games, cap, num_learners)
        timed_evaluator = evaluator if cap is None else build(pool_size, games)
        record, seconds = _seconds(lambda: timed_evaluator(players, 1), torch_device)
        timings.append((evaluation_games(num_learners, pool_size, games), seconds))
    seconds = extrapolate(timings[0], timings[-1], full)
    final_full = evaluation_games(num_learners, config.eval_pool_size, FINAL_GAMES_PER_COPLAYER, len(frozen), True)
    timings = []
    for cap in _caps(final_full, max_games):
        pool_size, games, _ = _scaled_sizes(final_full, config.eval_pool_size, FINAL_GAMES_PER_COPLAYER, cap, 1)
        pool_set = PoolEvaluationSet(config.pool, pool_size, unit.seed, config.payoffs, config.num_rounds)
        timings.append((evaluation_games(num_learners, pool_size, games, len(frozen), True), _seconds(
            lambda: evaluate_learners(players, frozen, condition, seed=unit.seed, num_games=games,
                                      num_rounds=config.num_rounds, payoffs=config.payoffs, device=device,
                                      pool_set=pool_set), torch_device)[1]))
    final = extrapolate(timings[0], timings[-1], final_full)
    return {"evaluator_setup": setup, "evaluation": seconds, "final_evaluation": final,
            "evaluation_timed_games": timings[-1][0], "evaluation_games": full, "record": record}


def _time_records(trainer, metrics: dict, record: dict) -> dict:
    """Seconds of what the runner writes besides training, as it writes them.

    A checkpoint (state scan included) holds the whole metrics history and every evaluation
    record so far, so its cost is ``checkpoint + checkpoint_per_row x units done +
    checkpoint_per_evaluation x evaluations done``; the evaluation curves file is rewritten
    after every evaluation with all of them (``curves_per_evaluation`` x evaluations done).
    """
    def copies(count: int, item: dict) -> list:  # distinct objects, as a run's records are (pickle shares repeats)
        return [json.loads(json.dumps(item)) for _ in range(count)]

    with tempfile.TemporaryDirectory() as folder:
        def checkpoint(rows: int, evaluations: int) -> float:
            history, eval_history = copies(rows, dict(metrics, unit=0, wall_time_s=0.0)), copies(evaluations, record)
            started = _clock()
            state = trainer.state_dict()
            first_non_finite(state)
            save_checkpoint(Path(folder) / "last.pt", {"config": {}, "history": history, "eval_history": eval_history,
                                                       "wall_time_s": 0.0, "trainer": state})
            return _clock() - started

        checkpoint(0, 0)  # warm-up
        empty = checkpoint(0, 0)
        with_rows, with_evaluations = checkpoint(RECORDS_TIMED, 0), checkpoint(0, RECORDS_TIMED)
        curves = {"units_done": list(range(RECORDS_TIMED)),
                  **{key: [value] * RECORDS_TIMED for key, value in record.items() if key.endswith("_per_round")}}
        started = _clock()
        write_json(Path(folder) / "curves.json", curves)
        curves_seconds = _clock() - started
    return {"checkpoint": empty, "checkpoint_per_row": max(0.0, with_rows - empty) / RECORDS_TIMED,
            "checkpoint_per_evaluation": max(0.0, with_evaluations - empty) / RECORDS_TIMED,
            "curves_per_evaluation": curves_seconds / RECORDS_TIMED}


def _record_seconds(num_units: int, checkpoint_every: int, eval_every: int, rates: dict) -> tuple:
    """``(checkpoints, curve files)``: seconds of all checkpoints of a run (every ``checkpoint_every``
    units, the last one, and ``final.pt``) and of all rewrites of its evaluation curves file."""
    saved = sorted({*range(checkpoint_every, num_units + 1, checkpoint_every), num_units}) + [num_units]
    checkpoints = sum(rates["checkpoint"] + rates["checkpoint_per_row"] * done
                      + rates["checkpoint_per_evaluation"] * evaluation_count(done, eval_every) for done in saved)
    evaluations = evaluation_count(num_units, eval_every)
    return checkpoints, rates["curves_per_evaluation"] * evaluations * (evaluations + 1) / 2


def _measure_a2c(unit: Unit, units: dict, device, timed_units: int) -> dict:
    """A2C's rates: seconds per iteration at the real batch (after a warm-up), and the shared parts."""
    torch_device = torch.device(device)
    _make_trainer(unit, unit.config, units, device)  # the first call pays one-off imports
    trainer, setup = _seconds(lambda: _make_trainer(unit, unit.config, units, device), torch_device)
    metrics = trainer.train_unit(0)  # warm-up
    index = iter(range(1, timed_units + 1))
    per_unit = _mean_seconds(lambda: trainer.train_unit(next(index)), timed_units, torch_device)
    evaluation = _time_evaluation(unit, trainer, device, None)
    records = _time_records(trainer, metrics, evaluation.pop("record"))
    return {"unit_name": trainer.unit_name, "setup": setup, "per_unit": per_unit, **evaluation, **records}


def _timed_games(unit: Unit, games: int) -> int:
    """The largest games-per-learner <= ``games`` that the condition's pool mode can split."""
    condition = unit.condition
    for candidate in range(games, 0, -1):
        try:
            split_games(condition.pool_mode, condition.num_learners, candidate,
                        num_frozen=1 if condition.frozen_from else 0)
            return candidate
        except ValueError:
            continue
    return unit.config.games_per_learner


def _measure_ppi(unit: Unit, units: dict, device, timed_units: int) -> dict:
    """PPI's rates: seconds per collected episode (all learners' pool play), per fitted episode-epoch,
    per stored-and-loaded episode and per pretraining episode, and the shared parts."""
    from agents.ppi.collect import pretraining_episodes
    from agents.ppi.config import pretraining_kind
    from agents.ppi.dataset import EpisodeBatcher, EpisodeStore
    from agents.ppi.trainer import fit_model

    config, torch_device = unit.config, torch.device(device)
    games = _timed_games(unit, min(config.episodes_per_phase, PPI_TIMED_GAMES))
    small = dataclasses.replace(config, episodes_per_phase=games)
    _make_trainer(unit, small, units, device)  # the first call pays one-off imports
    trainer, setup = _seconds(lambda: _make_trainer(unit, small, units, device), torch_device)

    def play():
        return trainer.pool.play(trainer.players(), trainer.pool_generator, trainer.frozen_players())

    _, metrics = play()  # warm-up
    play_seconds = _mean_seconds(play, timed_units, torch_device)
    half = _timed_games(unit, games // 2) if games < config.episodes_per_phase else games
    if half < games:  # a second, smaller batch gives the planner's fixed cost per round (extrapolate)
        trainer_half = _make_trainer(unit, dataclasses.replace(config, episodes_per_phase=half), units, device)
        play_half = _mean_seconds(lambda: trainer_half.pool.play(trainer_half.players(), trainer_half.pool_generator,
                                                                 trainer_half.frozen_players()),
                                  timed_units, torch_device)
    else:
        play_half = play_seconds * half / games
    fit_episodes = max(2, min(PPI_FIT_EPISODES, _ppi_initial_episodes(unit, units)) // 2 * 2)
    generator = torch.Generator().manual_seed(unit.seed)
    kind = pretraining_kind(config, unit.condition.pool_mode)
    episodes, pretraining = _seconds(lambda: pretraining_episodes(fit_episodes, kind, config.num_rounds, generator,
                                                                  pool=trainer.pool.pool_distribution),
                                     torch.device("cpu"))
    with tempfile.TemporaryDirectory() as folder:
        store = EpisodeStore(folder, {"plan": True})
        _, input_output = _seconds(lambda: (store.save_phase(0, 0, episodes), store.load(0, 1)), torch.device("cpu"))
        loaded = store.load(0, 1)
    one_epoch = dataclasses.replace(config, epochs=1)

    def fit():
        batcher = EpisodeBatcher(loaded, config.payoffs, trainer.uses_identity, device)
        return fit_model(trainer._new_model(), batcher, one_epoch, trainer.cpu_generator)

    fit()  # warm-up
    fit_seconds = _mean_seconds(fit, timed_units, torch_device)
    evaluation = _time_evaluation(unit, trainer, device, EVAL_TIMED_GAMES)
    records = _time_records(trainer, metrics, evaluation.pop("record"))
    return {"unit_name": trainer.unit_name, "setup": setup, "play": ((half, play_half), (games, play_seconds)),
            "timed_games": games, "fit_per_episode_epoch": fit_seconds / fit_episodes, "fit_episodes": fit_episodes,
            "input_output_per_episode": input_output / fit_episodes,
            "pretraining_per_episode": pretraining / fit_episodes, **evaluation, **records}


def _project_a2c(unit: Unit, units: dict, rates: dict) -> dict:
    """One A2C run's ``num_units``, ``agent_steps``, ``training_tokens`` (0), ``seconds`` by part and ``timed``."""
    config, condition = unit.config, unit.condition
    iterations = config.num_iterations
    eval_every = config.eval_every or max(1, iterations // 25)  # A2CTrainer's rule: ~25 evaluations per run
    steps = iterations * config.games_per_learner * config.num_rounds * condition.num_learners
    checkpoints, curves = _record_seconds(iterations, config.checkpoint_every, eval_every, rates)
    seconds = {"setup": rates["setup"] + rates["evaluator_setup"], "training": iterations * rates["per_unit"],
               "evaluation": evaluation_count(iterations, eval_every) * rates["evaluation"] + curves,
               "checkpoints": checkpoints, "final_evaluation": rates["final_evaluation"]}
    timed = (f"iteration {rates['per_unit']:.3g} s (mean of {rates['timed_units']} after a warm-up); "
             f"evaluation {rates['evaluation']:.3g} s")
    return {"num_units": iterations, "agent_steps": steps, "training_tokens": 0, "seconds": seconds, "timed": timed}


def _project_ppi(unit: Unit, units: dict, rates: dict) -> dict:
    """One PPI run's ``num_units``, ``agent_steps``, ``training_tokens``, ``seconds`` by part and ``timed``."""
    config, condition = unit.config, unit.condition
    learners, phases, per_phase = condition.num_learners, config.num_phases, config.episodes_per_phase
    initial = _ppi_initial_episodes(unit, units)
    fitted = sum(initial + phase * per_phase for phase in range(phases))  # episodes per learner, summed over phases
    tokens = learners * config.epochs * config.num_rounds * fitted
    steps = phases * per_phase * config.num_rounds * learners
    # D_0 is generated (or, for a run that starts from another's data, copied) once per learner.
    first_data = rates["input_output_per_episode"] if condition.init_from else (
        rates["pretraining_per_episode"] + rates["input_output_per_episode"])
    training = (learners * config.epochs * fitted * rates["fit_per_episode_epoch"]
                + phases * extrapolate(*rates["play"], per_phase)
                + learners * (fitted + phases * per_phase) * rates["input_output_per_episode"])
    checkpoints, curves = _record_seconds(phases, config.checkpoint_every, config.eval_every, rates)
    seconds = {"setup": rates["setup"] + rates["evaluator_setup"] + learners * initial * first_data,
               "training": training, "evaluation": evaluation_count(phases, config.eval_every) * rates["evaluation"]
               + curves, "checkpoints": checkpoints, "final_evaluation": rates["final_evaluation"]}
    timed = (f"fit {1e3 * rates['fit_per_episode_epoch']:.3g} ms/episode-epoch ({rates['fit_episodes']:,} episodes, "
             f"batch {config.batch_size}); play {rates['play'][1][1]:.3g} s "
             f"({rates['timed_games']} games/learner, {rates['play'][0][1]:.3g} s at {rates['play'][0][0]}); evaluation {rates['evaluation']:.3g} s"
             + (f" (timed at {rates['evaluation_timed_games']:,} of {rates['evaluation_games']:,} learner-games)"
                if rates["evaluation_timed_games"] < rates["evaluation_games"] else ""))
    return {"num_units": phases, "agent_steps": steps, "training_tokens": tokens, "seconds": seconds, "timed": timed}


#: Algorithm name -> (measure rates, project a run from them). A new algorithm needs its cost model here.
COST_MODELS = {"a2c": (_measure_a2c, _project_a2c), "ppi": (_measure_ppi, _project_ppi)}


def _cost_key(unit: Unit, device, threads: int) -> str:
    """What decides a run's timing: its algorithm, pool, learners and every setting not in :data:`COST_NEUTRAL`."""
    settings = {key: value for key, value in dataclasses.asdict(unit.config).items()
                if key not in COST_NEUTRAL.get(unit.algorithm.name, ())}
    return json.dumps([unit.algorithm.name, unit.condition.pool_mode, unit.condition.num_learners,
                       unit.condition.frozen_from is not None, str(device), threads, settings], sort_keys=True,
                      default=str)


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
        except (ValueError, TypeError) as error:
            raise ValueError(f"grid point {name}: {error}" if name else str(error)) from None
    algorithm_name = next(iter(units_by_point[point_list[0][0]].values())).algorithm.name
    if algorithm_name not in COST_MODELS:
        raise ValueError(f"no cost model for algorithm {algorithm_name!r}; known: {', '.join(COST_MODELS)}")
    measure, project = COST_MODELS[algorithm_name]
    threads = threads or (torch.get_num_threads() if parallel == 1 else 1)
    global _clock
    previous_threads, previous_clock = torch.get_num_threads(), _clock
    torch.set_num_threads(threads)
    _clock = clock
    rates_by_key, rows, jobs = {}, [], {}
    try:
        for point, _ in point_list:
            units = units_by_point[point]
            for condition in dict.fromkeys(name for name, _ in units):
                unit = units[(condition, seeds[0])]
                key = _cost_key(unit, device, threads)
                if key not in rates_by_key:
                    if progress:
                        label = f"{point}: " if point else ""
                        print(f"plan: timing {algorithm_name} {label}{condition} on {device_name} "
                              f"({threads} thread{'s' if threads > 1 else ''}) ...", file=sys.stderr, flush=True)
                    with torch.random.fork_rng(devices=[]):
                        rates_by_key[key] = dict(measure(unit, units, device, timed_units), timed_units=timed_units)
                rates = rates_by_key[key]
                rows.append(ConditionPlan(
                    condition=condition, point=point, seeds=tuple(seeds), num_learners=unit.condition.num_learners,
                    prerequisites=unit.condition.prerequisites, unit_name=rates["unit_name"],
                    episodes_per_unit=unit.config.games_per_learner, num_rounds=unit.config.num_rounds,
                    **project(unit, units, rates)))
                for seed in seeds:
                    jobs[(point, condition, seed)] = (rows[-1].seconds_per_seed,
                                                      [(point, need, seed) for need in unit.condition.prerequisites])
    finally:
        torch.set_num_threads(previous_threads)
        _clock = previous_clock
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
        steps = f"{row.agent_steps:.2g}" + (f" (+{row.training_tokens:.2g} training tokens)" if row.training_tokens else "")
        share = row.seconds["training"] / row.seconds_per_seed if row.seconds_per_seed else 0.0
        lines.append(f"| {name} | {', '.join(row.prerequisites) or '-'} | {len(row.seeds)} | {row.num_units:,} | "
                     f"{row.episodes_per_unit:,} | {row.num_learners} | {steps} | "
                     f"{human_duration(row.seconds_per_seed)} | {share:.0%} | {row.timed} |")
    lines += ["", f"total: {plan.num_runs} runs (condition x seed), {plan.agent_steps:.2g} agent-steps, "
                  f"{human_duration(plan.serial_seconds)} one run after another",
              f"estimate: the {plan.preset} preset on this {where}: ~{human_duration(plan.wall_seconds)}"]
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the command line
def add_plan_arguments(parser) -> None:
    """The arguments of ``ipd-coop plan``: ``reproduce``'s (what would run, and how in parallel) and ``--timed-units``."""
    from agents.harness.algorithms import ALGORITHMS
    from agents.harness.cli import positive_int, torch_device
    from agents.harness.experiments import EXPERIMENTS, PRESET_NAMES

    parser.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which experiment (as in reproduce)")
    parser.add_argument("--algo", default="a2c", type=str.lower, choices=sorted(ALGORITHMS),
                        help="learning algorithm (default a2c)")
    parser.add_argument("--preset", default="cpu-quick", help=f"budget: {', '.join(PRESET_NAMES)} (default cpu-quick)")
    parser.add_argument("--seeds", type=positive_int, default=3, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument("--conditions", help="comma-separated subset of the conditions (prerequisites are added)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one hyperparameter "
                        "(repeatable), as in reproduce")
    parser.add_argument("--device", default="cpu", type=torch_device, help="device to time on: cpu or cuda (default cpu)")
    parser.add_argument("--backend", default="local", choices=("local", "ray"), help="how the runs would be "
                        "scheduled (default local)")
    parser.add_argument("--workers", type=positive_int, default=1, help="local backend: runs at the same time (default 1)")
    parser.add_argument("--threads", type=positive_int, help="torch threads per run (default: 1 with --workers > 1, "
                        "else torch's)")
    parser.add_argument("--num-cpus", type=positive_int, help="Ray backend: CPUs (default: all of this machine)")
    parser.add_argument("--gpus-per-unit", type=float, default=0.0, help="Ray backend: GPU share per run (default 0)")
    parser.add_argument("--timed-units", type=positive_int, default=TIMED_UNITS,
                        help=f"training units timed after a warm-up per distinct condition (default {TIMED_UNITS})")


def plan_from_args(args) -> Plan:
    """The plan of what ``args`` would run: ``plan``'s, ``reproduce``'s or ``sweep``'s parsed arguments
    (a sweep's ``--grid`` makes one row per point and condition). Progress goes to stderr unless ``--quiet``."""
    from agents.harness.cli import parse_overrides

    points = None
    grid = getattr(args, "grid", None)
    if grid:
        from agents.harness.sweep import grid_points, parse_grid

        points = [(point.name, point.settings) for point in grid_points(parse_grid(grid))]
    threads = getattr(args, "threads", None)
    backend = getattr(args, "backend", "local")
    gpus = getattr(args, "gpus_per_unit", None) or getattr(args, "gpus_per_point", 0.0) or 0.0
    parallel = parallel_slots(backend, getattr(args, "workers", 1) or 1, threads, getattr(args, "num_cpus", None),
                              gpus, args.device)
    conditions = getattr(args, "conditions", None)
    return make_plan(args.experiment, algo=args.algo, preset=args.preset, seeds=args.seeds,
                     overrides=parse_overrides(getattr(args, "set", None)),
                     conditions=conditions.split(",") if conditions else None, device=args.device,
                     parallel=parallel, threads=threads, timed_units=getattr(args, "timed_units", TIMED_UNITS),
                     points=points, progress=not getattr(args, "quiet", False))


def print_plan_header(args) -> None:
    """Print the plan of a ``reproduce`` or ``sweep`` command before it starts (it refuses nothing)."""
    print(format_plan(plan_from_args(args)) + "\n", flush=True)


def command_plan(args) -> int:
    """``ipd-coop plan``: print the plan; runs nothing."""
    print(format_plan(plan_from_args(args)))
    return 0
