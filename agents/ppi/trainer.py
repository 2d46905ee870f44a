"""PPI's phased training loop (SPEC section 4), as a trainer of the shared harness.

One *phase* (the harness's unit of work), for every learner::

    model  <- a freshly initialised SequenceModel              (reinitialise=True, the paper)
    fit model on D_0 + D_1 + ... + D_k  (epochs x all data, AdamW, batch 256, clip 1)
    pi     <- p_phi(a | x) exp(beta Q(x, a))                   (agents.ppi.planner)
    D_k+1  <- the learner's own episodes when all learners play the pool with pi

D_0 is pretraining data (tabular-vs-tabular games, or coin-flip action sequences for
the no-tabular ablation; Step 3 starts from the Step-2 learners' whole data sets). Every
D_k is saved to the trainer's data set (an :class:`agents.ppi.dataset.EpisodeStore`)
before the phase ends, and the checkpoint holds the models and RNG states, so a resumed
run trains on exactly the data it would have had. The trainer does not choose where the
data set lives: the harness opens it in the run folder (``<unit>/data/``), tied to a
fingerprint of the run, and hands it over as ``data_set``; likewise a finished run to
build on arrives as a :class:`agents.algorithm.TrainedRun` (its config, state and data set).

Randomness: a CPU generator seeded from the run seed draws model initialisations and
minibatch orders; a generator on the device drives the pool (tabular draws, rollouts,
action sampling). D_0 has its own seed-derived generator, so an already-stored D_0 is
reused as is.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from agents.algorithm import RunSettings, TrainedRun, models_from_states
from agents.pool import IDENTITY_MODES, TrainingPool
from agents.ppi.collect import pretraining_episodes, trajectory_episodes
from agents.ppi.config import PPIConfig, pretraining_kind
from agents.ppi.dataset import EpisodeBatcher, EpisodeStore
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlanningPlayer
from agents.settings import diverged, first_non_finite


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
    """Trains the PPI learners of one run (a :class:`agents.algorithm.Trainer`).

    Args:
        config: the run's hyperparameters.
        settings: the run's game and pool (:class:`agents.algorithm.RunSettings`; default: the paper's).
        pool_mode: who the learners play (:data:`agents.pool.POOL_MODES`).
        num_learners: trainable learners.
        seed: seeds everything.
        device: torch device of models, pool and planner.
        frozen_from: a finished run whose learner 0 is the frozen co-player (Step 2's
            Fixed-ICL), acting as ``config.fixed_icl_act_with`` says.
        init_from: a finished run (with its data set) whose learners' whole data sets are
            this run's D_0 (Step 3 starts from Step 2's).
        data_set: where the phases' episodes are kept, an :class:`EpisodeStore` (the harness
            opens ``<unit>/data/``); needed from the first :meth:`train_unit` on.
    """

    unit_name = "phase"

    def __init__(self, config: PPIConfig, settings: Optional[RunSettings] = None, *, pool_mode: str,
                 num_learners: int, seed: int, device="cpu", frozen_from: Optional[TrainedRun] = None,
                 init_from: Optional[TrainedRun] = None, data_set: Optional[EpisodeStore] = None):
        self.config = config
        self.settings = settings = settings if settings is not None else RunSettings()
        self.pool_mode = pool_mode
        self.seed = int(seed)
        self.device = torch.device(device)
        self.num_units = config.num_phases
        self.num_learners = num_learners
        self.uses_opponent_identity = pool_mode in IDENTITY_MODES
        self.model_config = ModelConfig(config.hidden_size, config.embedding_size, self.uses_opponent_identity,
                                        config.opponent_id_input)
        self.init_from = init_from
        self._frozen = []
        if frozen_from is not None:
            self._frozen = trained_players(frozen_from, self.device, act_with=config.fixed_icl_act_with)[:1]
            self._frozen[0].name = "fixed-icl"
        self.pool = TrainingPool(pool_mode, num_learners, config.episodes_per_phase, num_frozen=len(self._frozen),
                                 num_rounds=settings.num_rounds, payoffs=settings.payoffs, device=self.device,
                                 pool=settings.pool)
        self.cpu_generator = torch.Generator().manual_seed(self.seed)
        self.pool_generator = torch.Generator(device=self.device)
        self.pool_generator.manual_seed(self.seed + 1)
        self.phases_done = 0
        self.models = [self._new_model() for _ in range(self.num_learners)]
        self.data_set = data_set

    @property
    def store(self) -> EpisodeStore:
        if self.data_set is None:
            raise RuntimeError("PPITrainer keeps its episodes in a data set: pass data_set=EpisodeStore(folder, "
                               "fingerprint) (the harness opens <unit>/data/)")
        return self.data_set

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
            if self.init_from.data_set is None:
                raise ValueError(f"{self.init_from.source}: PPI starts from a run's data set, and none was given")
            phases = int(self.init_from.state["phases_done"]) + 1  # D_0 and every phase's collection
            initial = [self.init_from.data_set.load(learner, phases) for learner in range(self.init_from.num_learners)]
            if len(initial) < self.num_learners:
                raise ValueError(f"{self.init_from.source} has data of {len(initial)} learners, "
                                 f"{self.num_learners} needed")
            for learner in range(self.num_learners):
                store.save_phase(learner, 0, initial[learner])
            return
        kind = pretraining_kind(self.config, self.pool_mode)
        generator = torch.Generator().manual_seed(1_000_003 * (self.seed + 1))
        for learner in range(self.num_learners):
            episodes = pretraining_episodes(self.config.pretraining_episodes, kind, self.settings.num_rounds, generator,
                                            pool=self.pool.pool_distribution)
            store.save_phase(learner, 0, episodes)

    def players(self) -> list:
        return [PlanningPlayer(model, self.config.planner(), self.settings.num_rounds, name=f"ppi_{index}")
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
            batcher = EpisodeBatcher(episodes, self.settings.payoffs, self.uses_opponent_identity, self.device)
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


def trained_models(run: TrainedRun, device="cpu") -> list:
    """The trained sequence models of a finished PPI run (its trainer's final state), in eval mode."""
    model_config = ModelConfig(run.config.hidden_size, run.config.embedding_size, run.pool_mode in IDENTITY_MODES,
                               run.config.opponent_id_input)
    return models_from_states(run.state["models"], lambda: SequenceModel(model_config), device, run.source)


def trained_players(run: TrainedRun, device="cpu", act_with: Optional[str] = None) -> list:
    """The learners of a finished PPI run as planning players (``act_with`` overrides the run's config)."""
    return [PlanningPlayer(model, run.config.planner(act_with), run.settings.num_rounds, name=f"ppi_{index}")
            for index, model in enumerate(trained_models(run, device))]
