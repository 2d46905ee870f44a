"""What a learning algorithm is to the harness: one :class:`Algorithm` record and a :class:`Trainer`.

An algorithm module declares its record next to its code (``agents/a2c.py``'s
``ALGORITHM``, ``agents/ppi/__init__.py``'s), and the harness lists the records by name
(:data:`agents.harness.algorithms.ALGORITHMS`): a new algorithm is one module plus one line
there. The record says everything the harness may call; nothing is looked up by name.

Who does what:

* the harness reads and writes run folders (``config.json``, checkpoints, metrics, where a
  data set lives), decides what to train (experiment, condition, seed) and evaluates;
* the algorithm trains on what it is handed: its config dataclass (its own hyperparameters
  only), built and validated once by :meth:`Algorithm.make_config`; the run's
  :class:`RunSettings` (the game, the pool of tabular co-players, the evaluation's size and
  cadence), which the harness owns, validates once and hands over: the algorithm reads the
  game and the pool from it, the harness the rest; plain settings of the run (pool mode,
  number of learners, seed, device); and, for a run that builds on a finished one (Step 2
  freezes Step 1's learner, Step 3 starts from Step 2's), that run as a :class:`TrainedRun`:
  its config and settings, its trainer state and, where the algorithm keeps one, its data
  set, never a path.

A preset or a ``--set`` names settings of both kinds in one dict; :meth:`Algorithm.make_run`
splits it by name (:data:`RUN_SETTINGS`) into the two objects.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, runtime_checkable

from agents.compilation import check_compile_mode
from agents.settings import check_settings, first_non_finite, setting
from baselines.incontext import parse_pool
from ipd_env.game import make_payoff_table


@dataclass
class RunSettings:
    """What one run is played in and how the harness records it, for every algorithm alike.

    The harness builds it once per run (the algorithm's :attr:`Algorithm.settings_defaults`,
    then the preset, then ``--set``), validates it here, stores it in ``config.json`` under
    ``"settings"`` and hands it to :attr:`Algorithm.make_trainer`. The algorithm reads the game
    (``num_rounds``, ``payoffs``) and the ``pool``; the cadence and the evaluation's size are
    the harness's.
    """

    num_rounds: int = setting(100, at_least=1)
    """rounds per episode."""
    payoffs: list = field(default_factory=lambda: [1.0, -1.0, 2.0, 0.0])
    """(R, S, T, P) of the game."""
    pool: str = "uniform"
    """the tabular co-players' distribution (Step 1, the mixed pool, PPI's D_0): ``"uniform"`` (the
    paper's U(0, 1)^5), ``"beta:A,B"``, ``"sharpened:K"``, ``"pure"`` or ``"zoo"``; see
    :func:`baselines.incontext.parse_pool`."""
    checkpoint_every: int = setting(10, at_least=1)
    """write the resumable checkpoint every this many training units."""
    eval_every: int = setting(0, at_least=0)
    """evaluate the learners (late-episode play against the classics and the other learner, the pool
    set's gain) after every this many units and after the last one; 0 = automatic, about 25
    evaluations a run (``max(1, units // 25)``). Evaluation draws from its own generator: training is
    unchanged."""
    eval_pool_size: int = setting(1024, at_least=1)
    """co-players of the pool evaluation set (one game each), in-training and final."""
    eval_games: int = setting(32, at_least=1)
    """in-training evaluation games against each classic and against the other learner."""
    compile: str = "off"
    """``torch.compile`` for the training hot path (:mod:`agents.compilation`): ``"off"`` (eager, the
    default; same seed, same result bit for bit), ``"default"``, ``"reduce-overhead"`` or
    ``"max-autotune"`` (these two with CUDA graphs on a GPU). Where compiling is not available the run
    goes on uncompiled and one warning line says why."""

    def __post_init__(self):
        check_settings(self, "run")
        check_compile_mode(self.compile)
        make_payoff_table(self.payoffs)
        try:
            self.pool = parse_pool(self.pool, self.payoffs).spec
        except ValueError as error:
            raise ValueError(f"run setting pool: {error}") from None

    def evaluation_every(self, num_units: int) -> int:
        """Units between in-training evaluations of a run of ``num_units`` units (``eval_every``; 0 = ~25 a run)."""
        return self.eval_every or max(1, num_units // 25)


#: The names of :class:`RunSettings`' fields: a preset's or ``--set``'s key among them is a run setting.
RUN_SETTINGS = tuple(item.name for item in dataclasses.fields(RunSettings))


def split_settings(values: dict) -> tuple:
    """``(hyperparameters, run settings)``: ``values`` split by name (:data:`RUN_SETTINGS`)."""
    values = dict(values)
    return ({key: value for key, value in values.items() if key not in RUN_SETTINGS},
            {key: value for key, value in values.items() if key in RUN_SETTINGS})


@dataclass(frozen=True)
class TrainedRun:
    """A finished run as data: what a later run or an evaluation builds on.

    The harness reads it from the run's folder; an algorithm turns it into models or
    players (:attr:`Algorithm.trained_players`).

    Attributes:
        config: the run's config, an instance of its algorithm's ``config_class``.
        settings: the run's :class:`RunSettings` (its game, pool and cadence).
        pool_mode: the pool mode it was trained in (``agents.pool.POOL_MODES``): whether its
            models take the opponent's identity.
        num_learners: its learners.
        state: its trainer's :meth:`Trainer.state_dict` after the last unit (tensors, plain Python).
        data_set: the data set it kept (see :attr:`Algorithm.data_set`), reopened as it was
            made, or None when the algorithm keeps none or the reader did not ask for it.
        source: where it was read from (its folder), named in error messages.
    """

    config: Any
    settings: RunSettings
    pool_mode: str
    num_learners: int
    state: dict
    data_set: Optional[Any] = None
    source: str = "a trained run"


@runtime_checkable
class Trainer(Protocol):
    """What :attr:`Algorithm.make_trainer` returns: the training of one run, unit by unit.

    The harness calls :meth:`train_unit` for units ``0 .. num_units - 1`` (continuing after
    :meth:`load_state_dict` on resume), checkpoints :meth:`state_dict` (every
    ``RunSettings.checkpoint_every`` units) and evaluates :meth:`players` (with a generator of
    its own: training must not depend on it); the trainer touches no file (a data set it was
    handed excepted).

    Attributes:
        config: the run's config dataclass (divergence errors name its settings).
        num_units: training units in the run (A2C: iterations; PPI: phases).
        unit_name: ``"iteration"`` or ``"phase"``, for progress bars, plots and messages.
    """

    config: Any
    num_units: int
    unit_name: str

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
            ``__post_init__`` (:mod:`agents.settings`); no field of :class:`RunSettings`.
        presets: its preset names, smallest first (at least ``test``, ``cpu-quick``, ``cpu``
            and ``paper``).
        preset_settings: ``(preset, paper_step) -> {setting: value}``, what a preset sets
            over the defaults for a column (1-4) of the paper's Table 2: hyperparameters and
            run settings in one dict.
        episodes_per_unit: ``config -> int``, the episodes each learner plays per training unit
            (A2C's ``games_per_learner``, PPI's ``episodes_per_phase``): the harness checks that
            they split as the run's pool mode needs and counts environment steps with it.
        num_units: ``config -> int``, the training units of a run (A2C's ``num_iterations``, PPI's
            ``num_phases``), for cost plans made before any trainer exists.
        make_trainer: ``(config, settings, pool_mode=, num_learners=, seed=, device=,
            frozen_from=, init_from=[, data_set=]) -> Trainer``. ``settings`` is the run's
            :class:`RunSettings`; ``frozen_from`` / ``init_from`` are :class:`TrainedRun` or
            None: the run whose learner 0 is the frozen co-player, and the run whose learners
            start this one's.
        trained_players: ``(run: TrainedRun, device) -> list``: the learners of a finished
            run as players.
        data_set: for an algorithm that keeps a data set across units (PPI's episodes), the
            store class, called as ``data_set(folder, fingerprint)``: the harness opens it in
            the run's folder, tied to a fingerprint of everything that decides the data
            (``fingerprint=None`` reopens a finished run's store as it was made), and hands
            it to ``make_trainer`` as ``data_set=``. None for an algorithm without one.
        settings_defaults: this algorithm's defaults of run settings where they differ from
            :class:`RunSettings`' (PPI checkpoints and evaluates every phase).
        state_bytes_per_game_round: ``config -> int``, bytes its training keeps per game and round
            beyond the episode itself (A2C backpropagates through whole episodes: its recurrent
            state); the harness refuses a run that cannot fit before allocating it.
        compile_modes: the values of the run setting ``compile`` its trainer implements
            (:mod:`agents.compilation`); any other is refused by :meth:`make_run`.
    """

    name: str
    config_class: type
    presets: tuple
    preset_settings: Callable[[str, int], dict]
    episodes_per_unit: Callable[[Any], int]
    num_units: Callable[[Any], int]
    make_trainer: Callable[..., Trainer]
    trained_players: Callable[..., list]
    data_set: Optional[Callable[[str, Optional[dict]], Any]] = None
    settings_defaults: dict = field(default_factory=dict)
    state_bytes_per_game_round: Callable[[Any], int] = lambda config: 0
    compile_modes: tuple = ("off",)

    def make_run(self, preset: str, paper_step: int, overrides: Optional[dict] = None) -> tuple:
        """``(config, settings)`` of one run: the defaults, then the preset's settings for
        ``paper_step``, then ``overrides`` (``--set``), split by name into the algorithm's config
        and the :class:`RunSettings`; each validated by its own class.

        Raises:
            ValueError: an unknown preset or setting name (listing the known ones), or a bad
                value (naming the setting).
        """
        if preset not in self.presets:
            raise ValueError(f"unknown preset {preset!r} for {self.name}; known presets: {', '.join(self.presets)}")
        known = {item.name for item in dataclasses.fields(self.config_class)}
        for key in overrides or {}:
            if key not in known and key not in RUN_SETTINGS:
                raise ValueError(f"unknown {self.name} hyperparameter {key!r}; known: {', '.join(sorted(known))}; "
                                 f"run settings: {', '.join(RUN_SETTINGS)}")
        hyperparameters, settings = split_settings({**self.preset_settings(preset, paper_step), **(overrides or {})})
        config, settings = self.config_class(**hyperparameters), RunSettings(**{**self.settings_defaults, **settings})
        if settings.compile not in self.compile_modes:
            raise ValueError(f"run setting compile={settings.compile!r}: {self.name} does not compile its training "
                             f"(it implements compile={', '.join(map(repr, self.compile_modes))})")
        return config, settings

    def make_config(self, preset: str, paper_step: int, overrides: Optional[dict] = None):
        """The algorithm's config of :meth:`make_run` (``overrides`` may name only its hyperparameters)."""
        misplaced = sorted(set(overrides or {}) & set(RUN_SETTINGS))
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)}: run settings (agents.algorithm.RunSettings), not {self.name} "
                             f"hyperparameters; use make_run or make_settings")
        return self.make_run(preset, paper_step, overrides)[0]

    def make_settings(self, preset: str, paper_step: int, overrides: Optional[dict] = None) -> RunSettings:
        """The :class:`RunSettings` of :meth:`make_run` (``overrides`` may also name hyperparameters)."""
        return self.make_run(preset, paper_step, overrides)[1]

    def saved_run(self, record: dict) -> tuple:
        """``(config, settings)`` of a run folder's ``config.json`` (:func:`saved_record` reads folders
        written before run settings had their own key). A config class with a ``from_saved``
        classmethod reads settings added since the folder was written as they were then (so old
        runs load with the model they trained); otherwise the class's constructor."""
        record = saved_record(record)
        from_saved = getattr(self.config_class, "from_saved", None)
        hyperparameters = record["hyperparameters"]
        config = from_saved(hyperparameters) if from_saved is not None else self.config_class(**hyperparameters)
        return config, RunSettings(**{**self.settings_defaults, **record["settings"]})


#: Run settings added after run folders were first written, with the value every earlier run had:
#: a ``config.json`` without them reads as if it held these (:func:`saved_record`).
EARLIER_RUN_SETTINGS = {"compile": "off"}


def saved_record(record: dict) -> dict:
    """A ``config.json`` with its run settings under ``"settings"``: a folder written before they
    had their own key kept them among ``"hyperparameters"`` (they are moved), and one written before a
    setting of :data:`EARLIER_RUN_SETTINGS` existed ran with its value there (it is filled in);
    nothing else changes."""
    if "hyperparameters" not in record:
        return record
    if "settings" in record:
        hyperparameters, settings = record["hyperparameters"], record["settings"]
    else:
        hyperparameters, settings = split_settings(record["hyperparameters"])
    return {**record, "hyperparameters": hyperparameters, "settings": {**EARLIER_RUN_SETTINGS, **settings}}


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
