"""Predictive Policy Improvement (PPI), the paper's own method (SPEC section 4).

| module       | idea                                                                 |
|--------------|----------------------------------------------------------------------|
| ``model``    | GRU sequence model: next observation, reward and own-action heads     |
| ``planner``  | pi ∝ p_phi exp(beta Q), Q by batched Monte Carlo rollouts in the model |
| ``dataset``  | the per-phase data set on disk (compressed uint8 outcomes)            |
| ``collect``  | pretraining data D_0 and the pool's trajectories as episodes          |
| ``config``   | hyperparameters and the ``test`` / ``cpu-quick`` / ``cpu`` / ``paper`` presets |
| ``trainer``  | the phased loop, as a trainer of the shared runner (``agents.harness.runner``) |

This package is registered as algorithm ``"ppi"`` in :data:`agents.harness.runner.ALGORITHMS`
(imported lazily), so ``examples/reproduce.py fig1 --algo ppi`` runs it.
"""
from agents.ppi.config import PRESETS, PPIConfig, check_config, make_config
from agents.ppi.model import ModelConfig, SequenceModel
from agents.ppi.planner import PlannerConfig, PlanningPlayer, rollout_values
from agents.ppi.trainer import PPITrainer, fit_model, load_models, load_players, make_trainer

__all__ = [
    "PRESETS", "PPIConfig", "check_config", "make_config", "ModelConfig", "SequenceModel", "PlannerConfig",
    "PlanningPlayer", "rollout_values", "PPITrainer", "fit_model", "load_models", "load_players", "make_trainer",
]
