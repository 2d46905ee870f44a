"""Seed-batched A2C: the N seeds of one condition trained as one computation.

The paper reports 5 seeds per A2C Step and 10 for Fig. 1. Run one after another, N seeds cost
N times one seed; on a GPU one seed at the paper's batch leaves most of the device idle, so
:class:`SeedBatchedA2CTrainer` trains them together: the learners of every seed are *members*
of one stack (``M = num_seeds * num_learners``, member ``m = seed_index * num_learners +
learner``) whose parameters are stacked tensors ``[M, ...]``, and every round of play and
every update is one batched computation over all members.

Each seed is exactly what ``A2CTrainer(config, pool_mode, num_learners, seed=s)`` would be
alone, because it *is* that trainer for everything random: the trainer is built per seed
(model initialisation under ``torch.manual_seed(1000 * seed + learner)``, its generator
seeded with ``seed``, its :class:`agents.pool.TrainingPool`, its frozen co-players), and the
batched play draws from each seed's generator the same numbers in the same order as
:meth:`agents.pool.TrainingPool.play` does (per round: learner 0, ..., learner L-1, the
tabular co-players, the frozen players). What is batched:

| step                   | one seed (``A2CTrainer``)           | all members at once (here)                  |
|------------------------|-------------------------------------|---------------------------------------------|
| a round of play        | ``torch.gru_cell`` + head, per      | one ``baddbmm`` GRU step and head           |
|                        | learner                             | ``[M, B, H]``                               |
| the env                | ``IPDVectorEnv`` of ``G`` games      | one env of ``num_seeds * G`` games           |
| forward over ``[T, B]``| ``torch.gru`` (CPU: input GEMM, then| the same ops, ``baddbmm`` on ``[M, T, B]``   |
|                        | T cells)                            |                                             |
| the loss               | :func:`agents.a2c.a2c_loss`         | the same function under ``torch.vmap``      |
| gradient clip          | ``clip_grad_norm_`` per learner     | the global norm per member, ``[M]``         |
| Adam                   | one per learner                     | one over the stacked tensors (elementwise,  |
|                        |                                     | so per member; one step count for all)      |
| folded input weights   | ``HistoryEncoder.folded_weights``   | the same method, once per member            |

``torch.gru`` has no ``vmap`` rule, so the recurrence is written out (:func:`gru_cell`,
:func:`gru_sequence`) as the op sequence torch's CPU kernel runs (the input projection of all
rounds as one GEMM, then per round the hidden GEMM and the gates, with ``unsafe_chunk`` and
the same in-place ops), with ``baddbmm`` in place of ``addmm``; :func:`agents.a2c.model_outputs`
runs unchanged on ``[T, M, B]`` sequences (the member dim rides inside its batch dims).

On CPU (1 thread) every seed's metrics, weights and Adam state are **bit-identical** to the
seed run alone (``tests/agents/test_a2c_batched.py``). Three details make them so, each
measured: ``baddbmm``'s slices round as ``addmm`` (MKL); the value head's single output (a
matrix-vector kernel in ``addmm``) and the encoder's folding (``mv`` products, batched by
``vmap`` into GEMMs that sum in another order) stay one call per member; and the folded
weight's gradient is made contiguous, as ``addmm``'s is, before the folding's backward. The
batch ``B`` should be a multiple of 32 (every preset's is) so that the vectorised elementwise
kernels split every member's rows as they split one seed's. On CUDA the single trainer runs
cuDNN's GRU, which rounds differently: there the seeds agree within float32 noise.

The per-seed :class:`agents.a2c.A2CTrainer` objects are kept (``seed_trainer(index)``): after
every unit their models are refreshed from the stack, so :meth:`players`,
:meth:`state_dict` and :meth:`load_state_dict` speak the single-seed trainer's layout and the
harness writes ordinary per-seed run folders and checkpoints.

Example (Fig. 1's mixed pool, seeds 0-4, test scale)::

    config, settings = ALGORITHM.make_run("test", paper_step=4)
    trainer = SeedBatchedA2CTrainer(config, settings, pool_mode="mixed", num_learners=2, seeds=[0, 1, 2, 3, 4])
    per_seed_metrics = trainer.train_unit(0)       # 5 dicts, one per seed, in seed order
    checkpoint_of_seed_3 = trainer.state_dict(3)   # == A2CTrainer(..., seed=3).state_dict() after unit 0
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Optional

import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn import functional

from agents.a2c import A2CConfig, A2CTrainer, a2c_loss, entropy_coefficient, model_outputs, parse_entropy_schedule
from agents.algorithm import RunSettings, TrainedRun
from agents.history import NO_ACTION, shift_right
from agents.pool import LearnerTrajectory, pool_metrics
from ipd_env.memory_one import IDENTITY_SIZE, opponent_log_policy
from ipd_env.vector import IPDVectorEnv

#: The fields of :class:`agents.pool.LearnerTrajectory`, in order (stacked ``[M, ...]`` here).
TRAJECTORY_FIELDS = tuple(LearnerTrajectory.__dataclass_fields__)


def gru_cell(inputs, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step of every member: ``torch.gru_cell`` batched over the leading member dim.

    Args:
        inputs: ``[M, B, K]``; state: ``[M, B, H]``.
        weight_ih: ``[M, 3H, K]``; weight_hh: ``[M, 3H, H]``; bias_ih, bias_hh: ``[M, 3H]``.

    Returns:
        the new state ``[M, B, H]``. The ops are those of torch's CPU ``GRUCell`` (linear as
        ``addmm`` -> ``baddbmm``, ``unsafe_chunk``, the same in-place gates), so a member's
        result is bit-identical to ``torch.gru_cell`` on its slice where ``baddbmm``'s slices
        round as ``addmm`` does.
    """
    input_gates = torch.baddbmm(bias_ih.unsqueeze(1), inputs, weight_ih.transpose(1, 2)).unsafe_chunk(3, 2)
    return _gates(input_gates, state, weight_hh, bias_hh)


