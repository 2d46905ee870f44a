"""Stable-Baselines3 baselines on the IPD (extra ``[sb3]``).

Three ways to train, one way to play:

* :func:`train_shared_ppo`: parameter-shared PPO on the PettingZoo parallel env through
  SuperSuit (``pettingzoo_env_to_vec_env_v1`` then ``concat_vec_envs_v1``): both players
  are the same MLP policy on the one-hot first-person observation (memory-1 by design).
  SuperSuit's ``ConcatVecEnv`` has no ``seed``, so ``PPO(seed=...)`` and the SB3 wrapper's
  ``reset(seed=...)`` fail on it; we seed torch/numpy/random with ``set_random_seed`` and the
  inner ``ConcatVecEnv`` with its own ``reset(seed=...)``.
* :func:`train_recurrent_ppo`: sb3-contrib ``RecurrentPPO`` (LSTM policy, so it can infer its
  co-player in context) in the Gymnasium env ``ipd_env/IPDvsCoPlayer-v0`` against the
  tabular pool (``co_player="pool"``), a zoo member (``"allc"``, ...), or the mixed pool
  (``"mixed"``): each episode's co-player is a fresh uniform memory-1 agent with
  probability ``tabular_fraction`` (default 1/2) and otherwise a frozen copy of the learner,
  whose weights :class:`RefreshFrozenCopy` refreshes from the learner during training.
* :class:`SB3Player`: a trained SB3 policy (MLP or recurrent) with the player interface of
  :mod:`ipd_env.player`, sampling from the policy's probabilities with the generator given
  to ``reset``; :func:`evaluate_sb3` runs the same evaluation as A2C and PPI
  (:func:`baselines.evaluation.evaluate_players`).

Every helper takes ``threads`` (default 1): torch's CPU threads while it runs, restored
afterwards. Why 1: these networks are small, and on a 2-core machine RecurrentPPO swung
between 39 and 607 steps/s with 2 threads and held 612-647 with 1; ``None`` keeps
torch's setting.

The training helpers also take SB3's own ``tensorboard_log`` (a folder: SB3 writes its
scalars, ``rollout/ep_rew_mean``, ``train/loss``, ..., to ``<folder>/PPO_1`` or
``RecurrentPPO_1``, against its step count: agent-steps for the shared PPO, learner
steps for RecurrentPPO) and ``progress_bar`` (SB3's bar, which needs tqdm and rich). What
these need is checked before anything is built: a missing TensorBoard raises one
:class:`~baselines.optional.MissingExtraError` naming the extra ``plot``, instead of
SB3's ``ImportError`` once the model is built.
"""
from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator
from typing import Optional

import gymnasium
import numpy as np
import torch

from baselines.evaluation import evaluate_players
from baselines.optional import MissingExtraError, import_optional
from baselines.tabular import MemoryOnePlayer, sample_memory_one
from ipd_env.game import NUM_OBSERVATIONS
from ipd_env.memory_one import UNIFORM_POOL_NAME

sb3 = import_optional("stable_baselines3", "sb3", "the Stable-Baselines3 baselines (baselines.sb3)")
sb3_contrib = import_optional("sb3_contrib", "sb3", "RecurrentPPO (baselines.sb3)")
supersuit = import_optional("supersuit", "sb3", "the SuperSuit vector env (baselines.sb3)")

from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common import callbacks as sb3_callbacks  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common import logger as sb3_logger  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common.monitor import Monitor  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common.utils import set_random_seed  # noqa: E402  (after import_optional, which names the extra when it is missing)
from stable_baselines3.common.vec_env import DummyVecEnv  # noqa: E402  (after import_optional, which names the extra when it is missing)

#: PPO settings for 100-round episodes (ours; SB3 defaults otherwise).
SHARED_PPO_DEFAULTS = dict(n_steps=200, batch_size=400, n_epochs=4, learning_rate=3e-3, gamma=0.99,
                           gae_lambda=0.95, ent_coef=0.01)
RECURRENT_PPO_DEFAULTS = dict(n_steps=100, batch_size=400, n_epochs=4, learning_rate=3e-3, gamma=0.99,
                              gae_lambda=0.95, ent_coef=0.01,
                              policy_kwargs=dict(lstm_hidden_size=64, net_arch=dict(pi=[64], vf=[64])))


