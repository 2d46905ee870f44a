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
(identical to ``Linear(one_hot)``, without building the one-hot), so a full rollout or a
training batch of ``[T, B]`` integer indices never materialises one-hot tensors.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional

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
        if self.use_identity:
            if identity is None:
                raise ValueError("this encoder was built with use_identity=True and needs an opponent identity [B, 5]")
            parts.append(self.identity_embedding(identity).expand_as(observation))
        elif identity is not None:
            raise ValueError("an opponent identity was given but this encoder was built with use_identity=False")
        return torch.cat(parts, dim=-1)

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        """Zero GRU state ``[1, batch_size, hidden_size]``."""
        return torch.zeros(1, batch_size, self.hidden_size, device=device)

    def forward(self, inputs: torch.Tensor, state: Optional[torch.Tensor] = None):
        """Run the GRU over embedded inputs ``[T, B, input]``.

        Returns:
            features ``[T, B, hidden]`` (after Swish) and the final state ``[1, B, hidden]``.
        """
        output, state = self.gru(inputs, state)
        return functional.silu(output), state

    def step(self, inputs: torch.Tensor, state: torch.Tensor):
        """One round: inputs ``[B, input]``, state ``[1, B, hidden]`` → features ``[B, hidden]``, new state."""
        output, state = self.gru(inputs.unsqueeze(0), state)
        return functional.silu(output.squeeze(0)), state


def shift_right(sequence: torch.Tensor, fill) -> torch.Tensor:
    """``[T, B]`` → ``[T, B]`` with row t holding row t-1 and row 0 = ``fill``: previous actions/rewards."""
    first = torch.full_like(sequence[:1], fill)
    return torch.cat([first, sequence[:-1]], dim=0)
