"""The run loop shared by every algorithm: one unit of work into its folder, and whole experiments.

Library functions, used by the CLI, the sweep and the Ray backend:

* :func:`run_unit` trains one (algorithm, experiment, condition, seed) into
  ``<out>/<condition>/seed_<k>/`` (layout in :mod:`agents.harness.checkpoint`), resumable.
  It is :func:`make_unit` (every name and value checked, the config built once, as a
  :class:`Unit`) followed by :func:`train`, which the schedulers call with units made up front;
* :func:`run_experiment` runs every condition x seed in dependency order, then
  :func:`agents.harness.summary.aggregate` (which the Ray backend calls after its tasks);
* :func:`read_trained_run` reads a finished unit folder as an :class:`agents.algorithm.TrainedRun`.

An algorithm is an :class:`agents.algorithm.Algorithm` record in
:data:`agents.harness.algorithms.ALGORITHMS`; its trainer trains, the runner does every
file: ``config.json``, metrics, checkpoints and evaluation. A unit that builds on another
(Step 2 freezes Step 1's learner, Step 3 starts from Step 2's learners) gets that unit's
folder read here into a ``TrainedRun`` (with its data set for ``init_from``), and an
algorithm that keeps a data set (PPI) gets it opened here, in ``<unit>/data/``, tied to a
fingerprint of the unit (:func:`data_set_fingerprint`); the trainer never sees a path.

Besides the files of :mod:`agents.harness.checkpoint`, the runner writes the in-training
evaluation of every ``eval_every`` units into ``eval_metrics.csv`` (late-episode reward and
cooperation per co-player, the pool set's ``gain_fraction``) and ``eval_curves.json``
(per-round cooperation against TFT); both are kept in the checkpoint (``eval_history``), so
a resumed run writes the same series.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from agents.algorithm import EARLIER_RUN_SETTINGS, Algorithm, RunSettings, TrainedRun, saved_record
from agents.harness.algorithms import get_algorithm
from agents.harness.allocator import keep_freed_memory
from agents.harness.checkpoint import (
    CHECKPOINT_FORMAT,
    DATA_FOLDER,
    HistoryBuffer,
    MetricsLog,
    config_differences,
    history_rows,
    load_checkpoint,
    read_json,
    repair_note,
    save_checkpoint,
    write_json,
)
from agents.harness.evaluation import (
    EVAL_CURVES_FILE,
    EVAL_METRICS_FILE,
    PER_ROUND_CO_PLAYERS,
    InTrainingEvaluator,
    evaluate_learners,
    mean_over_learners,
)
from agents.harness.experiments import EXPERIMENTS, Condition, get_experiment, select_conditions
from agents.harness.run_folder import attach_provenance, check_contents, check_unlocked, locked, record_provenance
from agents.harness.weights import write_weights
from agents.legacy_names import current_name
from agents.pool import split_games
from agents.settings import NonFiniteTrainingError, diverged, first_non_finite
from ipd_env.sizes import check_fits


@dataclass(frozen=True)
class Unit:
    """One unit of work, checked: an algorithm's config and the run's settings for one condition of an
    experiment and one seed.

    Made by :func:`make_unit`; the config and the :class:`agents.algorithm.RunSettings` are built
    and validated there, once, and handed to the trainer as they are. :meth:`record` is the unit's
    ``config.json``.
    """

    algorithm: Algorithm
    experiment: str
    condition: Condition
    seed: int
    preset: str
    overrides: dict
    config: Any
    settings: RunSettings

    def record(self) -> dict:
        """The content of ``config.json`` (compared on resume, kept in every checkpoint)."""
        return {"algo": self.algorithm.name, "experiment": self.experiment, "condition": self.condition.name,
                "seed": self.seed, "preset": self.preset, "overrides": dict(self.overrides),
                "pool_mode": self.condition.pool_mode, "num_learners": self.condition.num_learners,
                "hyperparameters": dataclasses.asdict(self.config), "settings": dataclasses.asdict(self.settings)}

    @property
    def episodes_per_unit(self) -> int:
        """Episodes each learner plays per training unit (:attr:`agents.algorithm.Algorithm.episodes_per_unit`)."""
        return int(self.algorithm.episodes_per_unit(self.config))

    def __reduce__(self):
        # A process pool (--workers) pickles its jobs, and an Algorithm record holds lambdas that pickle
        # cannot name: the record and the condition travel by name, the config and settings as they are.
        return _unpickled_unit, (self.algorithm.name, self.experiment, self.condition.name, self.seed, self.preset,
                                 self.overrides, self.config, self.settings)


def _unpickled_unit(algo: str, experiment: str, condition: str, seed: int, preset: str, overrides: dict,
                    config, settings: RunSettings) -> Unit:
    """The :class:`Unit` that :meth:`Unit.__reduce__` sent: its algorithm and condition looked up by name,
    everything else as it was (nothing is made again, so a unit not made by :func:`make_unit` arrives unchanged)."""
    return Unit(get_algorithm(algo), experiment, get_experiment(experiment).condition(condition), seed, preset,
                overrides, config, settings)


def make_unit(algo: str, experiment: str, condition: str, seed: int, preset: str,
              overrides: Optional[dict] = None) -> Unit:
    """The checked :class:`Unit` of one run; raises ``ValueError`` for any bad name or value.

    The algorithm's config and the run settings are its preset for the condition's Table-2
    column with ``overrides`` on top (:meth:`agents.algorithm.Algorithm.make_run`); its episodes
    per learner must split as the condition's pool mode needs (:func:`agents.pool.split_games`).
    """
    algorithm = get_algorithm(algo)
    spec = get_experiment(experiment).condition(condition)
    overrides = dict(overrides or {})
    config, settings = algorithm.make_run(preset, spec.paper_step, overrides)
    unit = Unit(algorithm, experiment, spec, int(seed), preset, overrides, config, settings)
    split_games(spec.pool_mode, spec.num_learners, unit.episodes_per_unit, num_frozen=1 if spec.frozen_from else 0)
    return unit


def unit_dir(out: Union[str, Path], condition: str, seed: int) -> Path:
    return Path(out) / condition / f"seed_{seed}"


def is_complete(directory: Path) -> bool:
    """A unit is done when its evaluation and final checkpoint exist."""
    return (directory / "eval.json").is_file() and (directory / "checkpoints" / "final.pt").is_file()


#: ``config.json`` keys that may differ on resume: a condition is the same run in every experiment
#: that lists it, so ``step2`` and ``step3`` reuse a finished ``step1`` unit (whose config.json
#: keeps the experiment that trained it).
NOT_COMPARED_ON_RESUME = ("experiment",)


def _compared(config: dict) -> dict:
    """``config.json`` as compared on resume (run settings under their own key also for older folders)."""
    return {key: value for key, value in saved_record(config).items() if key not in NOT_COMPARED_ON_RESUME}


def check_resume_target(out: Union[str, Path], resume: bool) -> None:
    """With ``resume``, ``out`` must be an existing folder: a mistyped ``--out`` would otherwise
    start a fresh run silently. Raises ``ValueError`` saying so."""
    if resume and not Path(out).is_dir():
        raise ValueError(f"nothing to resume: the output folder {out} does not exist; leave out --resume to "
                         f"start a new run there")


def check_finite(trainer, metrics: dict, unit: int, with_state: bool) -> None:
    """Raise :class:`NonFiniteTrainingError` if a metric of ``unit`` is NaN or inf, or, with
    ``with_state`` (before a checkpoint is written), any value of the trainer's state.

    The state is scanned only before checkpoints (~8 ms for a cpu-quick A2C state on a busy
    core, ~1% of an iteration): weights that become NaN make the next unit's losses NaN anyway.
    """
    for key, value in metrics.items():
        if not math.isfinite(float(value)):
            raise diverged(trainer.config, trainer.unit_name, unit, f"{key} is {float(value)}")
    where = first_non_finite(trainer.state_dict()) if with_state else None
    if where is not None:
        raise diverged(trainer.config, trainer.unit_name, unit, f"the trainer's state holds NaN or inf ({where})")


def read_trained_run(folder: Union[str, Path], device="cpu", with_data_set: bool = False) -> tuple:
    """``(algorithm, run)``: a finished unit folder's algorithm record and its :class:`TrainedRun`.

    Reads ``config.json`` and ``checkpoints/final.pt`` (checksum checked, no code run); with
    ``with_data_set`` also reopens the data set of an algorithm that keeps one, as it was made.

    Raises:
        ValueError: unreadable ``config.json``, an unknown algorithm, a damaged checkpoint.
        FileNotFoundError: no ``checkpoints/final.pt`` (the run is unfinished).
    """
    folder = Path(folder)
    config = read_json(folder / "config.json")
    algorithm = get_algorithm(config.get("algo"))
    hyperparameters, settings = algorithm.saved_run(config)
    state = load_checkpoint(folder / "checkpoints" / "final.pt", map_location=device)
    data_set = None
    if with_data_set and algorithm.data_set is not None:
        data_set = algorithm.data_set(str(folder / DATA_FOLDER), None)
    return algorithm, TrainedRun(config=hyperparameters, settings=settings, pool_mode=config["pool_mode"],
                                 num_learners=config["num_learners"], state=state["trainer"], data_set=data_set,
                                 source=str(folder))


def _prerequisites(unit: Unit, out: Union[str, Path], device) -> dict:
    """``{"frozen_from": TrainedRun | None, "init_from": TrainedRun | None}`` of ``unit``, read from
    the finished units of the same seed under ``out`` (``init_from`` with its data set)."""
    prerequisites = {}
    for role in ("frozen_from", "init_from"):
        source = getattr(unit.condition, role)
        prerequisites[role] = None
        if source is None:
            continue
        folder = unit_dir(out, source, unit.seed)
        if not is_complete(folder):
            raise ValueError(f"condition {unit.condition.name!r} needs the finished {source!r} run of seed "
                             f"{unit.seed} at {folder}; run the experiment's conditions in order")
        algorithm, run = read_trained_run(folder, device, with_data_set=role == "init_from")
        if algorithm.name != unit.algorithm.name:
            raise ValueError(f"{folder} holds a {algorithm.name!r} run, not {unit.algorithm.name!r}")
        prerequisites[role] = run
    return prerequisites


def data_set_fingerprint(unit: Unit, out: Union[str, Path]) -> dict:
    """Everything that decides the data a unit stores; its data set is tied to it (PPI's manifest).
    ``hyperparameters`` holds the run settings too, as data sets made before they were apart hold them;
    a setting added since (:data:`agents.algorithm.EARLIER_RUN_SETTINGS`) is left out at the value every
    earlier data set had, so those still match."""
    init_from = unit.condition.init_from
    settings = {key: value for key, value in dataclasses.asdict(unit.settings).items()
                if not (key in EARLIER_RUN_SETTINGS and value == EARLIER_RUN_SETTINGS[key])}
    return {"condition": unit.condition.name, "pool_mode": unit.condition.pool_mode, "seed": unit.seed,
            "num_learners": unit.condition.num_learners,
            "init_from": None if init_from is None else str(unit_dir(out, init_from, unit.seed)),
            "hyperparameters": {**dataclasses.asdict(unit.config), **settings}}


def run_unit(
    algo: str,
    experiment: str,
    condition: str,
    seed: int,
    preset: str,
    out: Union[str, Path],
    device: str = "cpu",
    resume: bool = False,
    overrides: Optional[dict] = None,
    progress: bool = True,
    stop_after: Optional[int] = None,
) -> Optional[dict]:
    """Train one condition for one seed into ``<out>/<condition>/seed_<seed>/``.

    Args:
        algo, experiment, condition, preset: registered names.
        seed: seeds model initialisation and every sample of the run.
        device: ``"cpu"`` or ``"cuda"``; not part of the compared config.
        resume: continue a folder that already holds this config from its last
            checkpoint (a finished one is reused as is, also by a later experiment: step2
            reuses step1); a unit folder that does not exist yet starts fresh. Without
            ``resume`` an existing run folder is an error (nothing is touched).
        overrides: hyperparameter overrides ``{name: value}`` on top of the preset.
        stop_after: stop (as if killed) after this many units in total; for tests.

    Returns:
        the unit's evaluation (the content of ``eval.json``), or None when stopped early.

    Raises:
        ValueError: bad names or values, a folder with another config, an existing
            folder without ``resume``, a corrupt checkpoint, a missing prerequisite.
        NonFiniteTrainingError: (a ``ValueError``) a loss, metric or weight became NaN or
            infinite; the diverged unit is not written and the last good checkpoint stays.
    """
    return train(make_unit(algo, experiment, condition, seed, preset, overrides), out, device=device, resume=resume,
                 progress=progress, stop_after=stop_after)


def check_unit_folder(unit: Unit, out: Union[str, Path], resume: bool) -> None:
    """Refuse (``ValueError``) a unit folder this unit may not write: a run without ``resume``, a run of
    another config, or files without a ``config.json``. Reads only, so it can run before a lock."""
    directory = unit_dir(out, unit.condition.name, unit.seed)
    config_path = directory / "config.json"
    if config_path.exists():
        if not resume:
            raise ValueError(f"{directory} already holds a run; pass --resume (resume=True) to continue it, "
                             f"or choose another --out")
        differences = config_differences(_compared(read_json(config_path)), _compared(unit.record()))
        if differences:
            raise ValueError(f"cannot resume {directory}: its config differs from the requested one:\n  "
                             + "\n  ".join(differences))
    elif directory.exists() and any(directory.iterdir()):
        raise ValueError(f"{directory} is not empty but has no config.json; refusing to write into it")


class UnitFolder:
    """One unit's run folder while it trains: every file the runner writes for it, and nothing else.

    The unit loop (:func:`train`, or :func:`train_seed_batch` for several seeds trained as one
    computation) asks it for the trainer, then hands it each unit's metrics. It checks the folder
    (:func:`check_unit_folder`), reads the prerequisites and a resumed checkpoint, and writes
    ``config.json``, ``metrics.csv``, TensorBoard, the in-training evaluation
    (``eval_metrics.csv``, ``eval_curves.json``), ``checkpoints/last.pt`` every
    ``checkpoint_every`` units, and at the end ``checkpoints/final.pt`` and ``eval.json``.

    ``finished`` is the ``eval.json`` of a unit that was already complete (nothing else is done).
    """

    def __init__(self, unit: Unit, out: Union[str, Path], device: str = "cpu", resume: bool = False):
        self.unit, self.device = unit, device
        self.config = unit.record()
        self.directory = directory = unit_dir(out, unit.condition.name, unit.seed)
        self.last_path = directory / "checkpoints" / "last.pt"
        check_unit_folder(unit, out, resume)
        self.finished = None
        if (directory / "config.json").exists() and is_complete(directory):
            self.finished = read_json(directory / "eval.json")
            return
        self.prerequisites = _prerequisites(unit, out, device)
        self.state = None
        if resume and self.last_path.exists():
            self.state = load_checkpoint(self.last_path)
            differences = config_differences(_compared(self.state["config"]), _compared(self.config))
            if differences:
                raise ValueError(f"checkpoint {self.last_path} was written for another config:\n  "
                                 + "\n  ".join(differences))
        elif resume and (directory / "metrics.csv").is_file() and (directory / "metrics.csv").stat().st_size > 0:
            raise ValueError(f"cannot resume {directory}: metrics.csv has rows but the checkpoint {self.last_path} is "
                             f"missing; move the folder away to start over")
        self.data_set = None
        if unit.algorithm.data_set is not None:  # opening writes nothing; the trainer's first save does
            self.data_set = unit.algorithm.data_set(str(directory / DATA_FOLDER), data_set_fingerprint(unit, out))
        self.writer = self.bar = None

    def make_trainer(self):
        """The algorithm's trainer for this unit, with its prerequisites (and data set)."""
        condition = self.unit.condition
        extra = {} if self.data_set is None else {"data_set": self.data_set}
        return self.unit.algorithm.make_trainer(self.unit.config, self.unit.settings, pool_mode=condition.pool_mode,
                                                num_learners=condition.num_learners, seed=self.unit.seed,
                                                device=self.device, **self.prerequisites, **extra)

    @property
    def units_done(self) -> int:
        """Training units in the resumed checkpoint (0 for a fresh run)."""
        return 0 if self.state is None else len(history_rows(self.state["history"]))

    def open(self, trainer, progress: bool = True) -> int:
        """Load a resumed state into ``trainer`` and open the files; returns the first unit to train."""
        unit, directory, state = self.unit, self.directory, self.state
        self.history_buffer, self.eval_history, self.elapsed = HistoryBuffer(), [], 0.0
        if state is not None:
            trainer.load_state_dict(state["trainer"])
            self.history_buffer = HistoryBuffer(history_rows(state["history"]))
            self.elapsed = float(state["wall_time_s"])
            self.eval_history = list(state.get("eval_history", []))
        self.history = self.history_buffer.rows  # the rows (the buffer also keeps them as one tensor)
        # A folder written before the co_player rename keeps its own column names: its new rows, the
        # checkpoint's history and TensorBoard's tags go on under them (readers map them to today's).
        self.column_names = {current_name(column): column for column in self.history_buffer.columns or ()}
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / "config.json").exists():
            write_json(directory / "config.json", self.config)
        self.metrics_log = MetricsLog(directory / "metrics.csv")
        if state is not None:
            _note_repair(directory / "metrics.csv", self.history)
        self.metrics_log.rewrite(self.history)
        settings = unit.settings  # evaluate in the run's own game (rounds, payoffs) and pool
        self.evaluator = InTrainingEvaluator(unit.condition, unit.seed, settings.num_rounds, settings.payoffs,
                                             pool=settings.pool, pool_size=settings.eval_pool_size,
                                             games_per_co_player=settings.eval_games, device=self.device)
        self.eval_log = MetricsLog(directory / EVAL_METRICS_FILE)
        if state is not None:
            _note_repair(directory / EVAL_METRICS_FILE, [_eval_row(record) for record in self.eval_history])
        self.eval_log.rewrite([_eval_row(record) for record in self.eval_history])
        if self.eval_history:  # drop curves written after the checkpoint: they are recomputed identically
            write_json(directory / EVAL_CURVES_FILE, _eval_curves(self.eval_history, trainer, self.evaluator))
        # TensorBoard steps count units done (1-based), as the plots do; env_steps/<key> count agent-steps.
        self.writer = _tensorboard_writer(directory / "tb", len(self.history), agent_steps_per_unit(unit))
        self.saved_units = len(self.history)
        self.started = time.perf_counter()
        self.bar = _progress_bar(trainer, self.saved_units,
                                 f"{unit.algorithm.name} {unit.condition.name} seed {unit.seed}", progress)
        return self.saved_units

    def check(self, trainer, index: int, metrics: dict) -> None:
        """Refuse a diverged unit before anything of it is written: :class:`NonFiniteTrainingError`
        naming this folder and the checkpoint that was kept."""
        try:
            check_finite(trainer, metrics, index, with_state=self._saving(trainer, index))
        except NonFiniteTrainingError as error:
            raise self.diverged(trainer, index, error) from None

    def diverged(self, trainer, index: int, error: Exception) -> NonFiniteTrainingError:
        """``error`` as this folder's :class:`NonFiniteTrainingError` (what was kept, where)."""
        kept = (f"the last good checkpoint, {self.last_path} ({self.saved_units} {trainer.unit_name}s), was kept"
                if self.saved_units else "no checkpoint had been written yet")
        return NonFiniteTrainingError(f"{self.directory}: {error}; {kept}", index)

    def _saving(self, trainer, index: int) -> bool:
        return (index + 1) % self.unit.settings.checkpoint_every == 0 or index + 1 == trainer.num_units

    def record(self, trainer, index: int, metrics: dict) -> None:
        """Write unit ``index``'s metrics, its in-training evaluation when due, and the checkpoint when due."""
        metrics = {self.column_names.get(key, key): value for key, value in metrics.items()}
        row = {"unit": index, **{key: float(value) for key, value in metrics.items()},
               "wall_time_s": self.elapsed + time.perf_counter() - self.started}
        self.history_buffer.append(row)
        self.metrics_log.append(row)
        if self.writer is not None:
            for key, value in metrics.items():
                self.writer.add_scalar(key, float(value), index + 1)
        if (index + 1) % self.unit.settings.evaluation_every(trainer.num_units) == 0 or index + 1 == trainer.num_units:
            evaluation = self.evaluator(trainer.players(), units_done=index + 1)
            self.eval_history.append(evaluation)
            self.eval_log.append(_eval_row(evaluation))
            write_json(self.directory / EVAL_CURVES_FILE, _eval_curves(self.eval_history, trainer, self.evaluator))
            if self.writer is not None:
                for key, value in evaluation["metrics"].items():
                    self.writer.add_scalar(key, value, index + 1)
        if self.bar is not None:
            self.bar.set_postfix(_postfix(metrics), refresh=False)
            self.bar.update(1)
        if self._saving(trainer, index):
            self.saved_units = index + 1
            save_checkpoint(self.last_path, self._checkpoint(trainer, row["wall_time_s"]))

    def _checkpoint(self, trainer, wall_time: float) -> dict:
        return {"format": CHECKPOINT_FORMAT, "config": self.config, "history": self.history_buffer.packed(),
                "eval_history": self.eval_history, "wall_time_s": wall_time, "trainer": trainer.state_dict()}

    def close(self) -> None:
        """Close the progress bar and TensorBoard (also when training stopped on an error)."""
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
        self.bar = self.writer = None

    def finish(self, trainer) -> dict:
        """``checkpoints/final.pt`` with ``weights.safetensors`` beside it (:mod:`agents.harness.weights`), the
        final evaluation (``eval.json``) and TensorBoard's hparams; returns the evaluation."""
        wall_time = self.elapsed + time.perf_counter() - self.started
        save_checkpoint(self.directory / "checkpoints" / "final.pt", self._checkpoint(trainer, wall_time))
        write_weights(self.directory / "checkpoints", trainer, self.config)  # safetensors for anyone; before eval.json
        evaluation = evaluate_learners(trainer.players(), trainer.frozen_players(), self.unit.condition,
                                       seed=self.unit.seed, device=self.device,
                                       num_rounds=self.evaluator.num_rounds, payoffs=self.evaluator.payoffs,
                                       pool_set=self.evaluator.pool_set)
        evaluation["wall_time_s"] = wall_time
        evaluation["num_units"] = trainer.num_units
        _tensorboard_hparams(self.directory / "tb", self.config, evaluation)
        write_json(self.directory / "eval.json", evaluation)
        return evaluation


