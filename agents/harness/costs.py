"""What a run costs: its counts (exact, from its config) and its timings (measured on the real trainer).

:mod:`agents.harness.plan` turns these into the plan of an experiment. Per algorithm, a
*cost model* is a pair in :data:`COST_MODELS`:

* ``measure(unit, units, watch, timed_units) -> rates``: times the run's real trainer (from
  the algorithm registry, at the run's model sizes, on ``watch.device``), its evaluation and
  its records; a frozen co-player is an untrained stand-in of its condition (its cost does not
  depend on its weights), and a run that starts from another's (``init_from``) starts fresh
  (starting weights change no arithmetic; PPI's larger starting data is counted apart);
* ``project(unit, units, rates) -> {num_units, agent_steps, training_tokens, seconds, timed}``:
  the run's counts (:func:`run_counts`) and its seconds by part.

A2C: one warm-up :meth:`train_unit`, then ``timed_units`` more at the run's real batch; every
iteration costs the same. PPI: its phases grow, so the pieces are timed apart and scaled: the
pool play (the planner's collection, a whole episode: timed once per size) at ``min(episodes per
phase, PPI_TIMED_GAMES)`` games per learner and at half that, extrapolated as a fixed cost plus a cost per game
(:func:`extrapolate`); the model fit, one epoch over ``min(D_0, PPI_FIT_EPISODES)`` episodes
at the real batch size, linear in episodes x epochs; the data set's save and load, and D_0's
generation, per episode. Both: one in-training and one final evaluation (a planning learner's
above ``EVAL_TIMED_GAMES`` learner-games at two smaller sizes, extrapolated), a checkpoint as
the runner writes it with ``RECORDS_TIMED`` history rows and evaluation records (a checkpoint
holds the whole history, so its cost grows with the run, as does the evaluation curves file
rewritten after every evaluation), and the trainer's and evaluator's construction.
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch

from agents.algorithm import TrainedRun
from agents.harness.checkpoint import save_checkpoint, write_json
from agents.harness.evaluation import (
    EVALUATION_CO_PLAYERS,
    FINAL_GAMES_PER_CO_PLAYER,
    InTrainingEvaluator,
    PoolEvaluationSet,
    evaluate_learners,
)
from agents.harness.runner import Unit
from agents.pool import split_games
from agents.settings import first_non_finite

#: Training units timed after the warm-up (A2C iterations), or repeats of each timed PPI piece.
TIMED_UNITS = 2
#: Games per learner of the timed PPI pool play (the planner's cost is linear in games beyond a few dozen).
PPI_TIMED_GAMES = 32
#: Episodes of the timed PPI model fit (one epoch, the run's batch size).
PPI_FIT_EPISODES = 1024
#: Learner-games of the timed evaluation of a planning learner (PPI); A2C's is timed at its real size.
EVAL_TIMED_GAMES = 128
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
    classics = len(EVALUATION_CO_PLAYERS)
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


def run_counts(unit: Unit, units: dict) -> dict:
    """What one run does, exactly, from its config.

    Args:
        unit: the run; ``units``: ``{(condition, seed): Unit}`` of its experiment (a PPI run
            that starts from another's data counts that run's episodes).

    Returns:
        ``num_units`` (A2C iterations, PPI phases); ``agent_steps``, the trained learners'
        decisions (``num_units x episodes per learner x rounds x learners``);
        ``co_player_decisions``, those of frozen co-players (Step 2's Fixed-ICL, a model too);
        ``training_tokens``, PPI's model-fit (episode, round) pairs (``learners x epochs x rounds
        x`` the data set's size summed over phases; 0 for A2C); ``fitted_episodes``, that sum
        per learner and epoch; ``initial_episodes``, PPI's D_0 per learner.
    """
    config, condition, rounds = unit.config, unit.condition, unit.settings.num_rounds
    num_units = unit.algorithm.num_units(config)
    games = unit.episodes_per_unit
    frozen_games = split_games(condition.pool_mode, condition.num_learners, games,
                               num_frozen=1 if condition.frozen_from else 0).get("frozen", 0)
    counts = {"num_units": num_units, "agent_steps": num_units * games * rounds * condition.num_learners,
              "co_player_decisions": num_units * frozen_games * rounds * condition.num_learners,
              "training_tokens": 0, "fitted_episodes": 0, "initial_episodes": 0}
    if unit.algorithm.name == "ppi":
        initial = _ppi_initial_episodes(unit, units)
        fitted = sum(initial + phase * games for phase in range(num_units))
        counts.update(initial_episodes=initial, fitted_episodes=fitted,
                      training_tokens=condition.num_learners * config.epochs * rounds * fitted)
    return counts


# ---------------------------------------------------------------------------- timing
@dataclass(frozen=True)
class Stopwatch:
    """Times calls on one device with one clock.

    Attributes:
        device: the torch device the timed work runs on (synchronised around each call on CUDA).
        clock: seconds now: ``time.perf_counter`` (wall) or ``time.process_time`` (this
            process's CPU time, which other jobs on a shared machine do not lengthen; CPU only).
    """

    device: str = "cpu"
    clock: Callable[[], float] = time.perf_counter

    def _synchronise(self) -> None:
        if torch.device(self.device).type == "cuda":
            torch.cuda.synchronize(torch.device(self.device))

    def seconds(self, function: Callable) -> tuple:
        """``(result, seconds)`` of one call."""
        self._synchronise()
        started = self.clock()
        result = function()
        self._synchronise()
        return result, self.clock() - started

    def mean(self, function: Callable, repeats: int) -> float:
        """Mean seconds of ``repeats`` calls."""
        return sum(self.seconds(function)[1] for _ in range(repeats)) / repeats


def _stand_in(unit: Unit, device) -> TrainedRun:
    """An untrained run of ``unit``'s condition as a :class:`TrainedRun`: what a frozen co-player costs
    does not depend on its weights, so a plan needs no finished prerequisite."""
    condition = unit.condition
    trainer = unit.algorithm.make_trainer(unit.config, unit.settings, pool_mode=condition.pool_mode,
                                          num_learners=condition.num_learners, seed=unit.seed, device=device)
    return TrainedRun(config=unit.config, settings=unit.settings, pool_mode=condition.pool_mode,
                      num_learners=condition.num_learners,
                      state=trainer.state_dict(), source=f"plan: an untrained stand-in for {condition.name}")


def trainer_for(unit: Unit, config, units: dict, device):
    """The registry's trainer of ``unit`` with ``config`` (the unit's, or a smaller one to time), for
    timing: a frozen co-player is an untrained stand-in of its condition; ``init_from`` is left out."""
    condition = unit.condition
    frozen = None if condition.frozen_from is None else _stand_in(units[(condition.frozen_from, unit.seed)], device)
    # init_from is left out: starting weights (and PPI's starting data, counted apart) change no arithmetic.
    return unit.algorithm.make_trainer(config, unit.settings, pool_mode=condition.pool_mode,
                                       num_learners=condition.num_learners, seed=unit.seed, device=device,
                                       frozen_from=frozen)


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


def _time_evaluation(unit: Unit, trainer, watch: Stopwatch, max_games: Optional[int]) -> dict:
    """Seconds of the evaluator's construction, one in-training evaluation and the final evaluation,
    at the run's sizes or, above ``max_games`` learner-games (:func:`evaluation_games`), at two
    smaller sizes and extrapolated (:func:`extrapolate`)."""
    config, condition, device = unit.settings, unit.condition, watch.device
    num_learners, frozen = condition.num_learners, trainer.frozen_players()

    def build(pool_size: int, games: int):
        return InTrainingEvaluator(condition, unit.seed, config.num_rounds, config.payoffs, pool=config.pool,
                                   pool_size=pool_size, games_per_co_player=games, device=device)

    build(config.eval_pool_size, config.eval_games)  # the first call pays one-off imports
    evaluator, setup = watch.seconds(lambda: build(config.eval_pool_size, config.eval_games))
    full = evaluation_games(num_learners, config.eval_pool_size, config.eval_games)
    players, timings = trainer.players(), []
    for cap in _caps(full, max_games):
        pool_size, games, _ = _scaled_sizes(full, config.eval_pool_size, config.eval_games, cap, num_learners)
        timed_evaluator = evaluator if cap is None else build(pool_size, games)
        record, seconds = watch.seconds(lambda: timed_evaluator(players, 1))
        timings.append((evaluation_games(num_learners, pool_size, games), seconds))
    seconds = extrapolate(timings[0], timings[-1], full)
    final_full = evaluation_games(num_learners, config.eval_pool_size, FINAL_GAMES_PER_CO_PLAYER, len(frozen), True)
    timings = []
    for cap in _caps(final_full, max_games):
        pool_size, games, _ = _scaled_sizes(final_full, config.eval_pool_size, FINAL_GAMES_PER_CO_PLAYER, cap, 1)
        pool_set = PoolEvaluationSet(config.pool, pool_size, unit.seed, config.payoffs, config.num_rounds)
        timings.append((evaluation_games(num_learners, pool_size, games, len(frozen), True), watch.seconds(
            lambda: evaluate_learners(players, frozen, condition, seed=unit.seed, num_games=games,
                                      num_rounds=config.num_rounds, payoffs=config.payoffs, device=device,
                                      pool_set=pool_set))[1]))
    final = extrapolate(timings[0], timings[-1], final_full)
    return {"evaluator_setup": setup, "evaluation": seconds, "final_evaluation": final,
            "evaluation_timed_games": timings[-1][0], "evaluation_games": full, "record": record}


def _time_records(trainer, metrics: dict, record: dict, watch: Stopwatch) -> dict:
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
            started = watch.clock()
            state = trainer.state_dict()
            first_non_finite(state)
            save_checkpoint(Path(folder) / "last.pt", {"config": {}, "history": history, "eval_history": eval_history,
                                                       "wall_time_s": 0.0, "trainer": state})
            return watch.clock() - started

        checkpoint(0, 0)  # warm-up
        empty = checkpoint(0, 0)
        with_rows, with_evaluations = checkpoint(RECORDS_TIMED, 0), checkpoint(0, RECORDS_TIMED)
        curves = {"units_done": list(range(RECORDS_TIMED)),
                  **{key: [value] * RECORDS_TIMED for key, value in record.items() if key.endswith("_per_round")}}
        started = watch.clock()
        write_json(Path(folder) / "curves.json", curves)
        curves_seconds = watch.clock() - started
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


def _measure_a2c(unit: Unit, units: dict, watch: Stopwatch, timed_units: int) -> dict:
    """A2C's rates: seconds per iteration at the real batch (after a warm-up), and the shared parts."""
    device = watch.device
    trainer_for(unit, unit.config, units, device)  # the first call pays one-off imports
    trainer, setup = watch.seconds(lambda: trainer_for(unit, unit.config, units, device))
    metrics = trainer.train_unit(0)  # warm-up
    index = iter(range(1, timed_units + 1))
    per_unit = watch.mean(lambda: trainer.train_unit(next(index)), timed_units)
    evaluation = _time_evaluation(unit, trainer, watch, None)
    records = _time_records(trainer, metrics, evaluation.pop("record"), watch)
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
    return unit.episodes_per_unit


def _measure_ppi(unit: Unit, units: dict, watch: Stopwatch, timed_units: int) -> dict:
    """PPI's rates: seconds per collected episode (all learners' pool play), per fitted episode-epoch,
    per stored-and-loaded episode and per pretraining episode, and the shared parts."""
    from agents.ppi.collect import pretraining_episodes
    from agents.ppi.config import pretraining_kind
    from agents.ppi.dataset import EpisodeBatcher, EpisodeStore
    from agents.ppi.trainer import fit_model

    config, device = unit.config, watch.device
    games = _timed_games(unit, min(config.episodes_per_phase, PPI_TIMED_GAMES))
    small = dataclasses.replace(config, episodes_per_phase=games)
    trainer_for(unit, small, units, device)  # the first call pays one-off imports
    trainer, setup = watch.seconds(lambda: trainer_for(unit, small, units, device))

    half = _timed_games(unit, games // 2) if games < config.episodes_per_phase else games
    # A pool play is a whole episode of planner steps (seconds at the paper's sizes): one timing per size,
    # the smaller first, after a warm-up at the smaller size. Two sizes give the planner's fixed cost per
    # round apart from its cost per game (extrapolate).
    trainer_half = trainer_for(unit, dataclasses.replace(config, episodes_per_phase=half), units, device)

    def play(timed_trainer):
        return timed_trainer.pool.play(timed_trainer.players(), timed_trainer.pool_generator,
                                       timed_trainer.frozen_players())

    play(trainer_half)  # warm-up
    play_half = watch.seconds(lambda: play(trainer_half))[1]
    (_, metrics), play_seconds = watch.seconds(lambda: play(trainer))
    fit_episodes = max(2, min(PPI_FIT_EPISODES, _ppi_initial_episodes(unit, units)) // 2 * 2)
    generator = torch.Generator().manual_seed(unit.seed)
    kind = pretraining_kind(config, unit.condition.pool_mode)
    episodes, pretraining = watch.seconds(lambda: pretraining_episodes(fit_episodes, kind, unit.settings.num_rounds,
                                                                       generator, pool=trainer.pool.pool_distribution))
    with tempfile.TemporaryDirectory() as folder:
        store = EpisodeStore(folder, {"plan": True})
        _, input_output = watch.seconds(lambda: (store.save_phase(0, 0, episodes), store.load(0, 1)))
        loaded = store.load(0, 1)
    one_epoch = dataclasses.replace(config, epochs=1)

    def fit():
        batcher = EpisodeBatcher(loaded, unit.settings.payoffs, trainer.uses_opponent_identity, device)
        return fit_model(trainer._new_model(), batcher, one_epoch, trainer.cpu_generator)

    fit()  # warm-up
    fit_seconds = watch.mean(fit, timed_units)
    evaluation = _time_evaluation(unit, trainer, watch, EVAL_TIMED_GAMES)
    records = _time_records(trainer, metrics, evaluation.pop("record"), watch)
    return {"unit_name": trainer.unit_name, "setup": setup, "play": ((half, play_half), (games, play_seconds)),
            "timed_games": games, "fit_per_episode_epoch": fit_seconds / fit_episodes, "fit_episodes": fit_episodes,
            "input_output_per_episode": input_output / fit_episodes,
            "pretraining_per_episode": pretraining / fit_episodes, **evaluation, **records}


def _project_a2c(unit: Unit, units: dict, rates: dict) -> dict:
    """One A2C run's ``num_units``, ``agent_steps``, ``training_tokens`` (0), ``seconds`` by part and ``timed``."""
    settings, counts = unit.settings, run_counts(unit, units)
    iterations = counts["num_units"]
    eval_every = settings.evaluation_every(iterations)
    checkpoints, curves = _record_seconds(iterations, settings.checkpoint_every, eval_every, rates)
    seconds = {"setup": rates["setup"] + rates["evaluator_setup"], "training": iterations * rates["per_unit"],
               "evaluation": evaluation_count(iterations, eval_every) * rates["evaluation"] + curves,
               "checkpoints": checkpoints, "final_evaluation": rates["final_evaluation"]}
    timed = (f"iteration {rates['per_unit']:.3g} s (mean of {rates['timed_units']} after a warm-up); "
             f"evaluation {rates['evaluation']:.3g} s")
    return {"num_units": iterations, "agent_steps": counts["agent_steps"], "training_tokens": 0, "seconds": seconds,
            "timed": timed}


def _project_ppi(unit: Unit, units: dict, rates: dict) -> dict:
    """One PPI run's ``num_units``, ``agent_steps``, ``training_tokens``, ``seconds`` by part and ``timed``."""
    config, condition, counts = unit.config, unit.condition, run_counts(unit, units)
    learners, phases, per_phase = condition.num_learners, counts["num_units"], config.episodes_per_phase
    initial, fitted = counts["initial_episodes"], counts["fitted_episodes"]
    # D_0 is generated (or, for a run that starts from another's data, copied) once per learner.
    first_data = rates["input_output_per_episode"] if condition.init_from else (
        rates["pretraining_per_episode"] + rates["input_output_per_episode"])
    training = (learners * config.epochs * fitted * rates["fit_per_episode_epoch"]
                + phases * extrapolate(*rates["play"], per_phase)
                + learners * (fitted + phases * per_phase) * rates["input_output_per_episode"])
    eval_every = unit.settings.evaluation_every(phases)
    checkpoints, curves = _record_seconds(phases, unit.settings.checkpoint_every, eval_every, rates)
    seconds = {"setup": rates["setup"] + rates["evaluator_setup"] + learners * initial * first_data,
               "training": training, "evaluation": evaluation_count(phases, eval_every) * rates["evaluation"]
               + curves, "checkpoints": checkpoints, "final_evaluation": rates["final_evaluation"]}
    timed = (f"fit {1e3 * rates['fit_per_episode_epoch']:.3g} ms/episode-epoch ({rates['fit_episodes']:,} episodes, "
             f"batch {config.batch_size}); play {rates['play'][1][1]:.3g} s "
             f"({rates['timed_games']} games/learner, {rates['play'][0][1]:.3g} s at {rates['play'][0][0]}); "
             f"evaluation {rates['evaluation']:.3g} s"
             + (f" (timed at {rates['evaluation_timed_games']:,} of {rates['evaluation_games']:,} learner-games)"
                if rates["evaluation_timed_games"] < rates["evaluation_games"] else ""))
    return {"num_units": phases, "agent_steps": counts["agent_steps"], "training_tokens": counts["training_tokens"],
            "seconds": seconds, "timed": timed}


#: Algorithm name -> (measure rates, project a run from them). A new algorithm needs its cost model here.
COST_MODELS = {"a2c": (_measure_a2c, _project_a2c), "ppi": (_measure_ppi, _project_ppi)}


def cost_key(unit: Unit, device, threads: int) -> str:
    """What decides a run's timing: its algorithm, pool, learners and every setting not in :data:`COST_NEUTRAL`."""
    settings = {key: value for key, value in {**dataclasses.asdict(unit.config),
                                              **dataclasses.asdict(unit.settings)}.items()
                if key not in COST_NEUTRAL.get(unit.algorithm.name, ())}
    return json.dumps([unit.algorithm.name, unit.condition.pool_mode, unit.condition.num_learners,
                       unit.condition.frozen_from is not None, str(device), threads, settings], sort_keys=True,
                      default=str)
