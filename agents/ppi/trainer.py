"""PPI's phased training loop (SPEC section 4), plugged into the shared runner.

One *phase* (the runner's unit of work), for every learner::

    model  <- a freshly initialised SequenceModel              (reinitialise=True, the paper)
    fit model on D_0 + D_1 + ... + D_k  (epochs x all data, AdamW, batch 256, clip 1)
    pi     <- p_phi(a | x) exp(beta Q(x, a))                   (agents.ppi.planner)
    D_k+1  <- the learner's own episodes when all learners play the pool with pi

D_0 is pretraining data (tabular-vs-tabular games, or coin-flip action sequences for
the no-tabular ablation; Step 3 starts from the Step-2 learners' whole data sets). Every
D_k is written to ``<run folder>/data/`` (:mod:`agents.ppi.dataset`) before the phase
ends, and the checkpoint holds the models and RNG states, so a resumed run trains on
exactly the data it would have had. The runner hands the run folder over through
:meth:`PPITrainer.use_run_folder`.

Randomness: a CPU generator seeded from the run seed draws model initialisations and
minibatch orders; a generator on the device drives the pool (tabular draws, rollouts,
action sampling). D_0 has its own seed-derived generator, so an already-stored D_0 is
reused as is.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from agents.harness.checkpoint import first_non_finite, load_trained_models
from agents.pool import IDENTITY_MODES, TrainingPool
from agents.ppi.collect import pretraining_episodes, trajectory_episodes
from agents.ppi.config import PPIConfig, pretraining_kind
from agents.ppi.dataset import EpisodeBatcher, EpisodeStore
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlanningPlayer
from agents.settings import diverged

DATA_FOLDER = "data"


def fit_model(model: SequenceModel, batcher: EpisodeBatcher, config: PPIConfig, generator: torch.Generator) -> dict:
    """Maximum-likelihood training of ``model`` on every episode of ``batcher``.

    ``config.epochs`` shuffled passes, minibatches of ``config.batch_size`` episodes,
    AdamW with the config's settings, gradient norm clipped at ``config.max_grad_norm``.

    Returns:
        the mean losses of the last epoch (``loss/action``, ``loss/observation``,
        ``loss/reward``, ``loss/total``), in nats (reward: 0.5 * squared error) per round.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay,
                                  betas=tuple(config.adam_betas))
    model.train()
    for epoch in range(config.epochs):
        sums, count = {}, 0
        for batch in batcher.epoch(config.batch_size, generator):
            loss, parts = model.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            size = batch["action"].shape[1]
            parts["loss/total"] = float(loss.detach())
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value * size
            count += size
    model.eval()
    return {key: value / count for key, value in sums.items()}


