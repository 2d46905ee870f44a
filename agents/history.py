"""The shared GRU history encoder of the learning agents (SPEC sections 4 and 5).

Each round ``t`` a learner sees up to three modalities, each with its own linear embedding
to ``embedding_size`` (32) dims:

| input                     | shape per game | at round 0          | ``inputs=``                              |
|---------------------------|----------------|---------------------|------------------------------------------|
| observation one-hot       | 5              | START               | both                                     |
| previous own action       | 2 (one-hot)    | zeros (no action)   | ``"observation_action_reward"`` only     |
| previous reward (scalar)  | 1              | 0                   | ``"observation_action_reward"`` only     |
| opponent identity (opt.)  | 10 or 5        | see below           | either                                   |

``inputs="observation"`` is the paper's A2C input ("the history of observations of previous
rounds", SPEC 6b); ``"observation_action_reward"`` is PPI's (its model predicts actions and
rewards, so they are part of its sequence), and A2C can read it too, as an alternative to
the paper's. The first-person observation ``1 + 2 * own + other`` already holds the previous
own action and, through the payoff table, the previous reward, so the two extra inputs are
redundant for A2C.

The embeddings are concatenated and fed to a GRU (hidden 128); the GRU output goes
through Swish (SiLU). The optional identity input is the "opponent ID" ablation. Callers
always pass the 10-number vector of :func:`ipd_env.memory_one.opponent_log_policy` (log
pi(a | o) of a tabular co-player over the five observations and both actions; zeros for a
learner), and ``identity_input`` says how the encoder reads it:

* ``"prepended"`` (the paper's, SPEC 6b): all 10 numbers, once, as a token before round 0:
  the GRU's starting state is one step on the identity's embedding alone
  (:meth:`HistoryEncoder.start_state`);
* ``"every_round"`` (an alternative reading, not the paper's): the 5 numbers log p(C | o),
  embedded and fed beside the other inputs at every round.

One-hot embeddings are computed as a lookup of the linear layer's weight columns
(identical to ``Linear(one_hot)``, without building the one-hot). Because the
embeddings and the GRU's input weights are all linear, :meth:`HistoryEncoder.project`
folds them into one ``[3H, 16]`` weight (a column per (observation, previous action)
pair and one for the reward; 5 more for the identity; ``[3H, 5]``, a column per
observation, with ``inputs="observation"``), so the GRU reads a 16-wide (5-wide) input
instead of the 96-wide (32-wide) embedding: the same function, fewer FLOPs.

The recurrence is torch's own GRU kernel (``torch.gru``, what ``nn.GRU`` runs, with the
folded input weight in place of ``W_ih``) and, one round at a time, ``torch.gru_cell``
(what ``nn.GRUCell`` runs) on the same weights. The parameters stay those of
``self.gru`` (an ``nn.GRU``), so checkpoints keep their names. Torch's kernel because it
runs cuDNN on CUDA, and on CPU it is faster than the hand-written autograd backward of
``benchmarks/handwritten_gru.py`` (``benchmarks/train_throughput.py --gru-only`` compares
them; figures in docs/speed.md, "GRU kernel").

The encoder is never called as a module (it has no ``forward``): a sequence is
:meth:`HistoryEncoder.project` then :meth:`HistoryEncoder.recur`, one round is
:meth:`HistoryEncoder.project_with` (weights from :meth:`HistoryEncoder.folded_weights`)
then :meth:`HistoryEncoder.recur_step`. :meth:`HistoryEncoder.embed` is the unfolded
reference the folded projection equals (tests compare them).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple, Optional

import torch
from torch import nn
from torch.nn import functional

from ipd_env.game import NUM_ACTIONS, NUM_OBSERVATIONS
from ipd_env.memory_one import IDENTITY_SIZE

#: Index of "no previous action" (round 0) for :meth:`HistoryEncoder.embed`.
NO_ACTION = -1
#: What the encoder reads each round (module docstring): the paper's A2C input, and PPI's.
HISTORY_INPUTS = ("observation", "observation_action_reward")
#: How the encoder reads the opponent identity (module docstring): the paper's, and an alternative.
IDENTITY_INPUTS = ("prepended", "every_round")


class GRUInput(NamedTuple):
    """The GRU's input projection ``x W_ih^T + b_ih`` in factored form: ``F.linear(inputs, weight, bias)``.

    Attributes:
        inputs: ``[..., K]`` float, the folded input (one-hot (observation, previous
            action) pair, reward, and the identity if used).
        weight: ``[3H, K]``, the embeddings and ``W_ih`` folded together.
        bias: ``[3H]``.
    """

    inputs: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor
    identity: Optional[torch.Tensor] = None
    """``[B, 10]``: the identity to prepend, when the encoder reads it once (``"prepended"``) and
    the sequence starts at round 0; :meth:`HistoryEncoder.recur` starts from it."""

    def dense(self) -> torch.Tensor:
        """The projection itself, ``[..., 3H]`` (for tests and inspection; the GRU never needs it)."""
        return functional.linear(self.inputs, self.weight, self.bias)


class HistoryEncoder(nn.Module):
    """Per-modality embeddings + GRU + Swish over a learner's history.

    Args:
        hidden_size: GRU hidden size (128 in the paper).
        embedding_size: size of each modality's embedding (32 in the paper).
        uses_opponent_identity: read the opponent identity (the "opponent ID" ablation), as ``identity_input`` says.
        inputs: :data:`HISTORY_INPUTS` (module docstring): ``"observation_action_reward"``
            (PPI's, the default) or ``"observation"`` (the paper's A2C input).
        identity_input: :data:`IDENTITY_INPUTS`: ``"prepended"`` (the paper's: 10 numbers once)
            or ``"every_round"`` (5 numbers every round); used only with ``uses_opponent_identity``.
    """

    def __init__(self, hidden_size: int = 128, embedding_size: int = 32, uses_opponent_identity: bool = False,
                 inputs: str = "observation_action_reward", identity_input: str = "prepended"):
        super().__init__()
        if inputs not in HISTORY_INPUTS:
            raise ValueError(f"inputs must be one of {', '.join(map(repr, HISTORY_INPUTS))}, got {inputs!r}")
        if identity_input not in IDENTITY_INPUTS:
            raise ValueError(f"identity_input must be one of {', '.join(map(repr, IDENTITY_INPUTS))}, "
                             f"got {identity_input!r}")
        self.hidden_size = hidden_size
        self.uses_opponent_identity = uses_opponent_identity
        self.inputs = inputs
        self.identity_input = identity_input
        self.observation_embedding = nn.Linear(NUM_OBSERVATIONS, embedding_size)
        num_inputs = 1
        if inputs == "observation_action_reward":
            self.action_embedding = nn.Linear(NUM_ACTIONS, embedding_size)
            self.reward_embedding = nn.Linear(1, embedding_size)
            num_inputs = 3
        if uses_opponent_identity:
            width = IDENTITY_SIZE if identity_input == "prepended" else NUM_OBSERVATIONS
            self.identity_embedding = nn.Linear(width, embedding_size)
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
                iff ``uses_opponent_identity``.
        """
        observation = functional.embedding(observation_index, self.observation_embedding.weight.t())
        observation = observation + self.observation_embedding.bias
        if not self._with_action_reward:
            parts = [observation]
            if self._identity_every_round(identity):
                parts.append(self.identity_embedding(identity[..., 0::2]).expand_as(observation))
            elif self.uses_opponent_identity:
                parts.append(torch.zeros_like(observation))  # the identity's slot: empty after its token
            return torch.cat(parts, dim=-1)
        # Row NUM_ACTIONS of the padded table is zero: "no previous action" embeds to the bias only.
        action_table = functional.pad(self.action_embedding.weight.t(), (0, 0, 0, 1))
        action_index = torch.where(previous_action < 0, torch.full_like(previous_action, NUM_ACTIONS), previous_action)
        action = functional.embedding(action_index, action_table) + self.action_embedding.bias
        reward = self.reward_embedding(previous_reward.unsqueeze(-1))
        parts = [observation, action, reward]
        if self._identity_every_round(identity):
            parts.append(self.identity_embedding(identity[..., 0::2]).expand_as(observation))
        elif self.uses_opponent_identity:
            parts.append(torch.zeros_like(observation))  # the identity's slot: empty after its token
        return torch.cat(parts, dim=-1)

    @property
    def _with_action_reward(self) -> bool:
        return self.inputs == "observation_action_reward"

    def _check_identity(self, identity: Optional[torch.Tensor]) -> bool:
        """True when the identity input is used; raises if it is missing, unexpected or not ``[..., 10]``."""
        if self.uses_opponent_identity and identity is None:
            raise ValueError(f"this encoder was built with uses_opponent_identity=True and needs an opponent identity "
                             f"[B, {IDENTITY_SIZE}]")
        if not self.uses_opponent_identity and identity is not None:
            raise ValueError("an opponent identity was given but this encoder was built with "
                             "uses_opponent_identity=False")
        if identity is not None and identity.shape[-1] != IDENTITY_SIZE:
            raise ValueError(f"an opponent identity has {IDENTITY_SIZE} numbers (log pi(a | o) for 5 observations x "
                             f"2 actions, ipd_env.memory_one.opponent_log_policy), got shape {tuple(identity.shape)}")
        return self.uses_opponent_identity

    def _identity_every_round(self, identity: Optional[torch.Tensor]) -> bool:
        """True when the identity enters every round's input (checked as :meth:`_check_identity`)."""
        return self._check_identity(identity) and self.identity_input == "every_round"

    def project(
        self,
        observation_index: torch.Tensor,
        previous_action: torch.Tensor,
        previous_reward: torch.Tensor,
        identity: Optional[torch.Tensor] = None,
    ) -> GRUInput:
        """The GRU's input projection straight from the indices, factored (see :class:`GRUInput`).

        ``project(...).dense()`` equals ``F.linear(self.embed(...), W_ih, b_ih)`` ``[..., 3H]``
        (same arguments as :meth:`embed`; ``identity`` ``[B, 5]`` or ``[1, B, 5]`` for a sequence).
        Playing one round at a time, fold the weights once per episode with
        :meth:`folded_weights` and call :meth:`project_with` every round instead.
        """
        weight, bias = self.folded_weights()
        return self.project_with(weight, bias, observation_index, previous_action, previous_reward, identity)

    def folded_weights(self):
        """The embeddings and ``W_ih`` folded into one ``[3H, K]`` weight and a ``[3H]`` bias.

        They change only when the parameters do: a player folds them once per episode
        (``reset``) rather than every round.
        """
        size = self.observation_embedding.out_features
        weight_ih, bias_ih = self.gru.weight_ih_l0, self.gru.bias_ih_l0
        parts = [weight_ih[:, index * size:(index + 1) * size] for index in range(weight_ih.shape[1] // size)]
        observation_columns = parts[0] @ self.observation_embedding.weight  # [3H, 5]
        bias = bias_ih + parts[0] @ self.observation_embedding.bias
        if not self._with_action_reward:
            columns = [observation_columns]
            if self.uses_opponent_identity and self.identity_input == "every_round":
                columns.append(parts[1] @ self.identity_embedding.weight)  # [3H, 5]
                bias = bias + parts[1] @ self.identity_embedding.bias
            return torch.cat(columns, dim=1), bias
        bias = bias + parts[1] @ self.action_embedding.bias + parts[2] @ self.reward_embedding.bias
        action_columns = functional.pad(parts[1] @ self.action_embedding.weight, (0, 1))  # [3H, 3]; last: no action
        # One column per (observation, previous action) pair: a one-hot pair selects the sum
        # of its observation and action columns, so the 15 + 1 wide input is one GEMM.
        pair_columns = (observation_columns.unsqueeze(2) + action_columns.unsqueeze(1)).reshape(weight_ih.shape[0], -1)
        columns = [pair_columns, parts[2] @ self.reward_embedding.weight]  # [3H, 15], [3H, 1]
        if self.uses_opponent_identity and self.identity_input == "every_round":
            columns.append(parts[3] @ self.identity_embedding.weight)  # [3H, 5]
            bias = bias + parts[3] @ self.identity_embedding.bias
        return torch.cat(columns, dim=1), bias

    def project_with(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor,
        observation_index: torch.Tensor,
        previous_action: torch.Tensor,
        previous_reward: torch.Tensor,
        identity: Optional[torch.Tensor] = None,
    ) -> GRUInput:
        """:meth:`project` with weights from :meth:`folded_weights` (same arguments after them)."""
        if not self._with_action_reward:
            inputs = [functional.one_hot(observation_index, NUM_OBSERVATIONS).to(bias.dtype)]
            if self._identity_every_round(identity):
                inputs.append(identity[..., 0::2].to(bias.dtype).expand(*observation_index.shape, NUM_OBSERVATIONS))
            return GRUInput(torch.cat(inputs, dim=-1), weight, bias, self._token(identity))
        num_pairs = NUM_OBSERVATIONS * (NUM_ACTIONS + 1)
        action_index = torch.where(previous_action < 0, torch.full_like(previous_action, NUM_ACTIONS), previous_action)
        pair = observation_index * (NUM_ACTIONS + 1) + action_index
        inputs = [functional.one_hot(pair, num_pairs).to(bias.dtype), previous_reward.unsqueeze(-1).to(bias.dtype)]
        if self._identity_every_round(identity):
            inputs.append(identity[..., 0::2].to(bias.dtype).expand(*pair.shape, NUM_OBSERVATIONS))
        return GRUInput(torch.cat(inputs, dim=-1), weight, bias, self._token(identity))

    def _token(self, identity: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """The identity ``[B, 10]`` to prepend (``"prepended"`` mode), else None."""
        if not self.uses_opponent_identity or self.identity_input != "prepended":
            return None
        return identity.reshape(-1, IDENTITY_SIZE)

    def start_state(self, batch_size: int, device=None, identity: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The state ``[1, B, hidden]`` an episode starts from: zeros, or, when the identity is
        prepended (the paper's opponent ID), the state after one GRU step on the identity token
        ``[B, 10]`` alone (the other inputs' slots empty, so only the identity embedding enters)."""
        state = self.initial_state(batch_size, device).to(self.gru.weight_hh_l0.dtype)
        if not self.uses_opponent_identity or self.identity_input != "prepended":
            self._check_identity(identity)
            return state
        self._check_identity(identity)
        size = self.observation_embedding.out_features
        slot = self.gru.weight_ih_l0[:, -size:]  # the identity embedding's columns of W_ih
        weight = slot @ self.identity_embedding.weight  # [3H, 10]
        bias = self.gru.bias_ih_l0 + slot @ self.identity_embedding.bias
        token = identity.reshape(-1, IDENTITY_SIZE).to(weight.dtype).expand(batch_size, IDENTITY_SIZE)
        new_state = torch.gru_cell(token, state[0].to(weight.dtype), weight, self.gru.weight_hh_l0, bias,
                                   self.gru.bias_hh_l0)
        return new_state.unsqueeze(0)

    def initial_state(self, batch_size: int, device=None) -> torch.Tensor:
        """Zero GRU state ``[1, batch_size, hidden_size]``."""
        return torch.zeros(1, batch_size, self.hidden_size, device=device)

    def recur(self, projection: GRUInput, state: Optional[torch.Tensor] = None):
        """GRU over a sequence ``[T, B, K]`` (from :meth:`project`), from ``state`` or, if None, from
        the episode's start (:meth:`start_state`, with the prepended identity if there is one).

        Returns:
            features ``[T, B, hidden]`` (after Swish) and the final state ``[1, B, hidden]``.
        """
        inputs = projection.inputs
        if state is None and projection.identity is not None:
            state = self.start_state(inputs.shape[1], inputs.device, projection.identity).to(inputs.dtype)
        elif state is None:
            state = self.initial_state(inputs.shape[1], inputs.device).to(inputs.dtype)
        weights = [projection.weight, self.gru.weight_hh_l0, projection.bias, self.gru.bias_hh_l0]
        with warnings.catch_warnings():
            # cuDNN asks for one contiguous weight buffer; the folded weight is new every call,
            # so it is copied in anyway (a [3H, 16 + 3H] copy, negligible beside the recurrence).
            warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
            # torch.gru is the kernel nn.GRU.forward calls (has_biases, num_layers=1, dropout=0,
            # train, bidirectional=False, batch_first=False).
            output, final_state = torch.gru(inputs, state, weights, True, 1, 0.0, self.training, False, False)
        return functional.silu(output), final_state

    def recur_step(self, projection: GRUInput, state: torch.Tensor):
        """One round: projection of ``[B, K]``, state ``[1, B, hidden]`` -> features ``[B, hidden]``, new state."""
        # torch.gru_cell is the kernel nn.GRUCell calls: the same math as one step of recur.
        new_state = torch.gru_cell(projection.inputs, state[0], projection.weight, self.gru.weight_hh_l0,
                                   projection.bias, self.gru.bias_hh_l0)
        return functional.silu(new_state), new_state.unsqueeze(0)


def shift_right(sequence: torch.Tensor, fill) -> torch.Tensor:
    """``[T, B]`` → ``[T, B]`` with row t holding row t-1 and row 0 = ``fill``: previous actions/rewards."""
    first = torch.full_like(sequence[:1], fill)
    return torch.cat([first, sequence[:-1]], dim=0)
