"""PPI's hyperparameters and presets (SPEC sections 4 and 7).

``paper`` is the paper's scale: 200,000 pretraining episodes, 20,000 episodes per
phase, 30 phases, AdamW (lr 1e-4, weight decay 1e-2, betas (0.9, 0.98)), batch 256
episodes, 10 epochs per phase, gradient clip 1, GRU hidden 128 / embeddings 32,
beta 0.01, K = 8 rollouts of 15 rounds. It needs a GPU (``benchmarks/ppi_throughput.py``
prints the estimate).

The CPU presets shrink what costs time on 2 cores and say so:

* a smaller GRU (hidden 64 / embeddings 16) and fewer, shorter rollouts (K = 4, 10 rounds);
* far fewer episodes and phases, minibatches of 32 episodes and a larger learning rate
  (5e-3), so the model makes enough gradient steps on them in a few epochs (measured: 6
  epochs over 1,500 episodes take the next-observation loss from ln 5 to 0.59 nats);
* ``beta = 1``: with rewards of about 1 per round, ``beta = 0.01`` moves the prior's
  log-odds by ``0.01 * (Q_D - Q_C)``, a few percent per phase, which 30 phases of 20,000
  episodes may accumulate but 6 phases of a few hundred cannot. Measured on a model
  trained on 1,500 tabular-vs-tabular episodes (K 4, horizon 10), late-episode
  cooperation against AllD / TFT / AllC: beta 0 (the prior) 0.56 / 0.46 / 0.54,
  beta 0.01: 0.50 / 0.42 / 0.46, beta 0.1: 0.32 / 0.32 / 0.31, beta 1: 0.07 / 0.09 / 0.03.
  A cpu-quick mixed-pool run with beta 0.01 stays at the prior (learner-vs-learner
  cooperation 0.52 after 6 phases, 0.57 cooperation against AllD late in the episode).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from agents.history import IDENTITY_INPUTS
from agents.ppi.collect import PRETRAINING_KINDS
from agents.ppi.planner import ACT_WITH, PlannerConfig
from agents.settings import check_settings, check_value, setting


@dataclass
class PPIConfig:
    """Hyperparameters of one PPI run (JSON-able; ``config.json`` stores them)."""

    num_phases: int = setting(30, at_least=1)
    """phases: re-initialise (or keep) the model, train on all data, collect with pi."""
    pretraining_episodes: int = setting(200_000, at_least=2)
    """first-person episodes in D_0 (two views per tabular-vs-tabular game)."""
    episodes_per_phase: int = setting(20_000, at_least=1)
    """episodes each learner plays per phase (the pool's games_per_learner)."""
    pretraining: str = "auto"
    """D_0: 'tabular', 'random' (coin-flip action sequences), or 'auto' (random for no-tabular)."""
    reinitialise: bool = True
    """re-initialise the model every phase (the paper); False warm-starts from the last phase."""
    epochs: int = setting(10, at_least=1)
    """passes over all data so far per phase."""
    batch_size: int = setting(256, at_least=1)
    """episodes per gradient step."""
    learning_rate: float = setting(1e-4, above=0)
    """AdamW learning rate."""
    weight_decay: float = setting(1e-2, at_least=0)
    """AdamW weight decay."""
    adam_betas: list = field(default_factory=lambda: [0.9, 0.98])
    """AdamW betas."""
    max_grad_norm: float = setting(1.0, above=0)
    """gradient norm clip."""
    hidden_size: int = setting(128, at_least=1)
    """GRU hidden units."""
    embedding_size: int = setting(32, at_least=1)
    """per-modality embedding width."""
    beta: float = setting(0.01, at_least=0)
    """inverse temperature of pi ∝ p_phi exp(beta Q)."""
    num_rollouts: int = setting(8, at_least=1)
    """K: Monte Carlo rollouts per action."""
    horizon: int = setting(15, at_least=1)
    """rounds per rollout."""
    discount: float = setting(1.0, at_least=0, at_most=1)
    """gamma inside Q."""
    common_random_numbers: bool = True
    """rollout k of 'cooperate' and rollout k of 'defect' share their random draws (ours: the
    difference Q_C - Q_D is far less noisy). SPEC 7 asks whether this removes exploration the
    paper's PPI shows (it still cooperates ~0.1 against AllD): ``False`` draws each rollout afresh."""
    act_with: str = "pi"
    """the learners act with 'pi' or with the prior 'prior'."""
    opponent_id_input: str = "prepended"
    """the opponent-ID ablation's input (:mod:`agents.history`): ``"prepended"`` (the paper's: the
    10 log-probabilities log pi(a | o), once, before round 0) or ``"every_round"`` (an alternative
    reading, not the paper's: the 5 log p(C | o) beside every round's input)."""
    fixed_icl_act_with: str = "pi"
    """how the frozen Step-1 learner (Fixed-ICL) acts in Step 2: 'pi' or 'prior'."""

    #: what to lower when training diverges (non-finite loss or weights).
    DIVERGENCE_SETTINGS = ("learning_rate", "weight_decay")

    def __post_init__(self):
        """Every setting checked by its declared type and range (:mod:`agents.settings`), then the rest."""
        check_settings(self, "ppi")
        if self.pretraining_episodes % 2:
            raise ValueError(f"ppi setting pretraining_episodes must be even (two views per game), "
                             f"got {self.pretraining_episodes}")
        if not isinstance(self.adam_betas, (list, tuple)) or len(self.adam_betas) != 2:
            raise ValueError(f"ppi setting adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        self.adam_betas = [check_value(f"adam_betas[{index}]", value, float, {"at_least": 0, "below": 1}, "ppi")
                           for index, value in enumerate(self.adam_betas)]
        if self.pretraining not in PRETRAINING_KINDS + ("auto",):
            raise ValueError(f"ppi setting pretraining must be one of {PRETRAINING_KINDS + ('auto',)}, "
                             f"got {self.pretraining!r}")
        for name in ("act_with", "fixed_icl_act_with"):
            if getattr(self, name) not in ACT_WITH:
                raise ValueError(f"ppi setting {name} must be one of {ACT_WITH}, got {getattr(self, name)!r}")
        if self.opponent_id_input not in IDENTITY_INPUTS:
            raise ValueError(f"ppi setting opponent_id_input must be one of {IDENTITY_INPUTS}, "
                             f"got {self.opponent_id_input!r}")

    #: Settings added after run folders were first written, with the value every earlier run had.
    EARLIER_VALUES = {"opponent_id_input": "every_round"}

    @classmethod
    def from_saved(cls, hyperparameters: dict) -> PPIConfig:
        """The config of a ``config.json``'s ``hyperparameters``, settings written before they existed
        read with the value they ran with."""
        return cls(**{**cls.EARLIER_VALUES, **hyperparameters})

    def planner(self, act_with: Optional[str] = None) -> PlannerConfig:
        return PlannerConfig(beta=self.beta, num_rollouts=self.num_rollouts, horizon=self.horizon,
                             discount=self.discount, act_with=act_with or self.act_with,
                             common_random_numbers=self.common_random_numbers)


_CPU_COMMON = dict(hidden_size=64, embedding_size=16, batch_size=32, learning_rate=5e-3, beta=1.0, num_rollouts=4,
                   horizon=10)

#: Preset -> overrides of the defaults (the paper's values).
PRESETS = {
    "test": dict(_CPU_COMMON, num_phases=2, pretraining_episodes=32, episodes_per_phase=16, epochs=1, batch_size=16,
                 hidden_size=16, embedding_size=8, num_rollouts=2, horizon=3, num_rounds=10, eval_pool_size=64,
                 eval_games=8),
    # The planner plays every evaluation game too: a 1,024-co-player pool set after each phase would
    # cost ~5x a cpu-quick phase, so the CPU presets evaluate on 256 co-players and 16 games per classic.
    "cpu-quick": dict(_CPU_COMMON, num_phases=6, pretraining_episodes=1000, episodes_per_phase=128, epochs=4,
                      eval_pool_size=256, eval_games=16),
    "cpu": dict(_CPU_COMMON, num_phases=12, pretraining_episodes=2048, episodes_per_phase=512, epochs=5,
                eval_pool_size=256, eval_games=16),
    "paper": {},
}


def preset_settings(preset: str, paper_step: int) -> dict:
    """What ``preset`` sets over :class:`PPIConfig`'s defaults; the same for every column of Table 2
    (``paper_step``: the paper gives PPI one set of hyperparameters)."""
    return dict(PRESETS[preset])


def pretraining_kind(config: PPIConfig, pool_mode: str) -> str:
    """D_0's kind: 'auto' gives random action sequences when the pool has no tabular agents."""
    if config.pretraining != "auto":
        return config.pretraining
    return "random" if pool_mode == "no-tabular" else "tabular"