def _train_step(train_unit: Callable[[int], Any], config, unit_name: str, index: int):
    """``train_unit(index)``, with torch's refusal of an optimiser step beyond float32 as divergence."""
    try:
        return train_unit(index)
    except RuntimeError as error:
        if "overflow" not in str(error):
            raise
        raise diverged(config, unit_name, index, "an optimiser step overflowed float32") from None


def train(unit: Unit, out: Union[str, Path], device: str = "cpu", resume: bool = False, progress: bool = True,
          stop_after: Optional[int] = None) -> Optional[dict]:
    """:func:`run_unit` for a :class:`Unit` already made (same arguments, returns and errors): the unit
    loop, with every file written by its :class:`UnitFolder`."""
    folder = UnitFolder(unit, out, device, resume)
    if folder.finished is not None:
        return folder.finished
    keep_freed_memory()
    trainer = folder.make_trainer()
    start_unit = folder.open(trainer, progress)
    try:
        for index in range(start_unit, trainer.num_units):
            if stop_after is not None and index >= stop_after:
                return None
            try:  # a diverged unit writes nothing: no metrics row, no checkpoint
                metrics = _train_step(trainer.train_unit, trainer.config, trainer.unit_name, index)
            except NonFiniteTrainingError as error:
                raise folder.diverged(trainer, index, error) from None
            folder.check(trainer, index, metrics)
            folder.record(trainer, index, metrics)
    finally:
        folder.close()
    return folder.finish(trainer)


