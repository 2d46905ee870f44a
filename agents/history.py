"""The shared GRU history encoder of the learning agents (SPEC sections 4 and 5).

Each round ``t`` a learner sees three modalities, each with its own linear embedding to
``embedding_size`` (32) dims:

| input                     | shape per game | at round 0          |
|---------------------------|----------------|---------------------|
| observation one-hot       | 5              | START               |
| previous own action       | 2 (one-hot)    | zeros (no action)   |
| previous reward (scalar)  | 1              | 0                   |
| opponent identity (opt.)  | 5              | given every round   |

The embeddings are concatenated and fed to a GRU (hidden 128); the GRU output goes
through Swish (SiLU). The optional identity input is the "opponent ID" ablation: log
p(C | o) of a tabular co-player, zeros for a learner (**ours**: fed at every round rather
than only at round 0, so the agent need not store it in its memory).

One-hot embeddings are computed as a lookup of the linear layer's weight columns
(identical to ``Linear(one_hot)``, without building the one-hot). Because the
embeddings and the GRU's input weights are all linear, :meth:`HistoryEncoder.project`
folds them into one ``[16, 3H]`` table (a row per (observation, previous action) pair
and a row for the reward), so the GRU's input projection is a ``[T*B, 16] x [16, 3H]``
matmul instead of ``[T*B, 96] x [96, 3H]``: the same function, fewer FLOPs.
The recurrence itself runs in :mod:`agents.gru` (hand-written backward; tested against
``nn.GRU``).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional

from agents.gru import gru_cell, gru_sequence
from ipd_env.game import NUM_ACTIONS, NUM_OBSERVATIONS

#: Index of "no previous action" (round 0) for :meth:`HistoryEncoder.embed`.
NO_ACTION = -1


class HistoryEncoder(nn.Module):
    """Per-modality embeddings + GRU + Swish over a learner's history.

    Args:
        hidden_size: GRU hidden size (128 in the paper).
        embedding_size: size of each modality's embedding (32 in the paper).
        use_identity: add the 5-dim opponent-identity input (the "opponent ID" ablation).
    """

    def __init__(self, hidden_size: int = 128, embedding_size: int = 32, use_identity: bool = False):
        super().__init__()
        self.hidden_size = hidden_size
        self.use_identity = use_identity
        self.observation_embedding = nn.Linear(NUM_OBSERVATIONS, embedding_size)
        self.action_embedding = nn.Linear(NUM_ACTIONS, embedding_size)
        self.reward_embedding = nn.Linear(1, embedding_size)
        num_inputs = 3
        if use_identity:
            self.identity_embedding = nn.Linear(NUM_OBSERVATIONS, embedding_size)
            num_inputs += 1
        self.gru = nn.GRU(num_inputs * embedding_size, hidden_size)

    def embed(
        self,
        observation_index: torch.Tensor,
        previous_action: torch.Tensor,
        previous_reward: torch.Tensor,
        identity: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """GRU input ``[..., num_inputs * embedding_size]``.

        Args:
            observation_index: ``[...]`` int64 in 0..4.
            previous_action: ``[...]`` int64, 0 / 1, or :data:`NO_ACTION` at round 0.
            previous_reward: ``[...]`` float, the reward of the previous round (0 at round 0).
            identity: ``[B, 5]`` float per game (broadcast over leading time dims), needed
                iff ``use_identity``.
        """
        observation = functional.embedding(observation_index, self.observation_embedding.weight.t())
        observation = observation + self.observation_embedding.bias
        # Row NUM_ACTIONS of the padded table is zero: "no previous action" embeds to the bias only.
        action_table = functional.pad(self.action_embedding.weight.t(), (0, 0, 0, 1))
        action_index = torch.where(previous_action < 0, torch.full_like(previous_action, NUM_ACTIONS), previous_action)
        action = functional.embedding(action_index, action_table) + self.action_embedding.bias
        reward = self.reward_embedding(previous_reward.unsqueeze(-1))
        parts = [observation, action, reward]
        if self._check_identity(identity):
            parts.append(self.identity_embedding(identity).expand_as(observation))
        return torch.cat(parts, dim=-1)

    def _check_identity(self, identity: Optional[torch.Tensor]) -> bool:
        """True when the identity input is used; raises if it is missing or unexpected."""
        if self.use_identity and identity is None:
            raise ValueError("this encoder was built with use_identity=True and needs an opponent identity [B, 5]")
        if not self.use_identity and identity is not None:
            raise ValueError("an opponent identity was given but this encoder was built with use_identity=False")
        return self.use_identity

    def project(
        self,
        observation_index: torch.Tensor,
        previous_action: torch.Tensor,
        previous_reward: torch.Tensor,
        identity: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """The GRU's input projection ``x W_ih^T + b_ih`` ``[..., 3H]`` straight from the indices.

        Equal to ``F.linear(self.embed(...), W_ih, b_ih)`` (same arguments as :meth:`embed`).
        """
        size = self.observation_embedding.out_features
        weight_ih, bias_ih = self.gru.weight_ih_l0, self.gru.bias_ih_l0
        parts = [weight_ih[:, index * size:(index + 1) * size] for index in range(weight_ih.shape[1] // size)]
        constant = bias_ih + parts[0] @ self.observation_embedding.bias + parts[1] @ self.action_embedding.bias \
            + parts[2] @ self.reward_embedding.bias
        observation_table = self.observation_embedding.weight.t() @ parts[0].t()  # [5, 3H]
        action_table = functional.pad(self.action_embedding.weight.t() @ parts[1].t(), (0, 0, 0, 1))  # [3, 3H]
        reward_vector = parts[2] @ self.reward_embedding.weight[:, 0]  # [3H]
        # One table row per (observation, previous action) pair, plus the reward row: the
        # projection is then one matmul of a 16-wide input [one-hot(pair), reward] (forward
        # and backward are single GEMMs instead of several passes over [T, B, 3H]).
        pair_table = (observation_table.unsqueeze(1) + action_table.unsqueeze(0)).reshape(-1, weight_ih.shape[0])
        table = torch.cat([pair_table + constant, reward_vector.unsqueeze(0)], dim=0)  # [16, 3H]
        action_index = torch.where(previous_action < 0, torch.full_like(previous_action, NUM_ACTIONS), previous_action)
        pair = observation_index * (NUM_ACTIONS + 1) + action_index
        inputs = torch.cat([functional.one_hot(pair, pair_table.shape[0]).to(table.dtype),
                            previous_reward.unsqueeze(-1).to(table.dtype)], dim=-1)
        projection = inputs @ table
        if self._check_identity(identity):
            projection = projection + self.identity_embedding(identity) @ parts[3].t()
        return projection

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        """Zero GRU state ``[1, batch_size, hidden_size]``."""
        return torch.zeros(1, batch_size, self.hidden_size, device=device)

    def recur(self, projection: torch.Tensor, state: Optional[torch.Tensor] = None):
        """GRU over input projections ``[T, B, 3H]``: features ``[T, B, hidden]`` (after Swish), final state."""
        if state is None:
            state = self.initial_state(projection.shape[1], projection.device)
        output = gru_sequence(projection, state[0], self.gru.weight_hh_l0, self.gru.bias_hh_l0)
        return functional.silu(output), output[-1:]

    def recur_step(self, projection: torch.Tensor, state: torch.Tensor):
        """One round: projection ``[B, 3H]``, state ``[1, B, hidden]`` -> features ``[B, hidden]``, new state."""
        new_state = gru_cell(projection, state[0], self.gru.weight_hh_l0, self.gru.bias_hh_l0)
        return functional.silu(new_state), new_state.unsqueeze(0)

    def forward(self, inputs: torch.Tensor, state: Optional[torch.Tensor] = None):
        """Run the GRU over embedded inputs ``[T, B, input]`` (from :meth:`embed`).

        Returns:
            features ``[T, B, hidden]`` (after Swish) and the final state ``[1, B, hidden]``.
        """
        return self.recur(functional.linear(inputs, self.gru.weight_ih_l0, self.gru.bias_ih_l0), state)

    def step(self, inputs: torch.Tensor, state: torch.Tensor):
        """One round: inputs ``[B, input]``, state ``[1, B, hidden]`` -> features ``[B, hidden]``, new state."""
        return self.recur_step(functional.linear(inputs, self.gru.weight_ih_l0, self.gru.bias_ih_l0), state)


def shift_right(sequence: torch.Tensor, fill) -> torch.Tensor:
    """``[T, B]`` → ``[T, B]`` with row t holding row t-1 and row 0 = ``fill``: previous actions/rewards."""
    first = torch.full_like(sequence[:1], fill)
    return torch.cat([first, sequence[:-1]], dim=0)