def check_threads(threads: Optional[int]) -> Optional[int]:
    """Return ``threads`` if it is None or a positive integer, else raise ``ValueError``."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    return threads


def check_logging(tensorboard_log, progress_bar: bool) -> None:
    """Raise before training if ``tensorboard_log`` or ``progress_bar`` is malformed or lacks its package.

    ``tensorboard_log`` (None or a folder) needs TensorBoard, which the extra ``plot``
    installs: without it, one :class:`~baselines.optional.MissingExtraError` naming the
    extra (SB3 itself raises a bare ``ImportError`` only inside ``learn``).
    ``progress_bar`` needs tqdm and rich (SB3's bar): without them, one ``ImportError``
    saying so.
    """
    if tensorboard_log is not None:
        if not isinstance(tensorboard_log, (str, os.PathLike)) or str(tensorboard_log) == "":
            raise ValueError(f"tensorboard_log must be a folder path or None, got {tensorboard_log!r}")
        purpose = "tensorboard_log= of the SB3 baselines (baselines.sb3)"
        import_optional("tensorboard", "plot", purpose)
        if getattr(sb3_logger, "SummaryWriter", True) is None:  # tensorboard there, torch.utils.tensorboard failed
            raise MissingExtraError(
                f"'tensorboard' is not usable (torch.utils.tensorboard failed to import); it is needed for {purpose}. "
                "Install it with: pip install 'ipd-env[plot]' (or pip install -e '.[plot]' from a checkout)"
            )
    if not isinstance(progress_bar, bool):
        raise ValueError(f"progress_bar must be True or False, got {progress_bar!r}")
    if progress_bar and getattr(sb3_callbacks, "tqdm", True) is None:
        raise ImportError("progress_bar=True needs tqdm and rich (Stable-Baselines3's progress bar draws with "
                          "tqdm.rich); install them with: pip install tqdm rich")


@contextlib.contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)``, then restore; ``None`` changes nothing."""
    if check_threads(threads) is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------------------- playing
class SB3Player:
    """An SB3 policy (``ActorCriticPolicy`` or sb3-contrib's recurrent one) as a player.

    Args:
        policy: ``model.policy`` of a PPO / RecurrentPPO model trained on the one-hot
            observation ``Box(0, 1, (5,))``.
        name: shown in tables.
        deterministic: play the most likely action instead of sampling.

    ``act(observation [N] int64 index, reward [N]) -> [N] int64`` (the player protocol): the
    index is one-hot encoded here for the policy, and the player defects when ``u >= p(C |
    history)`` with ``u`` drawn from the generator of ``reset`` (so the same seed gives the
    same games).
    The recurrent policy's LSTM state ``[layers, N, hidden]`` is kept between calls and
    cleared by ``reset``. The policy is shared, not copied: a frozen copy is made by
    passing a copy of the policy.
    """

    def __init__(self, policy, name: str = "sb3", deterministic: bool = False):
        space = policy.observation_space
        if getattr(space, "shape", None) != (NUM_OBSERVATIONS,):
            raise ValueError(
                f"SB3Player needs a policy trained on the one-hot observation of shape ({NUM_OBSERVATIONS},), "
                f"got observation space {space}"
            )
        self.policy = policy
        self.name = name
        self.deterministic = deterministic
        self.recurrent = isinstance(policy, RecurrentActorCriticPolicy)
        self._generator: Optional[torch.Generator] = None
        self._lstm_states = None
        self._episode_start: Optional[torch.Tensor] = None

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        self._generator = generator
        device = self.policy.device
        if self.recurrent:
            layers, _, hidden = self.policy.lstm_hidden_state_shape
            zeros = torch.zeros(layers, num_games, hidden, device=device)
            self._lstm_states = (zeros, zeros.clone())
        self._episode_start = torch.ones(num_games, device=device)

    def cooperation_probability(self, observation: torch.Tensor) -> torch.Tensor:
        """``p(C | history)`` ``[N]``; advances the LSTM state of a recurrent policy."""
        observation = observation.to(self.policy.device, torch.float32)
        with torch.no_grad():
            if self.recurrent:
                distribution, self._lstm_states = self.policy.get_distribution(
                    observation, self._lstm_states, self._episode_start)
            else:
                distribution = self.policy.get_distribution(observation)
        self._episode_start = torch.zeros_like(self._episode_start)
        return distribution.distribution.probs[:, 0]

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if self._episode_start is None:
            raise RuntimeError(f"{self.name}: act() called before reset()")
        # The SB3 policy was trained on the Gymnasium env's one-hot observation: encode it here, at its boundary.
        one_hot = torch.nn.functional.one_hot(observation, NUM_OBSERVATIONS)
        cooperate = self.cooperation_probability(one_hot).to(observation.device)
        if self.deterministic:
            return (cooperate < 0.5).long()
        draw = torch.rand(cooperate.shape[0], generator=self._generator, device=observation.device)
        return (draw >= cooperate).long()


def evaluate_sb3(model, seed: int = 0, num_games: int = 256, self_play: bool = True, device="cpu",
                 threads: Optional[int] = 1) -> dict:
    """The A2C/PPI evaluation (:func:`baselines.evaluation.evaluate_players`) of an SB3 model.

    The model plays AllC, AllD, TFT, WSLS, Extort-2 and the pool evaluation set (its
    ``gain_fraction``) and, with ``self_play``, a second copy of
    itself (reported as the ``learner`` pairing), with ``threads`` torch threads (see the
    module docstring). Returns the evaluation dict.
    """
    learners = [SB3Player(model.policy, name="sb3")]
    if self_play:
        learners.append(SB3Player(model.policy, name="sb3 (copy)"))
    with torch_threads(threads):
        return evaluate_players(learners, [], uses_opponent_identity=False, seed=seed, num_games=num_games,
                                device=device)


# ---------------------------------------------------------------------------- parameter-shared PPO
def make_parallel_vec_env(num_envs: int = 4, payoffs="paper", max_cycles: int = 100, seed: Optional[int] = None):
    """SuperSuit vec env over ``num_envs`` copies of the PettingZoo env: ``2 * num_envs`` SB3 envs."""
    import ipd_env

    ss = supersuit
    vec_env = ss.pettingzoo_env_to_vec_env_v1(ipd_env.parallel_env(payoffs=payoffs, max_cycles=max_cycles))
    vec_env = ss.concat_vec_envs_v1(vec_env, num_envs, num_cpus=0, base_class="stable_baselines3")
    # SB3VecEnvWrapper.reset(seed=) calls the missing ConcatVecEnv.seed: seed the inner env.
    vec_env.venv.reset(seed=seed)
    return vec_env


def train_shared_ppo(total_timesteps: int, seed: int = 0, num_envs: int = 4, payoffs="paper",
                     max_cycles: int = 100, device="cpu", verbose: int = 0, threads: Optional[int] = 1,
                     tensorboard_log: Optional[str] = None, progress_bar: bool = False, **ppo_kwargs):
    """Parameter-shared PPO self-play on the PettingZoo env; returns the trained ``PPO`` model.

    ``total_timesteps`` counts agent-steps (each round is 2); ``threads``: torch CPU threads
    while training (see the module docstring). Same seed, same result on CPU.
    ``tensorboard_log``: a folder for SB3's TensorBoard scalars (``<folder>/PPO_1``, against
    agent-steps; needs the extra ``plot``); ``progress_bar``: SB3's progress bar (needs tqdm
    and rich). Both are checked before anything is built (:func:`check_logging`).
    """
    check_logging(tensorboard_log, progress_bar)
    with torch_threads(threads):
        set_random_seed(seed)
        vec_env = make_parallel_vec_env(num_envs, payoffs, max_cycles, seed=seed)
        settings = {**SHARED_PPO_DEFAULTS, **ppo_kwargs}
        model = sb3.PPO("MlpPolicy", vec_env, device=device, verbose=verbose, tensorboard_log=tensorboard_log,
                        **settings)
        model.learn(total_timesteps=total_timesteps, progress_bar=progress_bar)
    return model


# ---------------------------------------------------------------------------- recurrent PPO, pools
class MixedCoPlayer:
    """Per-episode co-player factory for the Gymnasium env: tabular or the learner's frozen copy.

    Called with the env's torch generator at every reset: with probability
    ``tabular_fraction`` a fresh uniform memory-1 agent, otherwise an :class:`SB3Player`
    on :attr:`frozen_policy` (a fresh player object each episode, so parallel envs never
    share an LSTM state). ``counts`` records how many of each were drawn.
    """

    def __init__(self, frozen_policy, tabular_fraction: float = 0.5):
        if not 0.0 <= tabular_fraction <= 1.0:
            raise ValueError(f"tabular_fraction must lie in [0, 1], got {tabular_fraction}")
        self.frozen_policy = frozen_policy
        self.tabular_fraction = tabular_fraction
        self.counts = {"tabular": 0, "frozen": 0}

    def __call__(self, generator: torch.Generator):
        if float(torch.rand(1, generator=generator)) < self.tabular_fraction:
            self.counts["tabular"] += 1
            return MemoryOnePlayer(sample_memory_one(1, generator)[0], name=UNIFORM_POOL_NAME)
        self.counts["frozen"] += 1
        return SB3Player(self.frozen_policy, name="frozen learner")


class RefreshFrozenCopy(BaseCallback):
    """Copy the learner's weights into the frozen co-player every ``every_rollouts`` rollouts."""

    def __init__(self, frozen_policy, every_rollouts: int = 5):
        super().__init__()
        if every_rollouts < 1:
            raise ValueError(f"every_rollouts must be >= 1, got {every_rollouts}")
        self.frozen_policy = frozen_policy
        self.every_rollouts = every_rollouts
        self.rollouts = 0
        self.refreshes = 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.rollouts += 1
        if self.rollouts % self.every_rollouts == 0:
            self.frozen_policy.load_state_dict(self.model.policy.state_dict())
            self.refreshes += 1


def train_recurrent_ppo(total_timesteps: int, co_player="pool", seed: int = 0, num_envs: int = 4,
                        payoffs="paper", max_cycles: int = 100, tabular_fraction: float = 0.5,
                        refresh_every_rollouts: int = 5, device="cpu", verbose: int = 0, threads: Optional[int] = 1,
                        tensorboard_log: Optional[str] = None, progress_bar: bool = False, **ppo_kwargs):
    """sb3-contrib ``RecurrentPPO`` in the Gymnasium env; returns the trained model.

    Args:
        co_player: ``"pool"`` (fresh uniform memory-1 agent per episode), a zoo name, any
            co-player the Gymnasium env accepts, or ``"mixed"`` (see :class:`MixedCoPlayer`).
        tabular_fraction, refresh_every_rollouts: the mixed pool's settings.
        threads: torch CPU threads while training (default 1, see the module docstring).
        tensorboard_log: a folder for SB3's TensorBoard scalars (``<folder>/RecurrentPPO_1``,
            against learner steps; needs the extra ``plot``), or None.
        progress_bar: SB3's progress bar over ``total_timesteps`` (needs tqdm and rich).

    ``tensorboard_log`` and ``progress_bar`` are checked before anything is built
    (:func:`check_logging`). With ``"mixed"`` the model gets attributes ``mixed_co_player`` (with its draw counts)
    and ``refresh_callback`` (with its refresh count).
    """
    import ipd_env  # noqa: F401  (registers the Gymnasium id)

    check_threads(threads)  # before building anything
    check_logging(tensorboard_log, progress_bar)
    set_random_seed(seed)
    settings = {**RECURRENT_PPO_DEFAULTS, **ppo_kwargs}
    mixed = isinstance(co_player, str) and co_player == "mixed"
    mixed_co_player = None
    if mixed:
        # The frozen copy needs the policy, which needs the env: build the env with a
        # factory whose policy is filled in right after the model exists.
        mixed_co_player = MixedCoPlayer(frozen_policy=None, tabular_fraction=tabular_fraction)
        env_co_player = mixed_co_player
    else:
        env_co_player = co_player
    def make_env():
        # In-process envs (DummyVecEnv): the mixed pool's frozen copy is refreshed in place.
        return Monitor(gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player=env_co_player, payoffs=payoffs,
                                      max_cycles=max_cycles))

    vec_env = DummyVecEnv([make_env] * num_envs)  # RecurrentPPO(seed=) seeds each env (seed + index)
    model = sb3_contrib.RecurrentPPO("MlpLstmPolicy", vec_env, seed=seed, device=device, verbose=verbose,
                                     tensorboard_log=tensorboard_log, **settings)
    callback = None
    if mixed:
        frozen_policy = copy.deepcopy(model.policy)
        frozen_policy.set_training_mode(False)
        mixed_co_player.frozen_policy = frozen_policy
        callback = RefreshFrozenCopy(frozen_policy, refresh_every_rollouts)
        model.mixed_co_player, model.refresh_callback = mixed_co_player, callback
    with torch_threads(threads):
        model.learn(total_timesteps=total_timesteps, callback=callback, progress_bar=progress_bar)
    return model


def evaluation_table(evaluation: dict, learner: int = 0) -> list[dict]:
    """``[{opponent, reward, cooperation, co_player_reward}]`` rows of one learner's evaluation."""
    rows = []
    for name, summary in evaluation["learners"][learner]["opponents"].items():
        rows.append({"opponent": name, "reward": summary["reward"], "cooperation": summary["cooperation"],
                     "co_player_reward": summary["co_player_reward"]})
    return rows


def format_evaluation_table(rows: list[dict]) -> str:
    """:func:`evaluation_table` rows as a Markdown table (what the SB3 examples print)."""
    lines = ["| co-player | reward / round | cooperation | co-player reward |", "|---|---|---|---|"]
    lines += [f"| {row['opponent']} | {row['reward']:.3f} | {row['cooperation']:.3f} | {row['co_player_reward']:.3f} |"
              for row in rows]
    return "\n".join(lines)


def policy_fingerprint(model) -> float:
    """Sum of all policy parameters: two runs with the same seed must give the same number."""
    return float(np.sum([parameter.detach().double().sum().item() for parameter in model.policy.parameters()]))