def train_seed_batch(units: Sequence[Unit], out: Union[str, Path], device: str = "cpu", resume: bool = False,
                     progress: bool = True, stop_after: Optional[int] = None) -> list:
    """Train the units of one condition that differ only in their seed as one batched computation
    (:class:`agents.a2c_batched.SeedBatchedA2CTrainer`: each seed's numbers are those of its own run),
    each into its own unit folder exactly as :func:`train` writes it. A2C only.

    Returns each unit's evaluation (``eval.json``), or None for every unit when stopped early.

    Raises:
        ValueError: units of different conditions or configs, another algorithm, or resumed folders
            at different points (resume them without batching, or from the same point).
    """
    from agents.a2c_batched import SeedBatchedA2CTrainer

    units = list(units)
    if not units:
        raise ValueError("train_seed_batch needs at least one unit")
    first = units[0]
    if first.algorithm.name != "a2c":
        raise ValueError(f"batched seeds are an A2C option; {first.algorithm.name} trains its seeds one by one")
    if any(unit.condition != first.condition or unit.config != first.config or unit.settings != first.settings
           for unit in units):
        raise ValueError("train_seed_batch trains the seeds of one condition and config; these units differ")
    folders = [UnitFolder(unit, out, device, resume) for unit in units]
    results = [folder.finished for folder in folders]
    pending = [index for index, folder in enumerate(folders) if folder.finished is None]
    if not pending:
        return results
    folders = [folders[index] for index in pending]
    done = {folder.units_done for folder in folders}
    if len(done) > 1:
        raise ValueError("the seeds to batch were stopped at different points ("
                         + ", ".join(f"seed {folder.unit.seed}: {folder.units_done}" for folder in folders)
                         + "); resume them without --batch-seeds")
    condition = first.condition
    keep_freed_memory()

    def per_seed(key):
        values = [folder.prerequisites.get(key) for folder in folders]
        return None if all(value is None for value in values) else values

    batched = SeedBatchedA2CTrainer(first.config, first.settings, pool_mode=condition.pool_mode,
                                    num_learners=condition.num_learners,
                                    seeds=[folder.unit.seed for folder in folders], device=device,
                                    frozen_from=per_seed("frozen_from"), init_from=per_seed("init_from"))
    views = [batched.seed_view(index) for index in range(len(folders))]
    starts = {folder.open(view, progress) for folder, view in zip(folders, views)}
    start_unit = starts.pop()
    try:
        for index in range(start_unit, batched.num_units):
            if stop_after is not None and index >= stop_after:
                return [None] * len(units)
            try:
                metrics = _train_step(batched.train_unit, first.config, views[0].unit_name, index)
            except NonFiniteTrainingError as error:
                raise folders[0].diverged(views[0], index, error) from None
            for folder, view, seed_metrics in zip(folders, views, metrics):
                folder.check(view, index, seed_metrics)
            for folder, view, seed_metrics in zip(folders, views, metrics):
                folder.record(view, index, seed_metrics)
    finally:
        for folder in folders:
            folder.close()
    for position, folder, view in zip(pending, folders, views):
        results[position] = folder.finish(view)
    return results


