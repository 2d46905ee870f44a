"""PPI's policy improvement: Monte Carlo planning inside the sequence model.

SPEC section 4::

    pi(a | x) ∝ p_phi(a | x) * exp(beta * Q(x, a))

``Q(x, a)`` is the (optionally discounted) sum of the model's predicted rewards over a
rollout of ``horizon`` rounds that starts with action ``a``: sample the next observation
from the model, take the reward head's mean, feed the round back into the GRU, sample
the own next action from the prior ``p_phi``, repeat. ``num_rollouts`` (K) rollouts per
action are averaged. Rollouts stop at the episode's end (they never count rounds past
``num_rounds``).

All games x 2 actions x K rollouts form ONE batch ``[num_games * 2 * K]``; the only
Python loop is over the horizon. The reward head's Gaussian has zero-mean noise, so we
add its mean rather than a sample: the same expected Q with less variance.

Common random numbers (**ours**, on by default): the k-th rollout after "cooperate" and
the k-th after "defect" sample from the same uniform draws (inverse-CDF sampling), so
their difference, which is all that pi depends on, is not drowned in independent rollout
noise. Measured with a model trained on tabular games, K = 4, horizon 10: against AllD
late in the episode, independent rollouts leave pi cooperating 16-23% of the time for
beta 1-5 (noise in Q_D - Q_C flips the choice), common random numbers remove most of it
(numbers in the README's PPI section).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch

from agents.ppi.model import NO_ACTION, SequenceModel
from ipd_env.game import NUM_ACTIONS
from ipd_env.memory_one import IDENTITY_SIZE

ACT_WITH = ("pi", "prior")


@dataclass(frozen=True)
class PlannerConfig:
    """Settings of the planner (SPEC sections 4 and 7)."""

    beta: float = 0.01
    """Inverse temperature of the improvement step pi ∝ p_phi exp(beta Q); 0 plays the prior."""
    num_rollouts: int = 8
    """K: Monte Carlo rollouts per candidate action (the paper does not give it)."""
    horizon: int = 15
    """Rounds simulated per rollout, the first one included."""
    discount: float = 1.0
    """gamma inside Q (the paper writes one without a value; ours: 1)."""
    act_with: str = "pi"
    """'pi' acts with the improved policy, 'prior' with p_phi (a Fixed-ICL option, SPEC section 7)."""
    common_random_numbers: bool = True
    """Rollout k of 'cooperate' and rollout k of 'defect' share their uniform draws (ours; see module doc)."""

    def __post_init__(self):
        if not (isinstance(self.beta, (int, float)) and self.beta >= 0 and self.beta != float("inf")):
            raise ValueError(f"planner beta must be a finite number >= 0, got {self.beta!r}")
        for name in ("num_rollouts", "horizon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                label = "K (num_rollouts)" if name == "num_rollouts" else "horizon"
                raise ValueError(f"planner {label} must be an integer >= 1, got {value!r}")
        if not (isinstance(self.discount, (int, float)) and 0.0 <= self.discount <= 1.0):
            raise ValueError(f"planner discount must lie in [0, 1], got {self.discount!r}")
        if self.act_with not in ACT_WITH:
            raise ValueError(f"planner act_with must be one of {ACT_WITH}, got {self.act_with!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def sample_categorical(logits: torch.Tensor, generator: Optional[torch.Generator] = None,
                       draw: Optional[torch.Tensor] = None) -> torch.Tensor:
    """One draw per row of ``logits`` ``[M, C]`` -> ``[M]`` int64, by inverse CDF on a uniform draw.

    ``draw`` ``[M, 1]`` in [0, 1) replaces the fresh uniform draws (common random numbers).
    """
    cumulative = torch.softmax(logits, dim=-1).cumsum(dim=-1)
    if draw is None:
        draw = torch.rand(logits.shape[0], 1, generator=generator, device=logits.device)
    # The last cumulative value can round to just below 1; such a draw belongs to the last class.
    return (cumulative < draw).sum(dim=-1).clamp_max(logits.shape[-1] - 1)


@torch.no_grad()
def rollout_values(
    model: SequenceModel,
    features: torch.Tensor,
    hidden: torch.Tensor,
    rounds_left: int,
    config: PlannerConfig,
    identity: Optional[torch.Tensor] = None,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """Monte Carlo ``Q(x, a)`` for both actions of every game.

    Args:
        model: the sequence model (world model and prior).
        features: ``[N, H]`` Swish GRU output after the current observation.
        hidden: ``[1, N, H]`` GRU state after the current observation.
        rounds_left: rounds still to play in the episode, the current one included (>= 1).
        config: horizon, K and discount.
        identity: ``[N, 5]`` opponent-ID vectors if the model uses them.
        generator: source of the rollouts' randomness.

    Returns:
        ``[N, 2]`` float: mean predicted (discounted) reward sum over ``min(horizon, rounds_left)``
        rounds, starting with cooperate (column 0) or defect (column 1).
    """
    if rounds_left < 1:
        raise ValueError(f"rounds_left must be >= 1 (the episode is over), got {rounds_left}")
    num_games = features.shape[0]
    copies = NUM_ACTIONS * config.num_rollouts
    features = features.repeat_interleave(copies, dim=0)  # [M, H], M = N * 2 * K, order [N, 2, K]
    hidden = hidden.repeat_interleave(copies, dim=1)
    if identity is not None:
        identity = identity.repeat_interleave(copies, dim=0)
    action = torch.arange(NUM_ACTIONS, device=features.device).repeat_interleave(config.num_rollouts).repeat(num_games)
    value = torch.zeros(features.shape[0], device=features.device)
    steps = min(config.horizon, rounds_left)

    def uniform():
        if not config.common_random_numbers:
            return None
        draw = torch.rand(num_games, 1, config.num_rollouts, generator=generator, device=features.device)
        return draw.expand(num_games, NUM_ACTIONS, config.num_rollouts).reshape(-1, 1)

    heads = model.fused_heads()  # one matmul per round for all three heads
    outputs = heads(features)  # [M, 2 + 5 + 1]
    weight = 1.0
    for step in range(steps):
        observation_logits = outputs[:, 2:7] + heads.observation_by_action[action]
        next_observation = sample_categorical(observation_logits, generator, uniform())
        reward = outputs[:, 7] + heads.reward_by_action[action] + heads.reward_by_observation[next_observation]
        value += weight * reward
        weight *= config.discount
        if step + 1 < steps:
            features, hidden = model.step(next_observation, action, reward, hidden, identity)
            outputs = heads(features)
            action = sample_categorical(outputs[:, :2], generator, uniform())
    return value.view(num_games, NUM_ACTIONS, config.num_rollouts).mean(dim=-1)


class PlanningPlayer:
    """A PPI learner that plays through the player interface of :mod:`ipd_env.player`.

    Each :meth:`act` feeds the round into the GRU, then samples from
    ``pi ∝ p_phi exp(beta Q)`` (or from ``p_phi`` with ``act_with='prior'`` or ``beta=0``).

    Args:
        model: a trained :class:`SequenceModel` (put in eval mode, never trained here).
        config: planner settings.
        num_rounds: episode length, so that rollouts stop at the episode's end.
        name: shown in tables and plots.

    After each ``act``: ``last_prior`` and ``last_policy`` ``[N, 2]`` probabilities and
    ``last_q`` ``[N, 2]`` (None when no planning was done).
    """

    def __init__(self, model: SequenceModel, config: PlannerConfig = PlannerConfig(), num_rounds: int = 100,
                 name: str = "ppi"):
        self.model = model
        self.config = config
        self.num_rounds = num_rounds
        self.name = name
        self.last_q: Optional[torch.Tensor] = None
        self.last_prior: Optional[torch.Tensor] = None
        self.last_policy: Optional[torch.Tensor] = None
        self._hidden = None
        self._round: Optional[int] = None  # None until the first reset

    def __repr__(self) -> str:
        return (f"PlanningPlayer({self.name!r}, beta={self.config.beta}, K={self.config.num_rollouts}, "
                f"horizon={self.config.horizon})")

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        """New episodes. ``opponent_identity`` ``[N, 10]``: required iff the model uses the identity."""
        uses_opponent_identity = self.model.config.uses_opponent_identity
        if uses_opponent_identity and opponent_identity is None:
            raise ValueError(f"{self.name}: this model conditions on the opponent identity; pass opponent_identity "
                             f"[N, {IDENTITY_SIZE}]")
        if opponent_identity is not None and tuple(opponent_identity.shape) != (num_games, IDENTITY_SIZE):
            raise ValueError(f"{self.name}: opponent_identity must be [{num_games}, {IDENTITY_SIZE}], "
                             f"got {tuple(opponent_identity.shape)}")
        self.model.eval()
        self._generator = generator
        self._identity = opponent_identity if uses_opponent_identity else None
        self._round = 0
        self._hidden = None
        self._previous_action = None

    @torch.no_grad()
    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if self._round is None:
            raise RuntimeError(f"{self.name}: act called before reset()")
        if self._round >= self.num_rounds:
            raise RuntimeError(f"{self.name}: all {self.num_rounds} rounds of its episode were played; call reset(), "
                               f"or set num_rounds to the length of the games it plays")
        device = observation.device
        if self._hidden is None:
            self._hidden = self.model.initial_hidden(observation.shape[0], device, self._identity)
            self._previous_action = torch.full((observation.shape[0],), NO_ACTION, dtype=torch.int64, device=device)
            if self._identity is not None:
                self._identity = self._identity.to(device)
        features, self._hidden = self.model.step(
            observation, self._previous_action, reward.to(features_dtype(self.model)), self._hidden, self._identity
        )
        log_prior = torch.log_softmax(self.model.action_logits(features), dim=-1)
        logits = log_prior
        self.last_q = None
        if self.config.act_with == "pi" and self.config.beta > 0:
            self.last_q = rollout_values(self.model, features, self._hidden, self.num_rounds - self._round,
                                         self.config, self._identity, self._generator)
            logits = log_prior + self.config.beta * self.last_q
        self.last_prior = log_prior.exp()
        self.last_policy = torch.softmax(logits, dim=-1)
        action = sample_categorical(logits, self._generator)
        self._previous_action = action
        self._round += 1
        return action


def features_dtype(model: SequenceModel) -> torch.dtype:
    return model.action_head.weight.dtype
