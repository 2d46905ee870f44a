"""RLlib baseline: multi-agent PPO on the PettingZoo IPD env (extra ``[rllib]``, RLlib's new API stack).

The PettingZoo parallel env enters RLlib through its own wrapper
``ray.rllib.env.wrappers.pettingzoo_env.ParallelPettingZooEnv``, registered as
:data:`ENV_NAME` by :func:`register_ipd_env`. The observation is the default one-hot
``Box(0, 1, (5,))`` (RLlib's default modules do not take ``Discrete`` observations).

Two set-ups, both two policies:

* ``co_player=None``: two independently learned PPO policies, ``player_0`` and
  ``player_1`` (one per agent, no parameter sharing);
* ``co_player="allc"`` (any memory-1 zoo name or 5 probabilities): ``player_0`` is the
  learned PPO policy ``learner``; ``player_1`` is the fixed policy ``co_player``, an
  :class:`MemoryOneRLModule` that RLlib never trains (``policies_to_train=["learner"]``).

::

    import ray
    from baselines.rllib import ppo_config, train
    ray.init(num_cpus=2)
    algorithm = ppo_config(co_player="allc", max_cycles=10, seed=0).build_algo()
    history = train(algorithm, iterations=5)   # [{"iteration", "returns": {module: mean}}]
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

from baselines.optional import import_optional

ray = import_optional("ray", "rllib", "the RLlib baseline (baselines.rllib)")
import_optional("ray.rllib", "rllib", "the RLlib baseline (baselines.rllib)")

from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.rllib.core.columns import Columns  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.rllib.core.rl_module.rl_module import RLModule, RLModuleSpec  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv  # noqa: E402  (after import_optional, which names the extra when it is missing)
from ray.tune.registry import register_env  # noqa: E402  (after import_optional, which names the extra when it is missing)

#: The name the env is registered under in RLlib's (Tune's) registry.
ENV_NAME = "ipd_env_parallel"
LEARNED_MODULE = "learner"
FIXED_MODULE = "co_player"


def make_rllib_env(env_config: Optional[dict] = None) -> ParallelPettingZooEnv:
    """``ParallelPettingZooEnv`` around ``ipd_env.parallel_env(**env_config)`` (payoffs, max_cycles, ...)."""
    import ipd_env

    return ParallelPettingZooEnv(ipd_env.parallel_env(**dict(env_config or {})))


def register_ipd_env() -> str:
    """Register :data:`ENV_NAME` with RLlib; returns the name."""
    register_env(ENV_NAME, make_rllib_env)
    return ENV_NAME


class MemoryOneRLModule(RLModule):
    """A fixed memory-1 policy as an RLlib module (never trained).

    ``model_config``: ``{"cooperation_probabilities": [start, CC, CD, DC, DD], "seed": int}``.
    Reads the one-hot observation ``[B, 5]`` and defects when ``u >= p(C | o)``, ``u`` from
    a numpy generator seeded by ``seed``.
    """

    def setup(self):
        from ipd_env.game import check_probabilities

        config = self.model_config or {}
        if "cooperation_probabilities" not in config:
            raise ValueError("MemoryOneRLModule needs model_config['cooperation_probabilities'] (5 numbers)")
        probabilities = check_probabilities(config["cooperation_probabilities"])
        if probabilities.shape != (5,):
            raise ValueError(f"cooperation_probabilities must be 5 numbers, got shape {probabilities.shape}")
        self.cooperation_probabilities = probabilities
        self._random = np.random.default_rng(int(config.get("seed", 0)))

    def _forward_inference(self, batch, **kwargs):
        observation = np.asarray(batch[Columns.OBS])
        cooperate = self.cooperation_probabilities[observation.argmax(axis=-1)]
        draw = self._random.random(cooperate.shape[0])
        return {Columns.ACTIONS: (draw >= cooperate).astype(np.int64)}

    def _forward_exploration(self, batch, **kwargs):
        return self._forward_inference(batch, **kwargs)

    def _forward_train(self, batch, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__} is a fixed co-player and is never trained; list it outside policies_to_train")


def _co_player_probabilities(co_player, payoffs) -> list:
    from baselines.tabular import named_probabilities

    if isinstance(co_player, str):
        return [float(value) for value in named_probabilities(co_player, payoffs)]
    return [float(value) for value in np.asarray(co_player, dtype=np.float64).reshape(-1)]


def ppo_config(
    co_player: Union[None, str, Sequence[float]] = None,
    payoffs="paper",
    max_cycles: int = 100,
    seed: int = 0,
    train_batch_size: int = 400,
    minibatch_size: int = 100,
    num_epochs: int = 4,
    learning_rate: float = 3e-3,
    entropy_coeff: float = 0.01,
    hidden_sizes: Sequence[int] = (32,),
    num_env_runners: int = 0,
) -> PPOConfig:
    """A multi-agent ``PPOConfig`` with two policies on the IPD (see the module docstring).

    Args:
        co_player: ``None`` for two learned policies, or a memory-1 zoo name / 5
            probabilities for a fixed ``player_1``.
        payoffs, max_cycles: passed to ``ipd_env.parallel_env``.
        train_batch_size: agent-steps per learner update; a multiple of ``max_cycles``
            keeps whole episodes in a batch.
        num_env_runners: 0 = sample in the driver process (tests, laptops).
    """
    if co_player is not None:
        probabilities = _co_player_probabilities(co_player, payoffs)  # raises for unknown names
    register_ipd_env()
    model_config = DefaultModelConfig(fcnet_hiddens=list(hidden_sizes), vf_share_layers=False)
    if co_player is None:
        policies = {"player_0", "player_1"}
        specs = {name: RLModuleSpec(model_config=model_config) for name in policies}
        trained = sorted(policies)

        def mapping(agent_id, *args, **kwargs):
            return agent_id
    else:
        policies = {LEARNED_MODULE, FIXED_MODULE}
        specs = {
            LEARNED_MODULE: RLModuleSpec(model_config=model_config),
            FIXED_MODULE: RLModuleSpec(module_class=MemoryOneRLModule,
                                       model_config={"cooperation_probabilities": probabilities, "seed": seed}),
        }
        trained = [LEARNED_MODULE]

        def mapping(agent_id, *args, **kwargs):
            return LEARNED_MODULE if agent_id == "player_0" else FIXED_MODULE
    return (
        PPOConfig()
        .environment(ENV_NAME, env_config={"payoffs": payoffs, "max_cycles": max_cycles})
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .multi_agent(policies=policies, policy_mapping_fn=mapping, policies_to_train=trained)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs))
        .training(train_batch_size_per_learner=train_batch_size, minibatch_size=minibatch_size,
                  num_epochs=num_epochs, lr=learning_rate, entropy_coeff=entropy_coeff, gamma=0.99)
        .debugging(seed=seed)
        .reporting(metrics_num_episodes_for_smoothing=max(1, train_batch_size // max_cycles))
    )


def module_returns(result: dict) -> dict:
    """``{module: mean episode return}`` of one ``algorithm.train()`` result."""
    runner = result.get("env_runners", {})
    returns = runner.get("module_episode_returns_mean", {})
    return {name: float(value) for name, value in returns.items()}


def train(algorithm, iterations: int, verbose: bool = False) -> list[dict]:
    """Run ``iterations`` training iterations; returns ``[{"iteration": i, "returns": {...}}]``.

    Raises:
        FloatingPointError: a module's mean return is NaN or infinite.
    """
    history = []
    for iteration in range(iterations):
        returns = module_returns(algorithm.train())
        for name, value in returns.items():
            if not math.isfinite(value):
                raise FloatingPointError(f"iteration {iteration}: mean episode return of {name!r} is {value}")
        history.append({"iteration": iteration, "returns": returns})
        if verbose:
            shown = ", ".join(f"{name} {value:.2f}" for name, value in sorted(returns.items()))
            print(f"iteration {iteration}: mean episode return per module: {shown}")
    return history