class PPITrainer:
    """Trains the PPI learners of one condition; see :class:`agents.harness.runner.Trainer`.

    Args:
        config: :class:`PPIConfig` values (a dict, as ``config.json`` stores them).
        condition: the :class:`agents.harness.experiments.Condition` (pool mode, learners).
        seed: seeds everything.
        device: torch device of models, pool and planner.
        prerequisites: ``{"frozen_from": Path | None, "init_from": Path | None}``:
            finished run folders of the same seed (Step 2's Fixed-ICL, Step 3's start).
        run_folder: where ``data/`` goes (set later by the runner through
            :meth:`use_run_folder` when not given here).
    """

    unit_name = "phase"

    def __init__(self, config: dict, condition, seed: int, device="cpu", prerequisites: Optional[dict] = None,
                 run_folder=None):
        self.config = PPIConfig(**config)
        self.condition = condition
        self.seed = int(seed)
        self.device = torch.device(device)
        self.num_units = self.config.num_phases
        self.checkpoint_every = self.config.checkpoint_every
        self.eval_every = self.config.eval_every  # the runner evaluates after every this many phases
        self.num_learners = condition.num_learners
        self.uses_identity = condition.pool_mode in IDENTITY_MODES
        self.model_config = ModelConfig(self.config.hidden_size, self.config.embedding_size, self.uses_identity)
        prerequisites = prerequisites or {}
        self.init_from = prerequisites.get("init_from")
        self._frozen = []
        if prerequisites.get("frozen_from") is not None:
            self._frozen = load_players(prerequisites["frozen_from"], self.device,
                                        act_with=self.config.fixed_icl_act_with)[:1]
            self._frozen[0].name = "fixed-icl"
        self.pool = TrainingPool(condition.pool_mode, self.num_learners, self.config.episodes_per_phase,
                                 num_frozen=len(self._frozen), num_rounds=self.config.num_rounds,
                                 payoffs=self.config.payoffs, device=self.device, pool=self.config.pool)
        self.cpu_generator = torch.Generator().manual_seed(self.seed)
        self.pool_generator = torch.Generator(device=self.device)
        self.pool_generator.manual_seed(self.seed + 1)
        self.phases_done = 0
        self.models = [self._new_model() for _ in range(self.num_learners)]
        self._store: Optional[EpisodeStore] = None
        self.run_folder = None
        if run_folder is not None:
            self.use_run_folder(run_folder)

    # -- files ------------------------------------------------------------------------
    def use_run_folder(self, folder) -> None:
        """Keep the data set under ``<folder>/data`` (called by the runner)."""
        self.run_folder = Path(folder)

    def data_config(self) -> dict:
        """Everything that decides the stored episodes; a data folder is tied to it."""
        return {"condition": self.condition.name, "pool_mode": self.condition.pool_mode, "seed": self.seed,
                "num_learners": self.num_learners, "init_from": None if self.init_from is None else str(self.init_from),
                "hyperparameters": dataclasses.asdict(self.config)}

    @property
    def store(self) -> EpisodeStore:
        if self._store is None:
            if self.run_folder is None:
                raise RuntimeError("PPITrainer needs a run folder for its data set: pass run_folder= or call "
                                   "use_run_folder() before training")
            self._store = EpisodeStore(str(self.run_folder / DATA_FOLDER), self.data_config())
        return self._store

    # -- the phase --------------------------------------------------------------------
    def _new_model(self) -> SequenceModel:
        model_seed = int(torch.randint(0, 2**62, (1,), generator=self.cpu_generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(model_seed)
            model = SequenceModel(self.model_config)
        return model.to(self.device)

    def _ensure_initial_data(self) -> None:
        """Write D_0 of every learner unless an intact copy is already stored."""
        store = self.store
        if all(store.has_phase(learner, 0) for learner in range(self.num_learners)):
            return
        if self.init_from is not None:
            initial = _load_finished_data(Path(self.init_from))
            if len(initial) < self.num_learners:
                raise ValueError(f"{self.init_from} has data of {len(initial)} learners, {self.num_learners} needed")
            for learner in range(self.num_learners):
                store.save_phase(learner, 0, initial[learner])
            return
        kind = pretraining_kind(self.config, self.condition.pool_mode)
        generator = torch.Generator().manual_seed(1_000_003 * (self.seed + 1))
        for learner in range(self.num_learners):
            episodes = pretraining_episodes(self.config.pretraining_episodes, kind, self.config.num_rounds, generator,
                                            pool=self.pool.pool_distribution)
            store.save_phase(learner, 0, episodes)

    def players(self) -> list:
        return [PlanningPlayer(model, self.config.planner(), self.config.num_rounds, name=f"ppi_{index}")
                for index, model in enumerate(self.models)]

    def frozen_players(self) -> list:
        return list(self._frozen)

    def train_unit(self, unit_index: int) -> dict:
        if unit_index != self.phases_done:
            raise RuntimeError(f"phase {unit_index} asked but {self.phases_done} phases are done")
        self._ensure_initial_data()
        losses: dict = {}
        for learner in range(self.num_learners):
            if self.config.reinitialise or unit_index == 0:
                self.models[learner] = self._new_model()
            episodes = self.store.load(learner, unit_index + 1)
            batcher = EpisodeBatcher(episodes, self.config.payoffs, self.uses_identity, self.device)
            fitted = fit_model(self.models[learner], batcher, self.config, self.cpu_generator)
            # Stop before a diverged model plays: its NaN policy would write garbage episodes.
            what = next((f"{key} is {value}" for key, value in fitted.items() if not math.isfinite(value)), None)
            where = first_non_finite(self.models[learner].state_dict())
            what = what or (None if where is None else f"its weights hold NaN or inf ({where})")
            if what is not None:
                raise diverged(self.config, self.unit_name, unit_index, f"learner {learner}'s model fit: {what}")
            for key, value in fitted.items():
                losses.setdefault(key, []).append(value)
        trajectories, metrics = self.pool.play(self.players(), self.pool_generator, self._frozen)
        for learner, trajectory in enumerate(trajectories):
            self.store.save_phase(learner, unit_index + 1, trajectory_episodes(trajectory))
        self.phases_done = unit_index + 1
        metrics.update({key: sum(values) / len(values) for key, values in losses.items()})
        metrics["data/episodes_per_learner"] = float(batcher.num_episodes)
        return metrics

    # -- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"phases_done": self.phases_done,
                "models": [model.state_dict() for model in self.models],
                "cpu_generator": self.cpu_generator.get_state(),
                "pool_generator": self.pool_generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.phases_done = int(state["phases_done"])
        for model, model_state in zip(self.models, state["models"]):
            model.load_state_dict(model_state)
        self.cpu_generator.set_state(state["cpu_generator"].cpu())
        self.pool_generator.set_state(state["pool_generator"].cpu())


def make_trainer(config: dict, condition, seed: int, device="cpu", prerequisites: Optional[dict] = None) -> PPITrainer:
    return PPITrainer(config, condition, seed, device, prerequisites)


def _read_finished(unit_dir: Path):
    from agents.harness.checkpoint import load_checkpoint, read_json

    config = read_json(unit_dir / "config.json")
    if config.get("algo") != "ppi":
        raise ValueError(f"{unit_dir} holds a {config.get('algo')!r} run, not a ppi run")
    state = load_checkpoint(unit_dir / "checkpoints" / "final.pt")
    return config, state


def _load_finished_data(unit_dir: Path) -> list:
    """Every learner's whole data set of a finished PPI run folder (Step 3 starts from Step 2's)."""
    config, state = _read_finished(unit_dir)
    trainer_state = state["trainer"]
    store_folder = unit_dir / DATA_FOLDER
    manifest = EpisodeStore.read_config(str(store_folder))
    store = EpisodeStore(str(store_folder), manifest)
    phases = int(trainer_state["phases_done"]) + 1
    return [store.load(learner, phases) for learner in range(config["num_learners"])]


def load_models(unit_dir, device="cpu") -> list:
    """The trained sequence models of a finished PPI run folder (``checkpoints/final.pt``)."""
    unit_dir = Path(unit_dir)
    config, state = _read_finished(unit_dir)
    hyper = PPIConfig(**config["hyperparameters"])
    model_config = ModelConfig(hyper.hidden_size, hyper.embedding_size, config["pool_mode"] in IDENTITY_MODES)
    return load_trained_models(unit_dir, state["trainer"]["models"], lambda: SequenceModel(model_config), device)


def load_players(unit_dir, device="cpu", act_with: Optional[str] = None) -> list:
    """The learners of a finished PPI run folder as planning players (``act_with`` overrides the config's)."""
    unit_dir = Path(unit_dir)
    from agents.harness.checkpoint import read_json

    hyper = PPIConfig(**read_json(unit_dir / "config.json")["hyperparameters"])
    return [PlanningPlayer(model, hyper.planner(act_with), hyper.num_rounds, name=f"ppi_{index}")
            for index, model in enumerate(load_models(unit_dir, device))]
