"""What a learning algorithm is to the harness: one :class:`Algorithm` record and a :class:`Trainer`.

An algorithm module declares its record next to its code (``agents/a2c.py``'s
``ALGORITHM``, ``agents/ppi/__init__.py``'s), and the harness lists the records by name
(:data:`agents.harness.algorithms.ALGORITHMS`): a new algorithm is one module plus one line
there. The record says everything the harness may call; nothing is looked up by name.

Who does what:

* the harness reads and writes run folders (``config.json``, checkpoints, metrics, where a
  data set lives), decides what to train (experiment, condition, seed) and evaluates;
* the algorithm trains on what it is handed: its config dataclass, built and validated once
  by :meth:`Algorithm.make_config`; plain settings of the run (pool mode, number of
  learners, seed, device); and, for a run that builds on a finished one (Step 2 freezes
  Step 1's learner, Step 3 starts from Step 2's), that run as a :class:`TrainedRun`: its
  config, its trainer state and, where the algorithm keeps one, its data set, never a path.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, runtime_checkable

from agents.settings import first_non_finite


@dataclass(frozen=True)
class TrainedRun:
    """A finished run as data: what a later run or an evaluation builds on.

    The harness reads it from the run's folder; an algorithm turns it into models or
    players (:attr:`Algorithm.trained_players`).

    Attributes:
        config: the run's config, an instance of its algorithm's ``config_class``.
        pool_mode: the pool mode it was trained in (``agents.pool.POOL_MODES``): whether its
            models take the opponent's identity.
        num_learners: its learners.
        state: its trainer's :meth:`Trainer.state_dict` after the last unit (tensors, plain Python).
        data_set: the data set it kept (see :attr:`Algorithm.data_set`), reopened as it was
            made, or None when the algorithm keeps none or the reader did not ask for it.
        source: where it was read from (its folder), named in error messages.
    """

    config: Any
    pool_mode: str
    num_learners: int
    state: dict
    data_set: Optional[Any] = None
    source: str = "a trained run"


@runtime_checkable
class Trainer(Protocol):
    """What :attr:`Algorithm.make_trainer` returns: the training of one run, unit by unit.

    The harness calls :meth:`train_unit` for units ``0 .. num_units - 1`` (continuing after
    :meth:`load_state_dict` on resume), checkpoints :meth:`state_dict` and evaluates
    :meth:`players`; the trainer touches no file (a data set it was handed excepted).

    Attributes:
        config: the run's config dataclass (divergence errors name its settings).
        num_units: training units in the run (A2C: iterations; PPI: phases).
        unit_name: ``"iteration"`` or ``"phase"``, for progress bars, plots and messages.
        checkpoint_every: the harness writes a checkpoint after every this many units.
        eval_every: the harness evaluates the learners after every this many units and
            after the last one, with a generator of its own (training must not depend on it).
    """

    config: Any
    num_units: int
    unit_name: str
    checkpoint_every: int
    eval_every: int

    def train_unit(self, unit_index: int) -> dict:
        """Run unit ``unit_index`` (0-based); return its metrics, ``{name: float}``.

        Use the keys of :func:`agents.pool.pool_metrics` for the pool's numbers
        (``learner_vs_learner/reward`` ...), plus any losses.
        """

    def state_dict(self) -> dict:
        """Everything to continue exactly (models, optimisers, RNG states): tensors and plain Python."""

    def load_state_dict(self, state: dict) -> None: ...

    def players(self) -> list:
        """The learners as players (``ipd_env.player``), for evaluation."""

    def frozen_players(self) -> list:
        """Frozen co-players of the run (Step 2's Fixed-ICL), or an empty list."""


@dataclass(frozen=True)
class Algorithm:
    """One learning algorithm as the harness sees it.

    Attributes:
        name: its name on the command line and in ``config.json`` (``"a2c"``).
        config_class: its hyperparameters, a dataclass that validates itself in
            ``__post_init__`` (:mod:`agents.settings`). Besides its own settings it has the
            ones the harness reads: ``num_rounds``, ``payoffs`` and ``pool`` (the game and the
            tabular co-players, for evaluation), ``eval_pool_size`` and ``eval_games`` (the
            evaluation's size) and ``games_per_learner`` (episodes each learner plays per
            unit, to check that they split as the run's pool mode needs).
        presets: its preset names, smallest first (at least ``test``, ``cpu-quick``, ``cpu``
            and ``paper``).
        preset_settings: ``(preset, paper_step) -> {setting: value}``, what a preset sets
            over the config's defaults for a column (1-4) of the paper's Table 2.
        make_trainer: ``(config, pool_mode=, num_learners=, seed=, device=, frozen_from=,
            init_from=[, data_set=]) -> Trainer``. ``frozen_from`` / ``init_from`` are
            :class:`TrainedRun` or None: the run whose learner 0 is the frozen co-player,
            and the run whose learners start this one's.
        trained_players: ``(run: TrainedRun, device) -> list``: the learners of a finished
            run as players.
        data_set: for an algorithm that keeps a data set across units (PPI's episodes), the
            store class, called as ``data_set(folder, fingerprint)``: the harness opens it in
            the run's folder, tied to a fingerprint of everything that decides the data
            (``fingerprint=None`` reopens a finished run's store as it was made), and hands
            it to ``make_trainer`` as ``data_set=``. None for an algorithm without one.
    """

    name: str
    config_class: type
    presets: tuple
    preset_settings: Callable[[str, int], dict]
    make_trainer: Callable[..., Trainer]
    trained_players: Callable[..., list]
    data_set: Optional[Callable[[str, Optional[dict]], Any]] = None

    def make_config(self, preset: str, paper_step: int, overrides: Optional[dict] = None):
        """The config of one run: the config class's defaults, then the preset's settings for
        ``paper_step``, then ``overrides`` (``--set``); validated by the config class itself.

        Raises:
            ValueError: an unknown preset or hyperparameter name (listing the known ones), or
                a bad value (naming the setting).
        """
        if preset not in self.presets:
            raise ValueError(f"unknown preset {preset!r} for {self.name}; known presets: {', '.join(self.presets)}")
        known = {item.name for item in dataclasses.fields(self.config_class)}
        for key in overrides or {}:
            if key not in known:
                raise ValueError(f"unknown {self.name} hyperparameter {key!r}; known: {', '.join(sorted(known))}")
        return self.config_class(**{**self.preset_settings(preset, paper_step), **(overrides or {})})

    def saved_config(self, hyperparameters: dict):
        """The config of a run folder's ``config.json`` ``hyperparameters``. A config class with a
        ``from_saved`` classmethod reads settings added since the folder was written as they were
        then (so old runs load with the model they trained); otherwise the class's constructor."""
        from_saved = getattr(self.config_class, "from_saved", None)
        return from_saved(hyperparameters) if from_saved is not None else self.config_class(**hyperparameters)


def models_from_states(model_states, build_model: Callable, device="cpu", source: str = "a trained run") -> list:
    """Models rebuilt by ``build_model()`` and filled from ``model_states``, in eval mode on ``device``.

    Raises ``ValueError`` naming ``source`` when a state does not fit the model its config
    describes or holds NaN / infinite weights (a diverged run would otherwise play as if
    every logit comparison were false: always cooperate).
    """
    models = []
    for model_state in model_states:
        where = first_non_finite(model_state)
        if where is not None:
            raise ValueError(f"{source}: the trained model holds NaN or infinite weights ({where}); its training "
                             f"diverged, so it cannot play")
        model = build_model()
        try:
            model.load_state_dict(model_state)
        except RuntimeError as error:
            raise ValueError(f"{source}: checkpoint does not match its config's model shape: {error}") from error
        models.append(model.to(device).eval())
    return models
