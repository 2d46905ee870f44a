"""Predictive Policy Improvement (PPI), the paper's own method (SPEC section 4).

| module       | idea                                                                 |
|--------------|----------------------------------------------------------------------|
| ``model``    | GRU sequence model: next observation, reward and own-action heads     |
| ``planner``  | pi ∝ p_phi exp(beta Q), Q by batched Monte Carlo rollouts in the model |
| ``dataset``  | the per-phase data set on disk (compressed uint8 outcomes)            |
| ``collect``  | pretraining data D_0 and the pool's trajectories as episodes          |
| ``config``   | hyperparameters and the ``test`` / ``cpu-quick`` / ``cpu`` / ``paper`` presets |
| ``trainer``  | the phased loop, as a trainer of the shared harness (``agents.harness.runner``) |

:data:`ALGORITHM` is PPI's record for the harness (listed in
:data:`agents.harness.algorithms.ALGORITHMS`), so ``ipd-coop reproduce fig1 --algo ppi``
runs it. PPI keeps a data set across phases: the record names its store class, which the
harness opens in each run folder and hands to :class:`PPITrainer`.
"""
from agents.algorithm import Algorithm
from agents.ppi.config import PRESETS, PPIConfig, preset_settings
from agents.ppi.dataset import EpisodeStore
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlannerConfig, PlanningPlayer, rollout_values
from agents.ppi.trainer import PPITrainer, fit_model, trained_models, trained_players

#: PPI as the harness sees it (:class:`agents.algorithm.Algorithm`).
ALGORITHM = Algorithm(name="ppi", config_class=PPIConfig, presets=tuple(PRESETS), preset_settings=preset_settings,
                      episodes_per_unit=lambda config: config.episodes_per_phase,
                      num_units=lambda config: config.num_phases, make_trainer=PPITrainer,
                      trained_players=trained_players, data_set=EpisodeStore,
                      settings_defaults={"checkpoint_every": 1, "eval_every": 1})

__all__ = [
    "ALGORITHM", "PRESETS", "PPIConfig", "EpisodeStore", "ModelConfig", "SequenceModel", "PlannerConfig",
    "PlanningPlayer", "rollout_values", "PPITrainer", "fit_model", "trained_models", "trained_players",
]