def _gates(input_gates, state, weight_hh, bias_hh):
    """The recurrent half of a GRU step from the input gates ``3 x [M, B, H]`` (torch's ``GRUCell``)."""
    hidden_gates = torch.baddbmm(bias_hh.unsqueeze(1), state, weight_hh.transpose(1, 2)).unsafe_chunk(3, 2)
    reset_gate = hidden_gates[0].add_(input_gates[0]).sigmoid_()
    update_gate = hidden_gates[1].add_(input_gates[1]).sigmoid_()
    candidate = input_gates[2].add(hidden_gates[2].mul_(reset_gate)).tanh_()
    return (state - candidate).mul_(update_gate).add_(candidate)


def gru_sequence(inputs, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """The GRU over recorded rounds of every member: ``torch.gru`` batched over the member dim.

    Args:
        inputs: ``[M, T, B, K]`` (contiguous).
        state: ``[M, B, H]``, the state before round 0.
        weight_ih: ``[M, 3H, K]``.
        weight_hh: ``[M, 3H, H]``.
        bias_ih: ``[M, 3H]``.
        bias_hh: ``[M, 3H]``.

    Returns:
        the states after every round ``[M, T, B, H]`` (before Swish). As torch's CPU kernel: the
        input projection of all rounds is one GEMM, then one :func:`gru_cell` recurrence per round.
    """
    members, rounds, batch, width = inputs.shape
    projected = torch.baddbmm(bias_ih.unsqueeze(1), inputs.reshape(members, rounds * batch, width),
                              weight_ih.transpose(1, 2)).view(members, rounds, batch, -1)
    outputs = []
    for round_gates in projected.unbind(1):  # unbind, as torch's kernel: one stack in the backward, not T selects
        state = _gates(round_gates.unsafe_chunk(3, 2), state, weight_hh, bias_hh)
        outputs.append(state)
    return torch.stack(outputs, dim=1)


def linear(inputs, weight, bias):
    """``nn.Linear`` of every member: inputs ``[M, ..., in]``, weight ``[M, out, in]``, bias ``[M, out]``
    -> ``[M, ..., out]``.

    Torch runs a linear layer as ``addmm``, which this batches as ``baddbmm``; with one output
    (the value head) ``addmm`` takes a matrix-vector kernel that sums in another order, so that
    case stays one ``addmm`` per member (``M`` calls, each as large as the single seed's).
    """
    flat = inputs.reshape(inputs.shape[0], -1, inputs.shape[-1])
    if weight.shape[1] == 1:
        output = torch.stack([torch.addmm(member_bias, member_inputs, member_weight.t())
                              for member_inputs, member_weight, member_bias
                              in zip(flat.unbind(0), weight.unbind(0), bias.unbind(0))])
    else:
        output = torch.baddbmm(bias.unsqueeze(1), flat, weight.transpose(1, 2))
    return output.view(*inputs.shape[:-1], weight.shape[1])


class _ContiguousGradient(torch.autograd.Function):
    """The identity, whose backward hands on its gradient contiguous.

    ``baddbmm``'s gradient for the folded input weight comes out transposed in memory, where
    ``addmm``'s (the single seed's) is contiguous; the same numbers, but the matrix-vector
    products of the folding's backward sum a strided vector in another order. One
    ``[M, 3H, K]`` copy per update keeps them bit-identical.
    """

    @staticmethod
    def forward(ctx, tensor):
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, gradient):
        return gradient.contiguous()


