"""Native Gymnasium vector env: ``num_envs`` learners, each against its own memory-1 co-player.

``gymnasium.make_vec("ipd_env/IPDvsCoPlayer-v0", num_envs=N)`` builds this class (the
registered ``vector_entry_point``); it plays exactly the game of
:class:`ipd_env.single_agent.IPDvsCoPlayerEnv`, batched in numpy, for the co-players that
are memory-1 (the pool, the zoo except grim, probability vectors). For any other co-player
use ``vectorization_mode="sync"``, which steps ``N`` single envs.
"""
from __future__ import annotations

from typing import Optional

import gymnasium
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ipd_env.game import (
    DEFAULT_NUM_ROUNDS,
    MAX_SEED,
    NUM_ACTIONS,
    NUM_OBSERVATIONS,
    START,
    PayoffSpec,
    check_count,
    check_flag,
    check_num_rounds,
    check_obs_type,
    check_render_mode,
    check_seed,
    first_person_outcome,
    make_payoff_table,
    rewards_by_observation,
)
from ipd_env.memory_one import opponent_id, sample_memory_one
from ipd_env.single_agent import learner_observation_space, resolve_co_player


class IPDvsCoPlayerVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~ipd_env.single_agent.IPDvsCoPlayerEnv` stepped as arrays.

    Args:
        num_envs: learners (N), each against its own co-player.
        co_player: ``"pool"`` (a fresh uniform memory-1 policy per env and episode), a
            memory-1 zoo name (e.g. ``"tft"``, resolved as in the single env), a
            :class:`~ipd_env.memory_one.MemoryOnePlayer`,
            or cooperation probabilities ``[5]`` (all envs) or ``[N, 5]`` (one row per env).
        payoffs, max_cycles, obs_type, opponent_id: as the single env.
        render_mode: only ``None``; there is no batched rendering.

    Observations, rewards and flags are arrays with a leading ``[N]`` axis. All episodes
    start and end together, and the env resets itself on the step after the last round
    (Gymnasium's next-step autoreset: that step ignores the actions and returns the START
    observations with reward 0). Infos carry ``"co_player_action"`` ``[N]`` int64 and
    ``"co_player_reward"`` ``[N]`` float32 with their ``"_"``-prefixed masks.

    Random streams: ``reset(seed=s)`` fixes every episode of this env, but with
    ``co_player="pool"`` they are not the episodes of ``SyncVectorEnv`` at the same seed
    (``vectorization_mode="sync"``, where env ``i`` has its own generator seeded ``s + i``).
    Here one generator draws all ``N`` co-players at once and all ``N`` co-player moves
    with one call per round; following ``N`` separate streams would cost ``N`` calls per
    round, the very cost this env exists to remove. The game and its distributions are
    the same (tested), and against deterministic co-players (``"tft"``, ``"alld"``, ...)
    the episodes are identical.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        co_player="pool",
        payoffs: PayoffSpec = "paper",
        max_cycles: int = DEFAULT_NUM_ROUNDS,
        obs_type: str = "one_hot",
        opponent_id: bool = False,
        render_mode: Optional[str] = None,
    ):
        num_envs = check_count(num_envs, "num_envs")
        if check_render_mode(render_mode) is not None:
            raise ValueError(f"IPDvsCoPlayerVectorEnv does not render; render_mode must be None, got {render_mode!r}")
        opponent_id = check_flag(opponent_id, "opponent_id")
        self.num_envs = num_envs
        self.render_mode = None
        self.payoff_table = make_payoff_table(payoffs)
        self.max_cycles = check_num_rounds(max_cycles)
        self.obs_type = check_obs_type(obs_type)
        self.opponent_id = opponent_id
        self._fixed_probabilities = self._fixed_co_player_probabilities(co_player, payoffs, num_envs)

        self.single_action_space = gymnasium.spaces.Discrete(NUM_ACTIONS)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.single_observation_space = learner_observation_space(self.obs_type, self.opponent_id)
        self.observation_space = batch_space(self.single_observation_space, num_envs)

        # Rewards by the learner's observation 1 + 2 * a_learner + a_co_player (index 0, START, unused),
        # so that a step looks them up with the observation it computes anyway.
        self._learner_reward, self._co_player_reward = rewards_by_observation(self.payoff_table).astype(np.float32)
        self._one_hot = np.eye(NUM_OBSERVATIONS, dtype=np.float32)
        self._rows = np.arange(num_envs)
        self._torch_generator = torch.Generator()
        self._round = 0
        self._has_reset = False
        self._probabilities = np.zeros((num_envs, NUM_OBSERVATIONS))
        self._identity = np.zeros((num_envs, NUM_OBSERVATIONS), dtype=np.float32)
        self._observation_index = np.zeros(num_envs, dtype=np.int64)
        self._co_player_observation_index = np.zeros(num_envs, dtype=np.int64)

    @staticmethod
    def _fixed_co_player_probabilities(co_player, payoffs, num_envs) -> Optional[np.ndarray]:
        """``[N, 5]`` fixed cooperation probabilities, or None for the per-episode pool."""
        kind, value = resolve_co_player(co_player, payoffs, memory_one_only=True)
        if kind == "pool":
            return None
        if kind == "player":  # a MemoryOnePlayer
            value = value.cooperation_probabilities.numpy().astype(np.float64)
        probabilities = np.asarray(value, dtype=np.float64)
        if probabilities.shape == (NUM_OBSERVATIONS,):
            probabilities = np.broadcast_to(probabilities, (num_envs, NUM_OBSERVATIONS))
        if probabilities.shape != (num_envs, NUM_OBSERVATIONS):
            raise ValueError(
                f"co-player probabilities must have shape [5] or [num_envs={num_envs}, 5], got {probabilities.shape}"
            )
        return np.ascontiguousarray(probabilities)

    def _observations(self):
        index = self._observation_index
        if self.obs_type == "one_hot":
            one_hot = self._one_hot[index]
            return np.concatenate([one_hot, self._identity], axis=1) if self.opponent_id else one_hot
        if self.opponent_id:
            return {"observation": index.copy(), "opponent_id": self._identity.copy()}
        return index.copy()

    def _start_episodes(self) -> None:
        if self._fixed_probabilities is None:
            self._torch_generator.manual_seed(int(self.np_random.integers(MAX_SEED)))
            drawn = sample_memory_one(self.num_envs, self._torch_generator)
            self._probabilities = drawn.numpy().astype(np.float64)
            self._identity = opponent_id(drawn).numpy()
        else:
            self._probabilities = self._fixed_probabilities
            self._identity = opponent_id(torch.tensor(self._probabilities, dtype=torch.float32)).numpy()
        self._round = 0
        self._observation_index.fill(START)
        self._co_player_observation_index.fill(START)

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        """Start new episodes in every env; returns ``(observations [N, ...], infos)``."""
        super().reset(seed=check_seed(seed))
        self._start_episodes()
        self._has_reset = True
        return self._observations(), {}

    def step(self, actions):
        """Play one round in every env; ``actions`` ``[N]`` integers 0 (cooperate) or 1 (defect)."""
        if not self._has_reset:
            raise RuntimeError("step() called before reset(); call reset() to start the episodes")
        actions = self._check_actions(actions)  # also on the autoreset step, which ignores them: never silent
        if self._round >= self.max_cycles:  # next-step autoreset after the last round
            self._start_episodes()
            zeros = np.zeros(self.num_envs, dtype=bool)
            return self._observations(), np.zeros(self.num_envs, dtype=np.float32), zeros, zeros.copy(), {}
        cooperate = self._probabilities[self._rows, self._co_player_observation_index]
        co_player_actions = (self.np_random.random(self.num_envs) >= cooperate).astype(np.int64)
        observation_index = first_person_outcome(actions, co_player_actions)
        self._observation_index = observation_index
        self._co_player_observation_index = first_person_outcome(co_player_actions, actions)
        self._round += 1
        done = np.full(self.num_envs, self._round >= self.max_cycles)
        mask = np.ones(self.num_envs, dtype=bool)
        infos = {
            "co_player_action": co_player_actions,
            "_co_player_action": mask,
            "co_player_reward": self._co_player_reward[observation_index],
            "_co_player_reward": mask.copy(),
        }
        return (
            self._observations(),
            self._learner_reward[observation_index],
            np.zeros(self.num_envs, dtype=bool),
            done,
            infos,
        )

    def _check_actions(self, actions) -> np.ndarray:
        array = np.asarray(actions)
        if array.shape != (self.num_envs,) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"actions must be {self.num_envs} integers 0 (cooperate) or 1 (defect), shape [{self.num_envs}]; "
                f"got shape {array.shape} dtype {array.dtype}"
            )
        bad = (array < 0) | (array > 1)
        if bad.any():
            env_index = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"action for env {env_index} must be 0 (cooperate) or 1 (defect), got {array[env_index]}"
            )
        return array.astype(np.int64, copy=False)