class RepairedFileWarning(UserWarning):
    """A resumed run rewrote a metrics file that did not match its checkpoint (truncated, edited or damaged)."""


def _note_repair(path: Path, rows: list) -> None:
    """Warn (one line) when resuming rewrites ``path`` with rows it did not hold: rows after the
    checkpoint are expected after a kill and dropped silently, anything else is said."""
    note = repair_note(path, rows)
    if note is not None:
        warnings.warn(f"{note}; rewritten from the checkpoint ({len(rows)} rows)", RepairedFileWarning, stacklevel=3)


def _eval_row(record: dict) -> dict:
    """One row of ``eval_metrics.csv``: ``units_done`` and the flat ``eval/...`` scalars."""
    return {"units_done": record["units_done"], **record["metrics"]}


def _eval_curves(eval_history: list, trainer, evaluator) -> dict:
    """Content of ``eval_curves.json``: the per-round cooperation against TFT, AllD and AllC of every
    evaluation (``<name>_cooperation_per_round``, ``[evaluations][rounds]``; runs resumed from before
    AllD and AllC were recorded have them only from the first evaluation that recorded them)."""
    curves = {"unit_name": trainer.unit_name, "num_units": trainer.num_units,
              "units_done": [record["units_done"] for record in eval_history]}
    for name in PER_ROUND_CO_PLAYERS:
        key = f"{name}_cooperation_per_round"
        if name == "tft" or any(key in record for record in eval_history):
            curves[key] = [record[key] for record in eval_history if key in record]
            if name != "tft":
                curves[f"{name}_units_done"] = [record["units_done"] for record in eval_history if key in record]
        # The exact p(cooperate) along the same games, for learners that give it (A2C).
        key = f"{name}_policy_cooperation_per_round"
        if any(key in record for record in eval_history):
            curves[key] = [record[key] for record in eval_history if key in record]
            curves[f"{name}_policy_units_done"] = [record["units_done"] for record in eval_history if key in record]
    curves["pool"] = {"spec": evaluator.pool_set.pool, "size": evaluator.pool_set.size}
    return curves