class _EncoderMethod(nn.Module):
    """An A2C model's encoder method as ``forward``, so ``functional_call`` runs it with one member's weights."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.encoder = model.encoder
        self.method = method

    def forward(self, *args):
        return getattr(self.encoder, self.method)(*args)


class _StackedModel:
    """All members' models as one callable with :class:`agents.a2c.A2CModel`'s signature, for
    :func:`agents.a2c.model_outputs`: sequences ``[T, M, B]`` (the member dim rides inside the
    batch dims) -> logits ``[T, M, B, 2]`` and values ``[T, M, B]``."""

    def __init__(self, trainer: SeedBatchedA2CTrainer):
        # the encoder's settings (uses_opponent_identity, inputs); its weights come from the stack
        self.encoder = trainer.template.encoder
        self._trainer = trainer

    def __call__(self, observation_index, actions, rewards, identity=None):
        """A2CModel.forward for every member; ``identity`` is ``[M, B, 10]`` or None."""
        trainer = self._trainer
        members_first = (observation_index.transpose(0, 1), shift_right(actions, NO_ACTION).transpose(0, 1),
                         shift_right(rewards, 0.0).transpose(0, 1))
        features = trainer.encode(*members_first, identity)
        parameters = trainer.parameters
        logits = linear(features, parameters["policy_head.weight"], parameters["policy_head.bias"])
        values = linear(features, parameters["value_head.weight"], parameters["value_head.bias"]).squeeze(-1)
        return logits.transpose(0, 1), values.transpose(0, 1)


def _check_per_seed(name: str, values, num_seeds: int) -> list:
    """``values`` (one entry per seed, or None) as a list of ``num_seeds`` entries; a clear error otherwise."""
    if values is None:
        return [None] * num_seeds
    values = list(values)
    if len(values) != num_seeds:
        raise ValueError(f"{name} needs one entry per seed ({num_seeds}), got {len(values)}")
    return values


def check_seed_batchable(settings: RunSettings) -> None:
    """Raise ``ValueError`` (one line) when ``settings`` ask for what the seed-batched trainer does not do:
    it runs uncompiled (``compile`` must be ``"off"``). The harness calls it before a run folder is touched."""
    if settings.compile != "off":
        raise ValueError(f"run setting compile={settings.compile!r}: the seed-batched trainer (--batch-seeds) "
                         f"runs uncompiled; leave compile 'off' or train the seeds apart")


class SeedBatchedA2CTrainer:
    """Trains the seeds ``seeds`` of one A2C run (same config and pool) as one batched computation.

    Args:
        config: the run's hyperparameters (every seed's).
        settings: the run's game and pool (:class:`agents.algorithm.RunSettings`; default: the paper's).
        pool_mode: who the learners play (:data:`agents.pool.POOL_MODES`).
        num_learners: trainable learners per seed.
        seeds: the seeds, distinct integers; seed ``seeds[i]`` is "seed index" ``i`` below.
        device: torch device of every stacked tensor, env and generator.
        frozen_from: one finished run per seed (seed ``seeds[i]``'s Step 1) whose learner 0 is
            that seed's frozen co-player (Step 2), or None.
        init_from: one finished run per seed whose learners start that seed's (Step 3), or None.
        frozen_players: (library use) one list of frozen co-players per seed, instead of
            ``frozen_from``; distinct objects per seed (a player keeps per-episode state).

    Attributes:
        num_units, unit_name: as :class:`agents.algorithm.Trainer`.
        parameters: ``{name: [M, *shape]}``, the members' stacked parameters (leaf tensors), named
            as :class:`agents.a2c.A2CModel`'s.

    Raises:
        ValueError: no seeds, a seed that is not an integer, a repeated seed, or a per-seed list
            of the wrong length; and whatever ``A2CTrainer`` raises for the config or pool.
    """

    unit_name = "iteration"

    def __init__(self, config: A2CConfig, settings: Optional[RunSettings] = None, *, pool_mode: str,
                 num_learners: int, seeds: Sequence[int], device="cpu",
                 frozen_from: Optional[Sequence[TrainedRun]] = None, init_from: Optional[Sequence[TrainedRun]] = None,
                 frozen_players: Optional[Sequence[list]] = None):
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds must name at least one seed, got an empty list")
        for seed in seeds:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise ValueError(f"every seed must be an integer, got {seed!r} in {seeds}")
        repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if repeated:
            raise ValueError(f"seeds must be distinct (each is its own run), got {seeds}: {repeated} repeated")
        num_seeds = len(seeds)
        frozen_from = _check_per_seed("frozen_from", frozen_from, num_seeds)
        init_from = _check_per_seed("init_from", init_from, num_seeds)
        frozen_players = _check_per_seed("frozen_players", frozen_players, num_seeds)
        self.seeds = seeds
        self.config = config
        self.settings = settings = settings if settings is not None else RunSettings()
        check_seed_batchable(settings)
        self.device = torch.device(device)
        self.trainers = [A2CTrainer(config, settings, pool_mode=pool_mode, num_learners=num_learners, seed=seed,
                                    device=device, frozen_from=frozen, init_from=initial, frozen_players=players)
                         for seed, frozen, initial, players in zip(seeds, frozen_from, init_from, frozen_players)]
        first = self.trainers[0]
        self.num_units = first.num_units
        self.num_seeds, self.num_learners = num_seeds, num_learners
        self.num_members = num_seeds * num_learners
        self._entropy_schedule = parse_entropy_schedule(config.entropy_schedule)
        # The model's structure and settings; its own weights are never used (functional_call swaps them).
        self.template = copy.deepcopy(first.models[0])
        self._names = [name for name, _ in self.template.named_parameters()]
        members = self._member_models()
        self.parameters = {name: torch.stack([dict(model.named_parameters())[name].detach() for model in members])
                           .clone().requires_grad_() for name in self._names}
        self.optimizer = torch.optim.Adam(list(self.parameters.values()), lr=config.learning_rate, eps=config.adam_eps)
        self._build_play_layout()

    # ------------------------------------------------------------------ the stack
    def _member_models(self) -> list:
        """The per-seed trainers' models in member order (``m = seed_index * num_learners + learner``)."""
        return [model for trainer in self.trainers for model in trainer.models]

    def _per_member(self, method: str, *args, member_args=()) -> list:
        """``encoder.method(*args, *member_args[m])`` with member ``m``'s weights, for every member.

        The encoder's own code (folding the embeddings into the input weights, the prepended
        identity's first step) runs once per member on slices of the stack: under ``torch.vmap``
        its matrix-vector products become batched GEMMs that round differently from ``mv``.
        Cheap: these are ``[3H, E]``-sized products, once per episode and once per update.
        """
        module = _EncoderMethod(self.template, method)
        # unbind, not indexing: its backward stacks the members' gradients instead of adding M zero-padded ones.
        slices = {name: value.unbind(0) for name, value in self.parameters.items() if name.startswith("encoder.")}
        extras = [extra.unbind(0) for extra in member_args]
        return [functional_call(module, {name: value[member] for name, value in slices.items()},
                                args + tuple(extra[member] for extra in extras), strict=True)
                for member in range(self.num_members)]

    def folded_weights(self):
        """Every member's folded input weight ``[M, 3H, K]`` and bias ``[M, 3H]`` (``folded_weights`` per member)."""
        weights, biases = zip(*self._per_member("folded_weights"))
        return torch.stack(weights), torch.stack(biases)

    def start_states(self, batch_size: int, identity: Optional[torch.Tensor]) -> torch.Tensor:
        """Every member's episode-start state ``[M, B, H]`` (``HistoryEncoder.start_state`` per member;
        ``identity`` ``[M, B, 10]`` or None)."""
        if identity is None:
            return torch.zeros(self.num_members, batch_size, self.template.encoder.hidden_size, device=self.device)
        states = self._per_member("start_state", batch_size, self.device, member_args=(identity,))
        return torch.stack([state[0] for state in states])

    def encode(self, observation_index, previous_action, previous_reward, identity=None) -> torch.Tensor:
        """The encoder's features ``[M, T, B, H]`` (after Swish) of every member's sequences ``[M, T, B]``
        from the episode's start: ``HistoryEncoder.project`` + ``recur``, batched."""
        encoder = self.template.encoder
        weight, bias = self.folded_weights()
        weight = _ContiguousGradient.apply(weight)
        projection = encoder.project_with(weight, bias, observation_index, previous_action, previous_reward,
                                          None if identity is None else identity.unsqueeze(1))
        state = self.start_states(observation_index.shape[-1], identity if encoder.uses_opponent_identity else None)
        outputs = gru_sequence(projection.inputs.contiguous(), state.to(projection.inputs.dtype), weight,
                               self.parameters["encoder.gru.weight_hh_l0"], bias,
                               self.parameters["encoder.gru.bias_hh_l0"])
        return functional.silu(outputs)

    # ------------------------------------------------------------------ play
    def _build_play_layout(self) -> None:
        """One env for all seeds' games (seed ``i``'s at offset ``i * G``) and the gather indices of every member."""
        pools = [trainer.pool for trainer in self.trainers]
        games_per_seed = pools[0].num_env_games
        self._games_per_seed = games_per_seed
        self.env = IPDVectorEnv(self.num_seeds * games_per_seed, payoffs=self.settings.payoffs,
                                num_rounds=self.settings.num_rounds, device=self.device, validate_actions=False)
        self._member_sides = torch.stack([sides for pool in pools for sides in pool.learner_sides])  # [M, B]
        self._member_games = torch.stack([games + index * games_per_seed for index, pool in enumerate(pools)
                                          for games in pool.learner_games])  # [M, B]
        self._co_player_kinds = torch.stack([kinds for pool in pools for kinds in pool.co_player_kinds])  # [M, B]

    def _reset_seed(self, index: int, identities: torch.Tensor) -> None:
        """What ``TrainingPool.play`` does before round 0, for seed ``index``: the tabular draw (and the
        learners' identity rows ``identities[members of the seed]`` in the ``opponent-id`` mode), then
        the frozen players' reset, all from the seed's own generator."""
        trainer = self.trainers[index]
        pool, generator = trainer.pool, trainer.generator
        if pool.tabular is not None:
            pool.tabular.reset(int(pool.tabular_games.numel()), generator)
            if pool.uses_opponent_identity:
                tabular_identity = opponent_log_policy(pool.tabular.cooperation_probabilities)
                offset, count = pool.counts.get("learner", 0), pool.counts["tabular"]
                for learner in range(self.num_learners):
                    identities[index * self.num_learners + learner, offset:offset + count] = \
                        tabular_identity[learner * count:(learner + 1) * count]
        for player, games in zip(trainer.frozen_players(), pool.frozen_games):
            player.reset(int(games.numel()), generator=generator)

    @torch.no_grad()
    def play(self) -> tuple:
        """One iteration's games of every seed, all at once (``TrainingPool.play`` for every seed).

        Returns:
            the members' :class:`agents.pool.LearnerTrajectory` fields stacked, in the order of
            :data:`TRAJECTORY_FIELDS`: ``[M, T, B]`` each, but ``co_player_kind`` ``[M, B]`` and
            ``opponent_identity`` ``[M, B, 10]``. Member ``m``'s slices equal what the seed's own
            ``TrainingPool.play`` returns for that learner.
        """
        batch, num_rounds = self.config.games_per_learner, self.settings.num_rounds
        members, learners = self.num_members, self.num_learners
        encoder = self.template.encoder
        identities = torch.zeros(members, batch, IDENTITY_SIZE, device=self.device)
        for index in range(self.num_seeds):
            self._reset_seed(index, identities)
        identity = identities if encoder.uses_opponent_identity else None
        weight, bias = self.folded_weights()
        weight_hh, bias_hh = self.parameters["encoder.gru.weight_hh_l0"], self.parameters["encoder.gru.bias_hh_l0"]
        policy_weight, policy_bias = self.parameters["policy_head.weight"], self.parameters["policy_head.bias"]
        state = self.start_states(batch, identity)
        previous_action = torch.full((members, batch), NO_ACTION, dtype=torch.int64, device=self.device)

        env, sides, games = self.env, self._member_sides, self._member_games
        num_games = env.num_games
        env.reset()
        index = env.observation_index
        rewards = torch.zeros(2, num_games, dtype=env.dtype, device=self.device)
        joint = torch.empty(2, num_games, dtype=torch.int64, device=self.device)
        all_index = torch.empty(2, num_rounds, num_games, dtype=torch.int64, device=self.device)
        all_actions = torch.empty_like(all_index)
        all_rewards = torch.empty(2, num_rounds, num_games, dtype=env.dtype, device=self.device)
        offsets = [seed_index * self._games_per_seed for seed_index in range(self.num_seeds)]
        for round_index in range(num_rounds):
            # A2CPlayer.act of every member: one batched GRU step.
            projection = encoder.project_with(weight, bias, index[sides, games], previous_action,
                                              rewards[sides, games], identity)
            state = gru_cell(projection.inputs, state, weight, weight_hh, bias, bias_hh)
            logits = linear(functional.silu(state), policy_weight, policy_bias)
            defect_probability = torch.sigmoid(logits[..., 1] - logits[..., 0])
            # Each seed's draws from its own generator, in the seats' order (learners, tabular, frozen).
            draws = torch.empty(members, batch, device=self.device)
            for seed_index, trainer in enumerate(self.trainers):
                generator, pool, offset = trainer.generator, trainer.pool, offsets[seed_index]
                for learner in range(learners):
                    draws[seed_index * learners + learner] = torch.rand(batch, generator=generator,
                                                                        device=self.device)
                others = ([(pool.tabular, pool.tabular_games)] if pool.tabular is not None else []) + \
                    list(zip(trainer.frozen_players(), pool.frozen_games))
                for player, player_games in others:
                    slots = player_games + offset
                    joint[1, slots] = player.act(index[1, slots], rewards[1, slots])
            previous_action = (draws < defect_probability).long()
            joint[sides, games] = previous_action
            all_index[:, round_index] = index
            index, rewards = env.step_indices(joint)
            all_actions[:, round_index] = joint
            all_rewards[:, round_index] = rewards

        def seen(recorded, member_sides):  # the env's [2, T, N] -> every member's [M, T, B]
            return recorded[member_sides, :, games].transpose(1, 2).contiguous()

        return (seen(all_index, sides), seen(all_actions, sides), seen(all_rewards, sides), self._co_player_kinds,
                identities, seen(all_actions, 1 - sides), seen(all_rewards, 1 - sides))

    # ------------------------------------------------------------------ update
    def update(self, trajectory_fields: tuple, entropy_coef: float) -> torch.Tensor:
        """One A2C update of every member on its batch (``A2CTrainer.update``, batched).

        Args:
            trajectory_fields: :meth:`play`'s stacked trajectories.
            entropy_coef: this iteration's coefficient.

        Returns:
            ``[M, 4]``: ``loss/policy``, ``loss/value``, ``loss/entropy``, ``loss/grad_norm`` per member
            (on the device; nothing read back).
        """
        config = self.config
        sequences_first = LearnerTrajectory(*(
            field.transpose(0, 1) if name not in ("co_player_kind", "opponent_identity") else field
            for name, field in zip(TRAJECTORY_FIELDS, trajectory_fields)))
        logits, values, last_value = model_outputs(_StackedModel(self), sequences_first, config.terminal_value)
        logits, values = logits.transpose(0, 1), values.transpose(0, 1)

        def member_loss(member_logits, member_values, member_last_value, *fields):
            return a2c_loss(config, member_logits, member_values, member_last_value, LearnerTrajectory(*fields),
                            entropy_coef)

        in_dims = (0, 0, None if last_value is None else 0) + (0,) * len(TRAJECTORY_FIELDS)
        losses, parts = vmap(member_loss, in_dims=in_dims)(logits, values, last_value, *trajectory_fields)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        grad_norm = self._clip_per_member()
        self.optimizer.step()
        return torch.stack([parts["loss/policy"], parts["loss/value"], parts["loss/entropy"], grad_norm], dim=1)

    @torch.no_grad()
    def _clip_per_member(self) -> torch.Tensor:
        """``clip_grad_norm_(model.parameters(), max_grad_norm)`` of every member: the global gradient norm
        ``[M]`` of each member's parameters, each member's gradients scaled by its own coefficient."""
        grads = [parameter.grad for parameter in self.parameters.values() if parameter.grad is not None]
        norms = torch.stack([torch.linalg.vector_norm(grad.flatten(1), dim=1) for grad in grads], dim=1)  # [M, P]
        total = torch.linalg.vector_norm(norms, dim=1)  # [M]
        coefficient = torch.clamp(self.config.max_grad_norm / (total + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(coefficient.view(-1, *([1] * (grad.dim() - 1))))
        return total

    LOSS_KEYS = ("loss/policy", "loss/value", "loss/entropy", "loss/grad_norm")

    def train_unit(self, unit_index: int) -> list:
        """Iteration ``unit_index`` of every seed; returns one metrics dict per seed (in ``seeds`` order),
        each equal to what ``A2CTrainer(..., seed=s).train_unit(unit_index)`` returns."""
        config = self.config
        entropy_coef = entropy_coefficient(self._entropy_schedule, config.entropy_coef, config.entropy_floor,
                                           unit_index)
        fields = self.play()
        member_losses = [self.update(fields, entropy_coef) for _ in range(config.updates_per_iteration)]
        losses = torch.stack(member_losses, dim=1).tolist()  # [M][updates][4], one read back
        self._write_back()
        results = []
        for seed_index in range(self.num_seeds):
            members = range(seed_index * self.num_learners, (seed_index + 1) * self.num_learners)
            metrics = pool_metrics([LearnerTrajectory(*(field[member] for field in fields)) for member in members])
            for position, key in enumerate(self.LOSS_KEYS):
                values = [update[position] for member in members for update in losses[member]]
                metrics[key] = sum(values) / len(values)
            metrics["entropy_coef"] = entropy_coef
            results.append(metrics)
        return results

    # ------------------------------------------------------------------ per-seed views
    def _check_index(self, seed_index: int) -> int:
        if isinstance(seed_index, bool) or not isinstance(seed_index, int) or not 0 <= seed_index < self.num_seeds:
            raise ValueError(f"seed_index must be an integer in 0..{self.num_seeds - 1} (the position in seeds "
                             f"{self.seeds}), got {seed_index!r}")
        return seed_index

    @torch.no_grad()
    def _write_back(self) -> None:
        """Copy the stacked parameters into the per-seed trainers' models (their players read them)."""
        for member, model in enumerate(self._member_models()):
            for name, parameter in model.named_parameters():
                parameter.copy_(self.parameters[name][member])

    def seed_trainer(self, seed_index: int) -> A2CTrainer:
        """Seed ``seeds[seed_index]``'s own :class:`A2CTrainer` (its models hold the current weights; its
        optimisers are only filled by :meth:`state_dict`). Do not call its ``train_unit``."""
        return self.trainers[self._check_index(seed_index)]

    def seed_view(self, seed_index: int) -> SeedView:
        """Seed ``seeds[seed_index]`` as an :class:`agents.algorithm.Trainer` for the harness's per-run code
        (checkpoints, finiteness checks, evaluation); its units are trained by :meth:`train_unit`."""
        return SeedView(self, self._check_index(seed_index))

    def players(self, seed_index: int) -> list:
        """The learners of seed ``seeds[seed_index]`` as players (current weights)."""
        return self.seed_trainer(seed_index).players()

    def frozen_players(self, seed_index: int) -> list:
        """Seed ``seeds[seed_index]``'s frozen co-players (Step 2's Fixed-ICL), or an empty list."""
        return self.seed_trainer(seed_index).frozen_players()

    def state_dict(self, seed_index: int) -> dict:
        """Seed ``seeds[seed_index]``'s state in :meth:`A2CTrainer.state_dict`'s layout (models, Adam states,
        generator): what that seed's checkpoint holds, as if it had trained alone."""
        trainer = self.seed_trainer(seed_index)
        state = self.optimizer.state
        for learner, (model, optimizer) in enumerate(zip(trainer.models, trainer.optimizers)):
            member = seed_index * self.num_learners + learner
            for parameter, (name, stacked) in zip(model.parameters(), self.parameters.items()):
                if stacked in state:
                    optimizer.state[parameter] = {key: value.clone() if key == "step" else value[member].clone()
                                                  for key, value in state[stacked].items()}
        return trainer.state_dict()

    def load_state_dict(self, state: dict, seed_index: int) -> None:
        """Continue seed ``seeds[seed_index]`` from ``state`` (an :meth:`A2CTrainer.state_dict`, e.g. its
        checkpoint). Every seed must be loaded from the same iteration.

        Raises:
            ValueError: a state whose Adam step count differs from the seeds already loaded.
        """
        trainer = self.seed_trainer(seed_index)
        trainer.load_state_dict(state)
        stacked_state = self.optimizer.state
        with torch.no_grad():
            for learner, (model, optimizer) in enumerate(zip(trainer.models, trainer.optimizers)):
                member = seed_index * self.num_learners + learner
                for parameter, (name, stacked) in zip(model.parameters(), self.parameters.items()):
                    stacked[member] = parameter
                    if parameter not in optimizer.state:
                        continue
                    loaded = optimizer.state[parameter]
                    if stacked not in stacked_state:
                        stacked_state[stacked] = {"step": loaded["step"].clone(),
                                                  "exp_avg": torch.zeros_like(stacked),
                                                  "exp_avg_sq": torch.zeros_like(stacked)}
                    target = stacked_state[stacked]
                    if float(target["step"]) != float(loaded["step"]):
                        raise ValueError(f"seed {self.seeds[seed_index]}'s state has taken {int(loaded['step'])} "
                                         f"Adam steps but the other seeds {int(target['step'])}: batched seeds must "
                                         f"all continue from the same iteration")
                    target["exp_avg"][member] = loaded["exp_avg"]
                    target["exp_avg_sq"][member] = loaded["exp_avg_sq"]


class SeedView:
    """One seed of a :class:`SeedBatchedA2CTrainer` with the :class:`agents.algorithm.Trainer` interface.

    ``state_dict`` / ``load_state_dict`` / ``players`` / ``frozen_players`` are the seed's (the
    single-seed trainer's layout); ``config``, ``num_units`` and ``unit_name`` are the batch's.
    ``train_unit`` raises: a unit trains every seed at once
    (:meth:`SeedBatchedA2CTrainer.train_unit`).
    """

    def __init__(self, batched: SeedBatchedA2CTrainer, seed_index: int):
        self.batched = batched
        self.seed_index = seed_index
        self.seed = batched.seeds[seed_index]
        self.config = batched.config
        self.num_units, self.unit_name = batched.num_units, batched.unit_name

    def train_unit(self, unit_index: int) -> dict:
        raise RuntimeError(f"seed {self.seed} is trained with the other seeds of its batch: call "
                           f"SeedBatchedA2CTrainer.train_unit({unit_index}), which returns every seed's metrics")

    def state_dict(self) -> dict:
        return self.batched.state_dict(self.seed_index)

    def load_state_dict(self, state: dict) -> None:
        self.batched.load_state_dict(state, self.seed_index)

    def players(self) -> list:
        return self.batched.players(self.seed_index)

    def frozen_players(self) -> list:
        return self.batched.frozen_players(self.seed_index)
