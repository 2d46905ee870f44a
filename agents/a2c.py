"""Independent recurrent A2C for the IPD (SPEC section 5), in one readable file.

Each learner is a GRU policy (the shared :class:`agents.history.HistoryEncoder`: hidden
128, a 32-dim embedding of the observation one-hot, Swish on the output; the paper's
"history of observations", ``history_input="observation"``) with a policy head and a linear
value head. One
*iteration* = the pool plays ``games_per_learner`` full episodes per learner (all at
once, no gradient), then each learner makes ``updates_per_iteration`` gradient steps on
its batch (**ours**: 1, i.e. plain on-policy A2C; SPEC section 7 leaves it open).

The update, as in the paper (COALA-PG's protocol):

1. ``r~ = reward_scale * r`` (rewards rescaled for the losses only; metrics stay unscaled);
2. one forward pass over the recorded ``[T, B]`` episodes gives ``log pi`` and ``V``;
3. bootstrapped TD errors ``delta_t = r~_t + gamma V_{t+1} - V_t`` (``V_T = 0``: the game
   ends after round T) and GAE ``A_t = delta_t + gamma gae_lambda A_{t+1}``; the value
   target is the TD(lambda) return with ``td_lambda`` (Table 2 lists the two lambdas apart,
   equal in every column; when they are equal the target is ``A_t + V_t``);
4. advantage normalisation = centring only: the batch mean is subtracted separately for
   games against learners and games against tabular / frozen co-players;
5. ``loss = -mean(log pi(a_t) A_t) + value_coef mean((V_t - G_t)^2) - entropy_coef mean(H_t)``;
   Adam (eps 1e-5), gradient norm clipped at 1.

What the paper leaves open is a named setting, the paper's reading by default:
``entropy_schedule`` / ``entropy_floor`` (the entropy coefficient per iteration, e.g.
``"linear:0.1,0.001,100,200"`` keeps exploring for 100 iterations, then anneals),
``advantage_averaging`` (``"mean"`` over all rounds and games, or ``"sum_rounds"``: the
per-episode sum, mean over games), ``history_input`` (``"observation"``, the paper's, or
``"observation_action_reward"``, the input PPI reads), ``terminal_value`` (``"zero"``: the
game ends after round T; ``"bootstrap"``: ``V_T`` from the value head, as if the episode
were cut short) and ``policy_head_init`` (``"default"``: torch's; ``"small"``: weights
scaled to 0.01, CleanRL's actor initialisation, a uniform policy at the start).

Table 2 of the paper is :data:`TABLE2`; the presets ``cpu-quick`` / ``cpu`` / ``paper``
scale the batch and the number of iterations (:data:`PRESETS`). :data:`ALGORITHM` is the
record the harness runs (``ipd-coop reproduce fig1 --algo a2c``); from Python::

    config, settings = ALGORITHM.make_run("test", paper_step=4)   # Table 2's column 4, test scale
    trainer = A2CTrainer(config, settings, pool_mode="mixed", num_learners=2, seed=0)
    metrics = trainer.train_unit(0)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn
from torch.nn import functional

from agents.algorithm import Algorithm, RunSettings, TrainedRun, models_from_states
from agents.compilation import COMPILE_MODES, CUDA_GRAPH_MODES, Compiled, is_compile_failure, maybe_compiled
from agents.history import HISTORY_INPUTS, IDENTITY_INPUTS, NO_ACTION, HistoryEncoder, shift_right
from agents.pool import IDENTITY_MODES, KIND_LEARNER, TrainingPool
from agents.settings import check_settings, setting
from ipd_env.game import first_person_outcome
from ipd_env.memory_one import IDENTITY_SIZE


@dataclass
class A2CConfig:
    """Hyperparameters of one A2C run (JSON-able; ``config.json`` stores them)."""

    games_per_learner: int = setting(4096, at_least=1)
    """episodes each learner plays per iteration (the paper's "batch size")."""
    num_iterations: int = setting(1000, at_least=1)
    """training iterations (one batch collected per iteration)."""
    updates_per_iteration: int = setting(1, at_least=1)
    """gradient steps on each iteration's batch (1 = plain on-policy A2C)."""
    learning_rate: float = setting(1e-3, above=0)
    """Adam learning rate."""
    adam_eps: float = setting(1e-5, above=0)
    """Adam epsilon."""
    gamma: float = setting(0.99, at_least=0, at_most=1)
    """discount factor."""
    gae_lambda: float = setting(1.0, at_least=0, at_most=1)
    """lambda of GAE (the advantages), in [0, 1]."""
    td_lambda: float = setting(1.0, at_least=0, at_most=1)
    """lambda of the TD(lambda) value target, in [0, 1] (Table 2 lists it apart from ``gae_lambda``;
    equal in every column)."""
    entropy_coef: float = setting(0.01, at_least=0)
    """weight of the entropy bonus (Table 2); the coefficient of every iteration when
    ``entropy_schedule`` is ``"constant"``."""
    entropy_schedule: str = "constant"
    """the entropy coefficient over training (**ours**; the paper keeps it constant):
    ``"constant"`` = ``entropy_coef`` throughout; ``"linear:START,END,ITERS"`` = START at
    iteration 0, linearly to END at iteration ITERS, END after; ``"linear:START,END,FROM,TO"``
    = START until iteration FROM, linearly to END at TO, END after ("keep exploring, then
    anneal"). Logged per iteration as the metric ``entropy_coef``."""
    entropy_floor: float = setting(0.0, at_least=0)
    """the entropy coefficient never goes below this (any schedule)."""
    advantage_averaging: str = "mean"
    """how the advantage-weighted policy loss and the entropy bonus are averaged:
    ``"mean"`` = mean over all ``T * B`` (round, game) entries (the default; the paper does
    not say); ``"sum_rounds"`` = sum over the rounds of an episode, mean over games (the
    per-episode objective: T times the gradient of ``"mean"``; the value loss stays a mean)."""
    value_coef: float = setting(0.5, at_least=0)
    """weight of the squared value error."""
    reward_scale: float = setting(0.02, above=0)
    """rewards are multiplied by this for the losses only."""
    advantage_centring: bool = True
    """subtract the batch mean of the advantages, separately vs learners and vs others."""
    history_input: str = "observation"
    """what the GRU reads each round: ``"observation"`` (the paper's "history of observations";
    the observation already holds the previous own action and reward) or
    ``"observation_action_reward"`` (an alternative reading, not the paper's: the observation plus
    the previous own action and reward, as PPI reads them); :mod:`agents.history`."""
    terminal_value: str = "zero"
    """the value after the last round: ``"zero"`` (the game ends after round T; the paper's
    reading) or ``"bootstrap"`` (``V_T`` from the value head on the final observation, as for
    an episode cut short; the paper does not say)."""
    opponent_id_input: str = "prepended"
    """the opponent-ID ablation's input (:mod:`agents.history`): ``"prepended"`` (the paper's: the
    10 log-probabilities log pi(a | o), once, before round 0) or ``"every_round"`` (an alternative
    reading, not the paper's: the 5 log p(C | o) beside every round's input)."""
    policy_head_init: str = "default"
    """``"default"`` (torch's ``nn.Linear`` initialisation; the paper does not say) or ``"small"``
    (orthogonal weights scaled 0.01 and zero bias, CleanRL's actor: the first policy is uniform)."""
    max_grad_norm: float = setting(1.0, above=0)
    """gradient norm clip."""
    hidden_size: int = setting(128, at_least=1)
    """GRU hidden size."""
    embedding_size: int = setting(32, at_least=1)
    """per-modality embedding size."""

    #: what to lower when training diverges (non-finite loss or weights).
    DIVERGENCE_SETTINGS = ("learning_rate", "reward_scale", "entropy_coef", "value_coef")

    def __post_init__(self):
        """Every setting checked by its declared type and range (:mod:`agents.settings`), then the strings."""
        check_settings(self, "a2c")
        parse_entropy_schedule(self.entropy_schedule)
        for name, allowed in (("advantage_averaging", ADVANTAGE_AVERAGING), ("history_input", HISTORY_INPUTS),
                              ("terminal_value", TERMINAL_VALUES), ("policy_head_init", POLICY_HEAD_INITS),
                              ("opponent_id_input", IDENTITY_INPUTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"a2c setting {name} must be one of {', '.join(map(repr, allowed))}, "
                                 f"got {getattr(self, name)!r}")

    #: Settings added after run folders were first written, with the value every earlier run had:
    #: a ``config.json`` without them is read with these (:meth:`from_saved`).
    EARLIER_VALUES = {"history_input": "observation_action_reward", "terminal_value": "zero",
                      "policy_head_init": "default", "opponent_id_input": "every_round"}

    @classmethod
    def from_saved(cls, hyperparameters: dict) -> A2CConfig:
        """The config of a ``config.json``'s ``hyperparameters``, those written before a setting
        existed read with the value they ran with (``td_lambda`` = their ``gae_lambda``)."""
        earlier = {**cls.EARLIER_VALUES, "td_lambda": hyperparameters.get("gae_lambda", 1.0)}
        return cls(**{**earlier, **hyperparameters})


#: The paper's Table 2, columns Step 1-4 (4 = mixed pool); shared: gamma, value coef, eps, clip.
TABLE2 = {
    1: dict(advantage_centring=True, games_per_learner=2048, reward_scale=0.2, gae_lambda=0.99, td_lambda=0.99,
            entropy_coef=0.001, learning_rate=5e-3),
    2: dict(advantage_centring=False, games_per_learner=2048, reward_scale=0.05, gae_lambda=1.0, td_lambda=1.0,
            entropy_coef=0.001, learning_rate=5e-3),
    3: dict(advantage_centring=True, games_per_learner=4096, reward_scale=0.02, gae_lambda=0.95, td_lambda=0.95,
            entropy_coef=0.001, learning_rate=5e-4),
    4: dict(advantage_centring=True, games_per_learner=4096, reward_scale=0.02, gae_lambda=1.0, td_lambda=1.0,
            entropy_coef=0.01, learning_rate=1e-3),
}

#: ``cpu-mechanism``: the regime where the paper's mechanism appears on 2 CPU cores (docs/mechanism.md).
#: It is ``cpu-quick`` (B = 256 episodes per learner, 250 iterations, Table 2's values) except, with
#: the paper's value in brackets:
#:
#: * Step 1: ``pool="pure"`` [uniform U(0, 1)^5]: the co-players are the 32 deterministic memory-1
#:   strategies, drawn uniformly, so a reciprocator can be told apart from a few answers (the
#:   in-context prize is 0.244 per round instead of 0.050);
#:   ``entropy_schedule="linear:0.1,0.02,300,1200"`` [constant 0.001]: explore at 0.1 for 300
#:   iterations, anneal to 0.02 by iteration 1200 (at Table 2's 0.001 the learner is deterministic
#:   always-defect within ~50 iterations and never sees a reciprocator answer); 1600 iterations
#:   [not given] (at 800, annealed by 600, it cooperated with TFT only ~0.5 of the time).
#: * Step 2 and Step 3: Table 2 at cpu-quick (the pool setting does not enter their training).
#: * Step 4 (Fig. 1's mixed pool and ablations): ``pool="pure"`` [uniform], 600 iterations [not given].
#: * every step: ``history_input="observation_action_reward"`` [the observation history]: the input
#:   docs/mechanism.md's figures of this preset were made with.
#:
#: What it gives (Steps 1-2 as in the paper on its pure pool, Step 3 and Fig. 1 not) is in
#: docs/mechanism.md. The ``paper`` preset and the defaults keep the paper's settings.
MECHANISM_PRESET = {
    1: dict(games_per_learner=256, num_iterations=1600, pool="pure", entropy_schedule="linear:0.1,0.02,300,1200"),
    2: dict(games_per_learner=256, num_iterations=250),
    3: dict(games_per_learner=256, num_iterations=250),
    4: dict(games_per_learner=256, num_iterations=600, pool="pure"),
}
# cpu-mechanism reads the observation, previous action and reward [the paper: the observation history]:
# docs/mechanism.md's figures of this preset were made with that input.
for _step_settings in MECHANISM_PRESET.values():
    _step_settings["history_input"] = "observation_action_reward"

#: Preset -> Table 2 step -> overrides of the Table 2 values (the scale of a run).
#: ``paper`` is the paper exactly: Table 2's batches and the lengths of its figures (SPEC 6b).
PRESETS = {
    "test": {step: dict(games_per_learner=32, num_iterations=3, hidden_size=16, embedding_size=8,
                        num_rounds=10, checkpoint_every=1, eval_pool_size=64) for step in TABLE2},
    # cpu-quick: B = 256, 250 iterations per condition (~0.55 s per iteration of two learners on
    # one idle CPU core; an experiment's 3 seeds in ~12 minutes with --workers 2 on 2 cores).
    "cpu-quick": {step: dict(games_per_learner=256, num_iterations=250) for step in TABLE2},
    # cpu: 4x the batch and 4x the iterations of cpu-quick (~16x its compute; not run to the end here).
    "cpu": {step: dict(games_per_learner=1024, num_iterations=400) for step in TABLE2},
    # paper: Table 2's batches (above) and the paper's own lengths, read off its figures' axes (SPEC 6b):
    # Step 1 50,000 gradient steps (Fig. 4A), Step 2 100,000 (4C), Step 3 10,000 (4E), Fig. 1 200,000
    # training iterations. One update per iteration, so gradient steps = iterations. GPU scale: see
    # `ipd-coop plan` and docs/speed.md for what a run costs on your device.
    "paper": {1: dict(num_iterations=50_000), 2: dict(num_iterations=100_000), 3: dict(num_iterations=10_000),
              4: dict(num_iterations=200_000)},
    "cpu-mechanism": MECHANISM_PRESET,
}


ADVANTAGE_AVERAGING = ("mean", "sum_rounds")
TERMINAL_VALUES = ("zero", "bootstrap")
POLICY_HEAD_INITS = ("default", "small")


def parse_entropy_schedule(spec: str) -> Optional[tuple]:
    """``entropy_schedule`` as ``None`` (constant) or ``(start, end, from_iteration, to_iteration)``.

    ``"linear:START,END,ITERS"`` is ``(START, END, 0, ITERS)``. Raises ``ValueError`` naming
    the setting and the accepted forms.
    """
    forms = ('"constant", "linear:START,END,ITERS" or "linear:START,END,FROM,TO" (coefficients >= 0, '
             'iterations integers with 0 <= FROM < TO)')
    if not isinstance(spec, str):
        raise ValueError(f"entropy_schedule must be a string: {forms}; got {spec!r}")
    if spec == "constant":
        return None
    kind, _, arguments = spec.partition(":")
    parts = arguments.split(",")
    if kind != "linear" or len(parts) not in (3, 4):
        raise ValueError(f"entropy_schedule must be {forms}; got {spec!r}")
    try:
        start, end = float(parts[0]), float(parts[1])
        iterations = [int(part) for part in parts[2:]]
    except ValueError:
        raise ValueError(f"entropy_schedule must be {forms}; got {spec!r}") from None
    first, last = (0, iterations[0]) if len(iterations) == 1 else iterations
    if not (start >= 0 and end >= 0 and start < float("inf") and end < float("inf")) or not 0 <= first < last:
        raise ValueError(f"entropy_schedule must be {forms}; got {spec!r}")
    return start, end, first, last


def entropy_coefficient(schedule: Optional[tuple], entropy_coef: float, entropy_floor: float,
                        iteration: int) -> float:
    """The entropy coefficient of (0-based) ``iteration``.

    ``schedule`` comes from :func:`parse_entropy_schedule` (``None``: ``entropy_coef``
    throughout); the result is never below ``entropy_floor``.
    """
    if schedule is None:
        value = float(entropy_coef)
    else:
        start, end, first, last = schedule
        progress = min(max((iteration - first) / (last - first), 0.0), 1.0)
        value = start + (end - start) * progress
    return max(value, float(entropy_floor))


def preset_settings(preset: str, paper_step: int) -> dict:
    """What ``preset`` sets over :class:`A2CConfig`'s defaults for column ``paper_step`` (1-4) of
    Table 2: that column's values, then the preset's scale."""
    return {**TABLE2[paper_step], **PRESETS[preset][paper_step]}


class A2CModel(nn.Module):
    """GRU history encoder with a policy head (2 logits) and a linear value head."""

    def __init__(self, hidden_size: int = 128, embedding_size: int = 32, uses_opponent_identity: bool = False,
                 history_input: str = "observation", policy_head_init: str = "default",
                 opponent_id_input: str = "prepended"):
        super().__init__()
        self.encoder = HistoryEncoder(hidden_size, embedding_size, uses_opponent_identity, inputs=history_input,
                                      identity_input=opponent_id_input)
        self.policy_head = nn.Linear(hidden_size, 2)
        self.value_head = nn.Linear(hidden_size, 1)
        if policy_head_init == "small":
            nn.init.orthogonal_(self.policy_head.weight, gain=0.01)
            nn.init.zeros_(self.policy_head.bias)
        elif policy_head_init != "default":
            raise ValueError(f"policy_head_init must be one of {', '.join(map(repr, POLICY_HEAD_INITS))}, "
                             f"got {policy_head_init!r}")

    @classmethod
    def from_config(cls, config: A2CConfig, uses_opponent_identity: bool) -> A2CModel:
        """The model a config describes (sizes, input, head initialisation)."""
        return cls(config.hidden_size, config.embedding_size, uses_opponent_identity, config.history_input,
                   config.policy_head_init, config.opponent_id_input)

    def forward(self, observation_index, actions, rewards, identity=None):
        """Logits ``[T, B, 2]`` and values ``[T, B]`` of recorded episodes ``[T, B]``."""
        projection = self.encoder.project(observation_index, shift_right(actions, NO_ACTION), shift_right(rewards, 0.0),
                                          None if identity is None else identity.unsqueeze(0))
        features, _ = self.encoder.recur(projection)
        return self.policy_head(features), self.value_head(features).squeeze(-1)


def policy_step(model: A2CModel, weight, bias, observation, previous_action, reward, identity, state):
    """One round of play: ``(p(defect) [B], new GRU state [1, B, hidden])`` from this round's
    observation, the previous action and reward and the state, with the episode's folded input
    weights (:meth:`agents.history.HistoryEncoder.folded_weights`). Pure: what ``compile`` compiles."""
    encoder = model.encoder
    projection = encoder.project_with(weight, bias, observation, previous_action, reward, identity)
    features, state = encoder.recur_step(projection, state)
    logits = model.policy_head(features)
    return torch.sigmoid(logits[:, 1] - logits[:, 0]), state


class A2CPlayer:
    """A trained or training A2C model playing through the player interface (no gradient).

    ``compile``: :data:`agents.compilation.COMPILE_MODES`; anything but ``"off"`` compiles the
    per-round :func:`policy_step`.
    """

    def __init__(self, model: A2CModel, name: str = "a2c", compile: str = "off"):
        self.model = model
        self.name = name
        self._policy_step = maybe_compiled(policy_step, compile, "the A2C policy step")
        # CUDA graphs reuse their output buffers at the next replay (the next round's, or another learner's
        # step in between): the state kept between rounds is copied.
        self._copy_state = compile in CUDA_GRAPH_MODES

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None, opponent_identity=None) -> None:
        device = next(self.model.parameters()).device
        self._generator = generator
        self._previous_action = torch.full((num_games,), NO_ACTION, dtype=torch.int64, device=device)
        if self.model.encoder.uses_opponent_identity and opponent_identity is None:
            opponent_identity = torch.zeros(num_games, IDENTITY_SIZE, device=device)
        self._identity = opponent_identity if self.model.encoder.uses_opponent_identity else None
        with torch.no_grad():
            self._state = self.model.encoder.start_state(num_games, device, self._identity)
        with torch.no_grad():  # the parameters are fixed for the episode: fold the input weights once
            self._folded = self.model.encoder.folded_weights()

    @torch.no_grad()
    def policy_cooperation(self, observation_index: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
                           identity: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The policy's p(cooperate) ``[T, N]`` at every round of recorded games ``[T, N]`` (its own
        observations, actions and rewards), exactly, rather than the 0/1 of the actions it sampled:
        an in-training probe can then see a cooperation rate of 1e-5 that 32 sampled games cannot."""
        logits, _ = self.model(observation_index, actions, rewards, identity)
        # As act plays: defect with probability sigmoid(l_D - l_C); where overflowing logits make that
        # NaN, act's draw never falls below it and the player cooperates, so p(C) is 1 there.
        defect_probability = torch.sigmoid(logits[..., 1] - logits[..., 0])
        return 1.0 - torch.nan_to_num(defect_probability, nan=0.0)

    @torch.no_grad()
    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        defect_probability, state = self._policy_step(self.model, *self._folded, observation, self._previous_action,
                                                      reward, self._identity, self._state)
        self._state = state.clone() if self._copy_state else state
        draw = torch.rand(defect_probability.shape, generator=self._generator, device=defect_probability.device)
        action = (draw < defect_probability).long()
        self._previous_action = action
        return action


def generalised_advantages(rewards, values, gamma: float, lam: float, last_value=None):
    """GAE(lambda) advantages ``[T, B]`` from rewards and values ``[T, B]``; ``last_value`` ``[B]``
    is ``V_T`` (``None``: 0, the game is over)."""
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    next_value = torch.zeros_like(rewards[0]) if last_value is None else last_value
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_value - values[t]
        running = delta + gamma * lam * running
        advantages[t] = running
        next_value = values[t]
    return advantages


def advantages_and_returns(rewards, values, gamma: float, gae_lambda: float, td_lambda: Optional[float] = None,
                           last_value=None):
    """GAE(``gae_lambda``) advantages and TD(``td_lambda``) returns ``[T, B]`` (``td_lambda`` None:
    ``gae_lambda``). The TD(lambda) return is ``V_t`` plus the GAE(lambda) advantage with the same
    lambda, so equal lambdas cost one pass. ``last_value`` ``[B]``: ``V_T`` (None: 0)."""
    advantages = generalised_advantages(rewards, values, gamma, gae_lambda, last_value)
    if td_lambda is None or td_lambda == gae_lambda:
        return advantages, advantages + values
    return advantages, generalised_advantages(rewards, values, gamma, td_lambda, last_value) + values


def model_outputs(model: A2CModel, trajectory, terminal_value: str = "zero"):
    """``(logits [T, B, 2], values [T, B], last_value [B] or None)`` of a learner's recorded games.

    ``terminal_value="bootstrap"`` runs the GRU one step further, on the observation after the
    last round, for ``V_T`` (detached: a target, not a prediction to train); ``"zero"`` gives None.
    """
    identity = trajectory.opponent_identity if model.encoder.uses_opponent_identity else None
    if terminal_value != "bootstrap":
        logits, values = model(trajectory.observation_index, trajectory.actions, trajectory.rewards, identity)
        return logits, values, None
    final_observation = first_person_outcome(trajectory.actions[-1], trajectory.co_player_actions[-1])
    logits, values = model(torch.cat([trajectory.observation_index, final_observation.unsqueeze(0)]),
                           torch.cat([trajectory.actions, trajectory.actions[-1:]]),
                           torch.cat([trajectory.rewards, trajectory.rewards[-1:]]), identity)
    return logits[:-1], values[:-1], values[-1].detach()


def centre_per_kind(advantages: torch.Tensor, vs_learner: torch.Tensor) -> torch.Tensor:
    """Advantages ``[T, B]`` minus their mean over the games against learners and, apart, over the
    rest (``vs_learner`` ``[B]`` bool): COALA-PG's advantage normalisation, centring only.

    Written with masks rather than indexing, so it never waits for the device (no ``.any()``) and
    works under ``torch.vmap``; an empty group subtracts nothing.
    """
    centred = advantages
    for group in (vs_learner, ~vs_learner):
        weight = group.to(advantages.dtype)
        count = weight.sum() * advantages.shape[0]
        mean = (advantages * weight).sum() / count.clamp(min=1.0)
        centred = centred - mean * weight
    return centred


def a2c_loss(config: A2CConfig, logits, values, last_value, trajectory, entropy_coef: float):
    """The A2C loss of one learner's batch (module docstring, steps 1, 3-5) and its parts.

    Args:
        config: the run's settings (reward scale, gamma, lambdas, centring, averaging, value coef).
        logits, values, last_value: :func:`model_outputs`' (``[T, B, 2]``, ``[T, B]``, ``[B]`` or None).
        trajectory: the learner's games (:class:`agents.pool.LearnerTrajectory`).
        entropy_coef: this iteration's entropy coefficient.

    Returns:
        ``(loss, {"loss/policy", "loss/value", "loss/entropy": 0-dim tensors})``; nothing is
        read back from the device.
    """
    scaled_rewards = trajectory.rewards * config.reward_scale
    with torch.no_grad():
        advantages, returns = advantages_and_returns(scaled_rewards, values, config.gamma, config.gae_lambda,
                                                     config.td_lambda, last_value)
        if config.advantage_centring:
            advantages = centre_per_kind(advantages, trajectory.co_player_kind == KIND_LEARNER)
    log_probabilities = functional.log_softmax(logits, dim=-1)
    taken = log_probabilities.gather(-1, trajectory.actions.unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probabilities.exp() * log_probabilities).sum(-1)
    if config.advantage_averaging == "sum_rounds":  # per-episode objective: sum over rounds, mean over games
        policy_loss = -(taken * advantages).sum(dim=0).mean()
        entropy_bonus = entropy.sum(dim=0).mean()
    else:
        policy_loss = -(taken * advantages).mean()
        entropy_bonus = entropy.mean()
    value_loss = (values - returns).pow(2).mean()
    loss = policy_loss + config.value_coef * value_loss - entropy_coef * entropy_bonus
    return loss, {"loss/policy": policy_loss.detach(), "loss/value": value_loss.detach(),
                  "loss/entropy": entropy.mean().detach()}


def batch_loss(model: A2CModel, config: A2CConfig, trajectory, entropy_coef):
    """:func:`a2c_loss` of a learner's batch from its model's outputs: the update's forward pass,
    what ``compile`` compiles."""
    logits, values, last_value = model_outputs(model, trajectory, config.terminal_value)
    return a2c_loss(config, logits, values, last_value, trajectory, entropy_coef)


class A2CTrainer:
    """Trains the learners of one run (a :class:`agents.algorithm.Trainer`).

    Args:
        config: the run's hyperparameters.
        settings: the run's game and pool (:class:`agents.algorithm.RunSettings`; default: the paper's
            game, 100 rounds, against the uniform pool).
        pool_mode: who the learners play (:data:`agents.pool.POOL_MODES`).
        num_learners: trainable learners.
        seed: seeds the model initialisations and every sample of the run.
        device: torch device of models and pool.
        frozen_from: a finished run whose learner 0 is the frozen co-player (Step 2's Fixed-ICL).
        init_from: a finished run whose learners start this run's (Step 3 starts from Step 2).
        frozen_players: (library use) co-players for the ``vs-frozen`` mode given directly,
            e.g. ``[make_player("allc")]``, instead of ``frozen_from``.
    """

    unit_name = "iteration"

    def __init__(self, config: A2CConfig, settings: Optional[RunSettings] = None, *, pool_mode: str,
                 num_learners: int, seed: int, device="cpu", frozen_from: Optional[TrainedRun] = None,
                 init_from: Optional[TrainedRun] = None, frozen_players: Optional[list] = None):
        self.config = config
        self.settings = settings = settings if settings is not None else RunSettings()
        self.device = torch.device(device)
        self.num_units = config.num_iterations
        self._entropy_schedule = parse_entropy_schedule(config.entropy_schedule)
        uses_opponent_identity = pool_mode in IDENTITY_MODES
        initial = None
        if init_from is not None:
            initial = trained_models(init_from, self.device)
            if len(initial) < num_learners:
                raise ValueError(f"{init_from.source} has {len(initial)} learners, {num_learners} are needed")
        self.models = []
        for index in range(num_learners):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(1000 * seed + index)
                model = A2CModel.from_config(config, uses_opponent_identity)
            if initial is not None:
                model.load_state_dict(initial[index].state_dict())
            self.models.append(model.to(self.device))
        self.optimizers = [torch.optim.Adam(model.parameters(), lr=config.learning_rate,
                                            eps=config.adam_eps) for model in self.models]
        self._players = [A2CPlayer(model, name=f"a2c_{index}", compile=settings.compile)
                         for index, model in enumerate(self.models)]
        self._batch_loss = maybe_compiled(batch_loss, settings.compile, "the A2C loss")
        self._frozen = list(frozen_players or [])
        if frozen_from is not None:
            self._frozen = trained_players(frozen_from, self.device)[:1]
            self._frozen[0].name = "fixed-icl"
        self.pool = TrainingPool(pool_mode, num_learners, config.games_per_learner, num_frozen=len(self._frozen),
                                 num_rounds=settings.num_rounds, payoffs=settings.payoffs, device=self.device,
                                 pool=settings.pool)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)

    def players(self) -> list:
        return list(self._players)

    def frozen_players(self) -> list:
        return list(self._frozen)

    def update(self, model, optimizer, trajectory, entropy_coef: Optional[float] = None) -> dict:
        """The A2C update of one learner on its batch (module docstring, steps 1-5); its losses as floats.

        ``entropy_coef`` is this iteration's coefficient (default: the config's ``entropy_coef``).
        """
        return {key: value.item() for key, value in self._update(model, optimizer, trajectory, entropy_coef).items()}

    def _update(self, model, optimizer, trajectory, entropy_coef: Optional[float] = None) -> dict:
        """:meth:`update` with its losses left on the device (0-d tensors): no host synchronisation."""
        config = self.config
        entropy_coef = config.entropy_coef if entropy_coef is None else entropy_coef
        parts = self._loss_backward(model, optimizer, trajectory, entropy_coef)
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        parts["loss/grad_norm"] = grad_norm
        return {key: value.detach() for key, value in parts.items()}

    def _loss_backward(self, model, optimizer, trajectory, entropy_coef: float) -> dict:
        """The loss of one batch, its gradients in the model; the loss's parts (0-d tensors)."""
        compiled = isinstance(self._batch_loss, Compiled) and self._batch_loss.compiled
        # compiled: the coefficient as a tensor, or a schedule's new value each iteration would recompile
        coefficient = torch.tensor(entropy_coef, device=self.device) if compiled else entropy_coef
        loss, parts = self._batch_loss(model, self.config, trajectory, coefficient)
        optimizer.zero_grad(set_to_none=True)
        try:
            loss.backward()
        except Exception as error:  # a compiled backward that fails to build: this batch again, uncompiled
            if not compiled or not is_compile_failure(error):
                raise
            self._batch_loss.fall_back(error)
            return self._loss_backward(model, optimizer, trajectory, entropy_coef)
        # CUDA graphs reuse their output buffers at the next replay (the next learner's update): kept parts are copied
        return {key: value.clone() for key, value in parts.items()} if compiled else parts

    def train_unit(self, unit_index: int) -> dict:
        config = self.config
        entropy_coef = entropy_coefficient(self._entropy_schedule, config.entropy_coef, config.entropy_floor,
                                           unit_index)
        trajectories, metrics = self.pool.play(self._players, self.generator, self._frozen)
        losses: dict = {}
        for model, optimizer, trajectory in zip(self.models, self.optimizers, trajectories):
            for _ in range(config.updates_per_iteration):
                for key, value in self._update(model, optimizer, trajectory, entropy_coef).items():
                    losses.setdefault(key, []).append(value)
        # One transfer for every loss of the iteration (on a GPU, the iteration's one host synchronisation
        # besides the pool's metrics); averaged in Python, in the order they were made.
        keys = list(losses)
        flat = torch.stack([value for key in keys for value in losses[key]]).tolist() if keys else []
        position = 0
        for key in keys:
            values = flat[position:position + len(losses[key])]
            position += len(values)
            metrics[key] = sum(values) / len(values)
        metrics["entropy_coef"] = entropy_coef
        return metrics

    def state_dict(self) -> dict:
        return {"models": [model.state_dict() for model in self.models],
                "optimizers": [optimizer.state_dict() for optimizer in self.optimizers],
                "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        for model, model_state in zip(self.models, state["models"]):
            model.load_state_dict(model_state)
        for optimizer, optimizer_state in zip(self.optimizers, state["optimizers"]):
            optimizer.load_state_dict(optimizer_state)
        self.generator.set_state(state["generator"].cpu())


def trained_models(run: TrainedRun, device="cpu") -> list:
    """The trained A2C models of a finished run (its trainer's final state), in eval mode on ``device``."""
    uses_opponent_identity = run.pool_mode in IDENTITY_MODES
    return models_from_states(run.state["models"],
                              lambda: A2CModel.from_config(run.config, uses_opponent_identity),
                              device, run.source)


def trained_players(run: TrainedRun, device="cpu") -> list:
    """The learners of a finished A2C run as players."""
    return [A2CPlayer(model, name=f"a2c_{index}") for index, model in enumerate(trained_models(run, device))]


#: A2C as the harness sees it (:class:`agents.algorithm.Algorithm`).
ALGORITHM = Algorithm(name="a2c", config_class=A2CConfig, presets=tuple(PRESETS), preset_settings=preset_settings,
                      episodes_per_unit=lambda config: config.games_per_learner,
                      num_units=lambda config: config.num_iterations, make_trainer=A2CTrainer,
                      trained_players=trained_players,
                      # the backward pass keeps the GRU state [rounds, games, hidden_size] in float32
                      state_bytes_per_game_round=lambda config: 4 * config.hidden_size,
                      compile_modes=COMPILE_MODES)
