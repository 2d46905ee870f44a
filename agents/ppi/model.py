"""PPI's sequence model: a GRU that predicts the next observation, the reward and its own action.

SPEC section 4 (arXiv 2602.16301, Predictive Policy Improvement). One model per learner
is trained by maximum likelihood on first-person IPD histories and is used twice: as the
prior policy ``p_phi(a_t | x)`` and as the world model inside the planner's rollouts.

Layout: one GRU step per round, action-conditioned heads
--------------------------------------------------------

The paper's factorisation of a round is

    p(o_t | x_<t, a_{t-1}) * p(r_t | x_<t, a_{t-1}, o_t) * p(a_t | x_<t, o_t, r_t).

Three tokens per round would compute it with three GRU steps. We use **one GRU step
per round** and condition the heads instead, which computes the same factorisation with
a third of the recurrent steps (measured in ``benchmarks/ppi_throughput.py``):

* step ``t`` reads the token ``(o_t, a_{t-1}, r_t)`` (observation one-hot, previous own
  action one-hot, zero at ``t = 0``, previous reward scalar); its Swish output ``f_t``
  summarises ``x_<=t`` = everything up to and including ``o_t, r_t``;
* **action head** ``p(a_t | f_t)``: linear on ``f_t``;
* **observation head** ``p(o_{t+1} | f_t, a_t)``: linear on ``[f_t, emb(a_t)]``;
* **reward head** mean of ``p(r_{t+1} | f_t, a_t, o_{t+1})``: linear on
  ``[f_t, emb(a_t), emb(o_{t+1})]``; Gaussian with fixed unit variance, so its negative
  log-likelihood is ``0.5 * (r - mean)^2`` up to a constant.

Linear heads suffice for the IPD: the co-player moves simultaneously, so its move is
independent of ``a_t`` given the history and the observation logits are additive in
``f_t`` and ``a_t``; the reward is a function of ``o_{t+1}`` alone. In the IPD the reward is
deterministic given (observation, own action); we still model it, as the paper does.

Each modality has its own linear embedding to ``embedding_size`` (32) dims; the optional
opponent-identity vector of the "opponent ID" ablation (``[5]``, log p(C | o) of a tabular
co-player, zeros for a learner) gets a fourth embedding and is fed at every step of the
episode (it is constant within an episode, so this carries the same information as giving
it once at the start, and a small GRU need not memorise it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from agents.history import NO_ACTION, HistoryEncoder, shift_right
from ipd_env.game import NUM_ACTIONS, NUM_OBSERVATIONS

IDENTITY_SIZE = NUM_OBSERVATIONS

@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the PPI sequence model (SPEC section 4)."""

    hidden_size: int = 128
    """GRU hidden units."""
    embedding_size: int = 32
    """Width of each modality's linear embedding."""
    uses_opponent_identity: bool = False
    """Read the opponent-ID vector [10] (the SPEC section 3 ablation)."""
    opponent_id_input: str = "prepended"
    """How (:data:`agents.history.IDENTITY_INPUTS`): once before round 0 (the paper's) or every round."""

    def __post_init__(self):
        for name in ("hidden_size", "embedding_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def _one_hot_linear(linear: nn.Linear, index: torch.Tensor) -> torch.Tensor:
    """``linear(one_hot(index))`` by a table lookup of the weight's columns."""
    return F.embedding(index, linear.weight.t()) + linear.bias


@dataclass
class FusedHeads:
    """The heads as ``features @ weight.T + bias`` -> ``[..., 2 action | 5 observation | 1 reward]``
    plus the terms of the conditioning variables: ``observation_by_action`` ``[2, 5]``,
    ``reward_by_action`` ``[2]``, ``reward_by_observation`` ``[5]``."""

    weight: torch.Tensor
    bias: torch.Tensor
    observation_by_action: torch.Tensor
    reward_by_action: torch.Tensor
    reward_by_observation: torch.Tensor

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        return F.linear(features, self.weight, self.bias)


class SequenceModel(nn.Module):
    """GRU world model and prior policy over first-person IPD histories.

    The trunk is the shared :class:`agents.history.HistoryEncoder` (the same one A2C
    uses). Inputs are index tensors (compact, and what the data set stores):

    * ``observation``: ``[T, B]`` int64 in 0..4 (first-person, 0 = START);
    * ``previous_action``: ``[T, B]`` int64 in {0, 1}, or :data:`NO_ACTION` at ``t = 0``;
    * ``previous_reward``: ``[T, B]`` float32, zero at ``t = 0``;
    * ``identity``: ``[B, 10]`` float32 or None (only with ``uses_opponent_identity``).

    Time-major like ``nn.GRU``; hidden state ``[1, B, hidden_size]``.
    """

    def __init__(self, config: ModelConfig = ModelConfig()):
        super().__init__()
        self.config = config
        width = config.embedding_size
        self.encoder = HistoryEncoder(config.hidden_size, width, uses_opponent_identity=config.uses_opponent_identity,
                                      identity_input=config.opponent_id_input)
        # Head-side embeddings of the conditioning variables (separate from the GRU inputs).
        self.head_action_embedding = nn.Linear(NUM_ACTIONS, width)
        self.head_observation_embedding = nn.Linear(NUM_OBSERVATIONS, width)
        self.action_head = nn.Linear(config.hidden_size, NUM_ACTIONS)
        self.observation_head = nn.Linear(config.hidden_size + width, NUM_OBSERVATIONS)
        self.reward_head = nn.Linear(config.hidden_size + 2 * width, 1)

    # -- the recurrent trunk -------------------------------------------------------
    def initial_hidden(self, batch_size: int, device=None, identity=None) -> torch.Tensor:
        """Hidden state ``[1, batch_size, hidden_size]`` an episode starts from (zeros, or after the
        prepended identity ``[B, 10]``: :meth:`agents.history.HistoryEncoder.start_state`)."""
        return self.encoder.start_state(batch_size, device, identity)

    def step(self, observation, previous_action, previous_reward, hidden, identity=None):
        """One round for a batch: indices ``[B]`` in, ``(features [B, H], hidden [1, B, H])`` out."""
        return self.encoder.recur_step(self.encoder.project(observation, previous_action, previous_reward, identity),
                                       hidden)

    def features(self, observation, previous_action, previous_reward, identity=None, hidden=None):
        """Full-sequence forward: Swish GRU outputs ``[T, B, H]`` and the last hidden state."""
        return self.encoder.recur(self.encoder.project(observation, previous_action, previous_reward, identity), hidden)

    # -- the three heads -----------------------------------------------------------
    def action_logits(self, features: torch.Tensor) -> torch.Tensor:
        """Prior ``log p(a_t | x_<=t)`` up to normalisation: ``[..., 2]``."""
        return self.action_head(features)

    def observation_logits(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """``p(o_{t+1} | x_<=t, a_t)`` logits ``[..., 5]``; ``action`` int64 ``[...]``."""
        return self.observation_head(torch.cat([features, _one_hot_linear(self.head_action_embedding, action)], dim=-1))

    def reward_mean(self, features: torch.Tensor, action: torch.Tensor, next_observation: torch.Tensor) -> torch.Tensor:
        """Mean of the Gaussian ``p(r_{t+1} | x_<=t, a_t, o_{t+1})``: ``[...]`` float."""
        inputs = torch.cat(
            [
                features,
                _one_hot_linear(self.head_action_embedding, action),
                _one_hot_linear(self.head_observation_embedding, next_observation),
            ],
            dim=-1,
        )
        return self.reward_head(inputs).squeeze(-1)

    def fused_heads(self) -> FusedHeads:
        """The three heads folded into one matmul on the features plus small lookup tables.

        Same function as :meth:`action_logits`, :meth:`observation_logits` and
        :meth:`reward_mean` (tested), for the planner's inner loop.
        """
        hidden = self.config.hidden_size
        width = self.config.embedding_size
        action_embedded = self.head_action_embedding.weight.t() + self.head_action_embedding.bias  # [2, E]
        observation_embedded = self.head_observation_embedding.weight.t() + self.head_observation_embedding.bias
        observation_weight = self.observation_head.weight  # [5, H + E]
        reward_weight = self.reward_head.weight[0]  # [H + 2E]
        weight = torch.cat([self.action_head.weight, observation_weight[:, :hidden], reward_weight[None, :hidden]])
        bias = torch.cat([self.action_head.bias, weight.new_zeros(NUM_OBSERVATIONS + 1)])
        return FusedHeads(
            weight=weight,
            bias=bias,
            observation_by_action=action_embedded @ observation_weight[:, hidden:].t() + self.observation_head.bias,
            reward_by_action=action_embedded @ reward_weight[hidden:hidden + width],
            reward_by_observation=observation_embedded @ reward_weight[hidden + width:] + self.reward_head.bias,
        )

    # -- training ------------------------------------------------------------------
    def loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative log-likelihood of a batch of episodes, weights (1, 1, 1) per SPEC section 4.

        Args:
            batch: ``observation`` ``[T, B]`` (o_0..o_{T-1}), ``action`` ``[T, B]``
                (a_0..a_{T-1}), ``next_observation`` ``[T, B]`` (o_1..o_T), ``reward``
                ``[T, B]`` float (reward of round t, i.e. r_{t+1}), optional ``identity`` [B, 5].

        Returns:
            the scalar loss and its parts as floats: ``loss/action`` and
            ``loss/observation`` (nats per round), ``loss/reward`` (0.5 * squared error).
        """
        observation, action = batch["observation"], batch["action"]
        reward = batch["reward"]
        previous_action, previous_reward = shift_right(action, NO_ACTION), shift_right(reward, 0.0)
        features, _ = self.features(observation, previous_action, previous_reward, batch.get("identity"))
        action_loss = F.cross_entropy(self.action_logits(features).flatten(0, 1), action.flatten())
        observation_loss = F.cross_entropy(
            self.observation_logits(features, action).flatten(0, 1), batch["next_observation"].flatten()
        )
        reward_loss = 0.5 * (self.reward_mean(features, action, batch["next_observation"]) - reward).pow(2).mean()
        total = action_loss + observation_loss + reward_loss
        parts = {
            "loss/action": float(action_loss.detach()),
            "loss/observation": float(observation_loss.detach()),
            "loss/reward": float(reward_loss.detach()),
        }
        return total, parts