def _tensorboard_hparams(directory: Path, config: dict, evaluation: dict) -> None:
    """The run's hyperparameters and final evaluation in TensorBoard's HPARAMS tab (needs tensorboard)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams as hparams_summary
    except ImportError:
        return
    hparams = {"algo": config["algo"], "experiment": config["experiment"], "condition": config["condition"],
               "seed": config["seed"], "preset": config["preset"]}
    for key, value in {**config["hyperparameters"], **config.get("settings", {})}.items():
        hparams[key] = value if isinstance(value, (bool, int, float, str)) else str(value)
    final = {f"final/{opponent}/{key}": values[key]
             for opponent, values in mean_over_learners(evaluation).items()
             for key in ("late_reward", "late_cooperation", "gain_fraction") if key in values}
    # What SummaryWriter.add_hparams writes, but into this run's own folder (it would open a sub-run).
    with SummaryWriter(str(directory)) as writer:
        for summary in hparams_summary(hparams, final):
            writer.file_writer.add_summary(summary)
        for key, value in final.items():
            writer.add_scalar(key, value, evaluation["num_units"])


def _postfix(metrics: dict) -> dict:
    """``{"vs_learner": "coop 0.34 reward 0.34", ...}`` for the progress bar."""
    short = {}
    for kind in ("learner", "tabular", "frozen"):
        if f"learner_vs_{kind}/cooperation" in metrics:
            short[f"vs_{kind}"] = (f"coop {metrics[f'learner_vs_{kind}/cooperation']:.2f} "
                                   f"reward {metrics[f'learner_vs_{kind}/reward']:.2f}")
    return short


def _progress_bar(trainer, start_unit: int, description: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=trainer.num_units, initial=start_unit, desc=description, unit=trainer.unit_name,
                dynamic_ncols=True)


class MissingTensorBoardWarning(UserWarning):
    """TensorBoard is not installed: runs write no ``tb/`` events (said once per process)."""


_said_no_tensorboard = False


def agent_steps_per_unit(unit: Unit) -> int:
    """Environment steps the learners take in one training unit: each of the condition's learners plays
    ``games_per_learner`` games (PPI: ``episodes_per_phase``) of ``num_rounds`` rounds, one action a round
    (a frozen co-player's actions and PPI's synthetic pretraining episodes are not counted)."""
    return unit.episodes_per_unit * int(unit.settings.num_rounds) * unit.condition.num_learners


#: Seconds between TensorBoard's flushes (its default is 120). Its writer thread waits on its queue for at most
#: this long; a Ctrl-C that lands inside a write can lose the queue's wake-up, and closing then waits out the wait:
#: with 120 s an interrupted run could sit silent for two minutes before exiting.
TENSORBOARD_FLUSH_S = 5


class _TensorBoard:
    """A run's TensorBoard scalars: ``add_scalar(key, value, units_done)`` writes ``key`` against units done
    (``tb/``, as the plots count) and ``env_steps/<key>`` against the learners' environment steps so far
    (``tb/env_steps/``, the x axis of SB3 and RLlib curves). Two run folders, because a resumed writer
    drops every event of its folder from its purge step on, whatever the tag: each axis purges at its own."""

    def __init__(self, summary_writer, directory: Path, units_done: int, steps_per_unit: int):
        self.steps_per_unit = steps_per_unit  # summary_writer: torch's SummaryWriter class
        self.units = summary_writer(str(directory), purge_step=units_done + 1, flush_secs=TENSORBOARD_FLUSH_S)
        self.env_steps = summary_writer(str(directory / "env_steps"), purge_step=units_done * steps_per_unit + 1,
                                        flush_secs=TENSORBOARD_FLUSH_S)

    def add_scalar(self, key: str, value: float, units_done: int) -> None:
        self.units.add_scalar(key, value, units_done)
        self.env_steps.add_scalar(f"env_steps/{key}", value, units_done * self.steps_per_unit)

    def close(self) -> None:
        self.units.close()
        self.env_steps.close()


def _tensorboard_writer(directory: Path, units_done: int, steps_per_unit: int):
    """The run's :class:`_TensorBoard` (resumed after ``units_done`` units), or None when tensorboard is not
    installed (extra ``[plot]``); that is said once per process (:class:`MissingTensorBoardWarning`)."""
    global _said_no_tensorboard
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        if not _said_no_tensorboard:
            _said_no_tensorboard = True
            warnings.warn("tensorboard is not installed, so runs write no TensorBoard events (tb/); install it "
                          "with: pip install 'ipd-env[plot]'", MissingTensorBoardWarning, stacklevel=3)
        return None
    return _TensorBoard(SummaryWriter, directory, units_done, steps_per_unit)


def seed_list(seeds: Union[int, Sequence[int]]) -> list:
    """``3`` -> ``[0, 1, 2]``; a sequence is taken as the seeds themselves."""
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"number of seeds must be >= 1, got {seeds}")
        return list(range(seeds))
    return [int(seed) for seed in seeds]


#: Bytes of one checked unit (its :class:`Unit` and config), from below (measured: ~815 on CPython 3.11).
UNIT_RECORD_BYTES = 500


def experiment_units(experiment: str, seeds, conditions: Optional[Sequence[str]] = None) -> list:
    """``[(condition, seed), ...]`` in an order that respects prerequisites (for schedulers).

    A number of seeds whose units could not even be listed in memory is refused first
    (``ValueError`` with the estimate and the memory available)."""
    selected = select_conditions(get_experiment(experiment), conditions)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        count = len(selected) * seeds
        check_fits(count * UNIT_RECORD_BYTES, f"{seeds} seeds x {len(selected)} conditions = {count} runs",
                   hint="give fewer seeds (--seeds)")
    return [(condition.name, seed) for condition in selected for seed in seed_list(seeds)]


class UnitError(ValueError):
    """A unit of an experiment that cannot be made (:func:`make_units`): the message says why,
    ``condition`` names the condition whose unit it is (a sweep names its grid point and it)."""

    def __init__(self, message: str, condition: str):
        super().__init__(message)
        self.condition = condition

    def at_point(self, point: str) -> ValueError:
        """This error as a sweep's grid point ``point`` reports it: ``grid point NAME (condition C): ...``."""
        return ValueError(f"grid point {point} (condition {self.condition}): {self}")


def make_units(experiment: str, algo: str, preset: str, seeds, overrides: Optional[dict] = None,
               conditions: Optional[Sequence[str]] = None) -> dict:
    """``{(condition, seed): Unit}`` of an experiment, prerequisites first; every unit checked
    (:func:`make_unit`) before anything runs. Raises :class:`UnitError` for the first bad one."""
    units = {}
    for condition, seed in experiment_units(experiment, seeds, conditions):
        try:
            units[(condition, seed)] = make_unit(algo, experiment, condition, seed, preset, overrides)
        except (ValueError, TypeError) as error:
            raise UnitError(str(error), condition) from error
    return units


def _worker_init(threads: int) -> None:
    torch.set_num_threads(threads)


def _train_in_worker(kwargs: dict) -> None:
    train(**kwargs)


def run_unit_jobs(jobs: dict, workers: int = 1, threads_per_worker: Optional[int] = None,
                  on_done=None) -> None:
    """Run :func:`train` for every job, each once the jobs it needs are done.

    Args:
        jobs: ``{key: (train keyword arguments, keys of the jobs it needs)}`` (see :meth:`ExperimentPlan.unit_jobs`),
            ordered so that a job comes after the jobs it needs (keys are any hashables).
        workers: 1 runs the jobs one after another in this process; more runs them in that
            many spawned processes.
        threads_per_worker: torch threads of each run (in-process default: torch's own,
            restored afterwards; process default: 1).
        on_done: called in this process with a job's key when it has finished.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1:
        threads = torch.get_num_threads()
        if threads_per_worker is not None:
            torch.set_num_threads(threads_per_worker)
        try:
            for key, (kwargs, _) in jobs.items():
                train(**kwargs)
                if on_done is not None:
                    on_done(key)
        finally:
            torch.set_num_threads(threads)
        return
    import concurrent.futures
    import multiprocessing

    done, running, pending = set(), {}, list(jobs)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                                                initargs=(threads_per_worker or 1,)) as executor:
        while pending or running:
            for key in list(pending):
                kwargs, needs = jobs[key]
                if all(need in done for need in needs) and len(running) < workers:
                    pending.remove(key)
                    running[executor.submit(_train_in_worker, kwargs)] = key
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                future.result()  # re-raises a worker's exception here
                key = running.pop(future)
                done.add(key)
                if on_done is not None:
                    on_done(key)


def _train_batches(units: dict, out, device, resume: bool, progress: bool, threads: Optional[int]) -> None:
    """Every condition's seeds as one :func:`train_seed_batch`, conditions in run order."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for condition in dict.fromkeys(key[0] for key in units):
            train_seed_batch([unit for key, unit in units.items() if key[0] == condition], out, device=device,
                             resume=resume, progress=progress)
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment run, checked once (:func:`plan_experiment`): its units, its folder, its device.

    Every executor runs a plan the same way (:func:`execute_plan`): lock the folder, record what it
    holds and the provenance (:meth:`opened`), train the units (inline, in processes, seed-batched or
    on Ray), then write ``summary.json`` and the plots (:meth:`summarise`). A sweep is one plan per
    grid point (:mod:`agents.harness.sweep`), all opened at once and their units in one pool.
    """

    experiment: str
    algo: str
    out: Path
    units: dict
    """``{(condition, seed): Unit}``, prerequisites first."""
    device: str = "cpu"
    resume: bool = False

    def check_folder(self, record: bool = False) -> None:
        """:func:`check_experiment_folder` for this plan (``record``: under the lock, write what it holds)."""
        check_experiment_folder(self.out, self.experiment, self.algo, self.units.values(), self.resume, record=record)

    @contextlib.contextmanager
    def opened(self) -> Iterator[ExperimentPlan]:
        """Hold the plan's folder for the block: its lock, the folder checked again (another process may
        have written it since the plan was made) and what it holds recorded, the provenance recorded."""
        with locked(self.out):
            self.check_folder(record=True)
            record_provenance(self.out, self.device)
            yield self

    def unit_jobs(self, progress: bool = True) -> dict:
        """The units as jobs of :func:`run_unit_jobs`, prerequisites first: ``{(out, condition, seed):
        (train keyword arguments, keys of the jobs it needs)}`` (keyed by the folder too, so that
        several plans' jobs share one pool). A unit needs the jobs of its prerequisites in this plan."""
        jobs = {}
        for (condition, seed), unit in self.units.items():
            needs = [(self.out, name, seed) for name in unit.condition.prerequisites]
            jobs[(self.out, condition, seed)] = (
                dict(unit=unit, out=self.out, device=self.device, resume=self.resume, progress=progress),
                [need for need in needs if need in jobs])
        return jobs

    def is_finished(self) -> bool:
        """Every unit is complete and ``summary.json`` is written."""
        return (self.out / "summary.json").is_file() and all(
            is_complete(unit_dir(self.out, condition, seed)) for condition, seed in self.units)

    def summarise(self, plots: Optional[bool] = None) -> dict:
        """Once every unit is done: :func:`agents.harness.summary.aggregate` (``plots``: its default
        unless given) with the folder's provenance; returns ``summary.json``."""
        from agents.harness.summary import aggregate

        aggregate(self.out, **({} if plots is None else {"plots": plots}))
        attach_provenance(self.out)
        return read_json(self.out / "summary.json")


def plan_experiment(experiment: str, algo: str = "a2c", preset: str = "cpu-quick",
                    seeds: Union[int, Sequence[int]] = 3, out: Union[str, Path] = "runs", device: str = "cpu",
                    resume: bool = False, overrides: Optional[dict] = None,
                    conditions: Optional[Sequence[str]] = None, units_at_once: int = 1) -> ExperimentPlan:
    """The checked :class:`ExperimentPlan` of an experiment run; reads, writes nothing.

    Every unit is made and validated (:func:`make_units`), ``--resume`` needs an existing folder,
    ``units_at_once`` of the largest unit must fit in memory, and the folder must hold nothing
    else (another experiment, algorithm, a sweep, a run without ``resume``).

    Raises:
        ValueError: the first problem found, in one line.
    """
    units = make_units(experiment, algo, preset, seeds, overrides, conditions)
    check_resume_target(out, resume)
    check_units_fit(units.values(), device, units_at_once)
    plan = ExperimentPlan(experiment, algo, Path(out), units, device, resume)
    plan.check_folder()  # refused before the lock: a refused command changes nothing
    return plan


def execute_plan(plan: ExperimentPlan, run_units: Callable[[ExperimentPlan], None],
                 plots: Optional[bool] = None) -> dict:
    """Run ``plan``: hold its folder (:meth:`ExperimentPlan.opened`: lock, checks, provenance),
    ``run_units(plan)`` (the executor: it trains every unit, each after its prerequisites), then
    :meth:`ExperimentPlan.summarise` (``plots``: its default unless given). Returns ``summary.json``
    (with the provenance)."""
    with plan.opened():
        run_units(plan)
        return plan.summarise(plots)


def run_experiment(
    experiment: str,
    algo: str = "a2c",
    preset: str = "cpu-quick",
    seeds: Union[int, Sequence[int]] = 3,
    out: Union[str, Path] = "runs",
    device: str = "cpu",
    resume: bool = False,
    overrides: Optional[dict] = None,
    conditions: Optional[Sequence[str]] = None,
    progress: bool = True,
    workers: int = 1,
    threads_per_worker: Optional[int] = None,
    on_checked: Optional[Callable[[], None]] = None,
    batch_seeds: bool = False,
) -> dict:
    """Run every (condition, seed) of an experiment on this machine, then write ``summary.json`` and plots.

    All names and values are validated before anything is written (:func:`plan_experiment`). With
    ``workers > 1`` independent units run in parallel processes (a unit starts once its
    prerequisites of the same seed are done), each with ``threads_per_worker`` torch threads
    (default 1: on a small CPU several single-threaded runs beat one multi-threaded run by far).
    ``on_checked`` is called once every check has passed, before the folder is locked and
    anything runs (the CLI prints its cost plan there, so a refused command prints only its error).
    ``batch_seeds`` (A2C) trains the seeds of each condition as one batched computation
    (:func:`train_seed_batch`; the same numbers per seed, a GPU's way to afford the paper's seed
    counts; slower than separate runs on a CPU, docs/agents.md). Returns the summary.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if batch_seeds and algo != "a2c":
        raise ValueError(f"--batch-seeds is an A2C option; {algo} trains its seeds one by one")
    if batch_seeds and workers > 1:
        raise ValueError("--batch-seeds trains a condition's seeds in one process; leave out --workers")
    plan = plan_experiment(experiment, algo, preset, seeds, out, device, resume, overrides, conditions, workers)
    if batch_seeds:  # refused before the folder is locked or written
        from agents.a2c_batched import check_seed_batchable

        for unit in plan.units.values():
            check_seed_batchable(unit.settings)
    if on_checked is not None:
        on_checked()

    def run_units(plan: ExperimentPlan) -> None:
        if batch_seeds:
            _train_batches(plan.units, plan.out, device, resume, progress, threads_per_worker)
            return
        run_unit_jobs(plan.unit_jobs(progress), workers, threads_per_worker)

    return execute_plan(plan, run_units)


def check_experiment_folder(out: Union[str, Path], experiment: str, algo: str, units, resume: bool,
                            record: bool = False) -> None:
    """Refuse an experiment folder that holds another experiment or algorithm (or a sweep), or a unit
    folder that :func:`check_unit_folder` refuses; with ``record`` (under the lock) record what it holds
    (:func:`agents.harness.run_folder.check_contents`). An experiment that contains all conditions of
    the folder's (``step2`` over a ``step1`` folder) continues it."""
    if not record:
        check_unlocked(out)  # first: a live holder may be writing the files checked below
    own = set(get_experiment(experiment).condition_names)
    contained = tuple(name for name, other in EXPERIMENTS.items()
                      if name != experiment and set(other.condition_names) <= own)
    check_contents(out, "reproduce", experiment, algo, extends=contained, record=record)
    for unit in units:
        check_unit_folder(unit, out, resume)


#: Bytes that training keeps at the least per game and round: both players' observation indices
#: (int64) of the episode, which every algorithm stores to learn from.
HISTORY_BYTES_PER_GAME_ROUND = 16


def training_memory_lower_bound(unit: Unit) -> int:
    """Bytes that one unit's training needs at the least (an estimate from below, to refuse sizes
    that cannot fit before anything is allocated): the episode histories of all its games, and what
    the algorithm keeps per game and round besides (:attr:`agents.algorithm.Algorithm.state_bytes_per_game_round`:
    A2C's recurrent state for the backward pass)."""
    num_games = unit.episodes_per_unit * (unit.condition.num_learners + (1 if unit.condition.frozen_from else 0))
    per_round = HISTORY_BYTES_PER_GAME_ROUND + int(unit.algorithm.state_bytes_per_game_round(unit.config))
    return num_games * int(unit.settings.num_rounds) * per_round


def check_units_fit(units, device: str = "cpu", workers: int = 1) -> None:
    """Refuse (``ValueError``, one line with the estimate and the memory available) units that cannot
    fit in memory, ``workers`` of them at once, before any is started."""
    units = list(units)
    if not units:
        return
    largest = max(units, key=training_memory_lower_bound)
    at_once = min(workers, len(units))
    overrides = ", ".join(f"{name}={value}" for name, value in largest.overrides.items())
    check_fits(training_memory_lower_bound(largest) * at_once,
               f"training {largest.condition.name} ({largest.episodes_per_unit} games per learner x "
               f"{largest.settings.num_rounds} rounds{'; ' + overrides if overrides else ''}"
               f"{f'; {at_once} units at once' if at_once > 1 else ''})",
               device, hint="lower games_per_learner or num_rounds, or --workers")
