"""
# Iterated Prisoner's Dilemma

| Import             | `from ipd_env import ipd_v0` (registers `ipd_env/IPD-v0` with PettingZoo)     |
|--------------------|------------------------------------------------------------------------------|
| Creation           | `pettingzoo.make("parallel", "ipd_env/IPD-v0")` or `ipd_v0.parallel_env()`  |
| AEC creation       | `pettingzoo.make("aec", "ipd_env/IPD-v0")` or `ipd_v0.env()`                 |
| Actions            | Discrete                                                                     |
| Parallel API       | Yes (native)                                                                 |
| Manual Control     | No                                                                           |
| Agents             | `agents = ['player_0', 'player_1']`                                          |
| Number of agents   | 2                                                                            |
| Action Shape       | Discrete(2)                                                                  |
| Action Values      | 0 = cooperate (C), 1 = defect (D)                                            |
| Observation Shape  | (5,) one-hot float32; `obs_type="discrete"`: Discrete(5)                     |
| Observation Values | [0, 1]                                                                       |
| State Shape        | (5,) float32: `player_0`'s one-hot observation                               |
| Episode length     | `max_cycles` rounds (default 100), then truncation                           |

Two players meet for `max_cycles` rounds (100 by default, as in arXiv 2602.16301). Each
round both choose at once to cooperate or defect and each receives the payoff of the
joint action. The episode ends by truncation after the last round: every agent is
truncated (never terminated) and `agents` becomes empty.

### Arguments

```python
ipd_v0.parallel_env(payoffs="paper", max_cycles=100, obs_type="one_hot", render_mode=None)
ipd_v0.env(...)      # the same arguments; the AEC form (PettingZoo's order-enforcing wrapper)
ipd_v0.raw_env(...)  # the AEC form without the wrapper
```

`ipd_env.parallel_env` and `ipd_env.env` are the same functions; `pettingzoo.make` passes
its keyword arguments on to them.

`payoffs`: a preset name (`"paper"` = (R, S, T, P) = (1, -1, 2, 0), `"axelrod"` =
(3, 0, 5, 1), `"lola"` = (-1, -3, 0, -2)), four numbers (R, S, T, P), a 2x2 matrix of the
row player's payoffs, or a 2x2x2 bimatrix `table[a0][a1] = (reward of player_0, reward
of player_1)` for asymmetric games. Validated by `ipd_env.game.make_payoff_table`.

`max_cycles`: rounds per episode, a positive integer.

`obs_type`: `"one_hot"` (default) for a float32 `Box(0, 1, (5,))` one-hot vector, or
`"discrete"` for a `Discrete(5)` index (a `numpy.int64`).

`render_mode`: `None`, `"ansi"` (`render()` returns a line of text), `"human"` (the same
line is printed after every `reset` and `step`) or `"rgb_array"` (`render()` returns the
game so far as a `[height, width, 3]` uint8 image: rounds as columns, the two players as
rows, cooperate green, defect red, rounds to come grey, running totals as bars; see
`ipd_env.render`). `metadata["render_fps"]` is 10, so a 100-round game is a 10 s video.

### Action Space

`Discrete(2)` for both agents: `0` = cooperate (C), `1` = defect (D). Python and numpy
integers are accepted; another integer raises a `ValueError` and anything else (a float,
a bool, a string) a `TypeError`, each naming the agent and the value, e.g.
`ValueError: action for 'player_1' must be 0 (cooperate) or 1 (defect), got 2`.
An actions dict with an agent missing or unknown raises a `ValueError` listing both; a
step after the last round raises a `RuntimeError` that says to call `reset()`. In the AEC
form each action is checked at its own agent's step (a bad `player_0` action raises at
once, not at `player_1`'s step), and a refused action changes nothing.

### Observation Space

First-person: each player sees the previous round with its *own* action first. The index
is `0` before the first round and `1 + 2 * own + other` afterwards:

| Index | Meaning               | Own action | Other's action |
|-------|-----------------------|------------|----------------|
| 0     | START (no round yet)  | -          | -              |
| 1     | CC                    | C          | C              |
| 2     | CD (I was exploited)  | C          | D              |
| 3     | DC (I exploited)      | D          | C              |
| 4     | DD                    | D          | D              |

With the default `obs_type="one_hot"` the observation is the row of the 5x5 identity at
that index. A memory-1 policy is a 5-vector indexed by this observation.

### Rewards

Per round, first-person, as floats. The default game (the paper's Table 1):

|        | other C | other D |
|--------|---------|---------|
| me C   | 1       | -1      |
| me D   | 2       | 0       |

Mutual cooperation pays 1.0 per round, mutual defection 0.0. Presets, as (R, S, T, P) =
(mutual cooperation, sucker, temptation, mutual defection):

| preset (aliases)              | R  | S  | T | P  | source                                  |
|-------------------------------|----|----|---|----|-----------------------------------------|
| `paper` (`default`, `table1`) | 1  | -1 | 2 | 0  | arXiv 2602.16301, Table 1 (the default) |
| `axelrod`                     | 3  | 0  | 5 | 1  | Axelrod's tournaments                   |
| `lola` (`pax`)                | -1 | -3 | 0 | -2 | LOLA (Foerster et al. 2018)             |

Any finite game can be passed: four numbers `(R, S, T, P)`, the row player's 2x2 matrix,
or a 2x2x2 bimatrix `table[a0][a1] = (reward of player_0, reward of player_1)` for
asymmetric games. NaN, inf, a wrong shape or an unknown name raise a `ValueError` that
names the value.

### Starting State and Episode End

`reset()` returns the START observation (index 0) for both agents. After `max_cycles`
rounds every agent is truncated (`truncations` all True, `terminations` always False) and
`agents` becomes empty; the next call must be `reset()`.

### Infos

`{"round": k}` for every agent, where `k` is the number of rounds played (0 after reset).

### Seeding

The game has no randomness. `reset(seed=s)` seeds the agents' action and observation
spaces (`s` for `player_0`, `s + 1` for `player_1`) so that `action_space(agent).sample()`
is reproducible. `s` is None or a Python or numpy integer in [0, 2**63 - 1]; anything else
(`True`, `1.5`, `"abc"`, `-1`) raises a `TypeError` or `ValueError` naming `seed`, and
leaves the episode as it was.

### Version History

A change that alters what the game returns for the same actions gets a new versioned
module (`ipd_v1`), so results stay reproducible; additions that leave the game unchanged
(a new argument with the old default, a new render mode) keep `v0`.

* v0: Initial release (ipd-env 0.1.0).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec_wrapper
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from ipd_env.game import (  # OBS_TYPES, RENDER_MODES and the check_* names are re-exported here
    AGENTS,
    DEFAULT_NUM_ROUNDS,
    NUM_ACTIONS,
    NUM_OBSERVATIONS,
    OBS_TYPES,  # noqa: F401  (re-exported: ipd_env.ipd.OBS_TYPES names the observation types beside the env)
    PLAIN_INTEGER_TYPES,
    RENDER_MODES,
    START,
    GameRecord,
    PayoffSpec,
    check_action,
    check_num_rounds,
    check_obs_type,
    check_render_mode,
    check_seed,
    make_payoff_table,
    one_hot_rows,
)
from ipd_env.render import render_frame


class IPDParallelEnv(ParallelEnv):
    """The Iterated Prisoner's Dilemma as a PettingZoo ``ParallelEnv`` (see the module docstring).

    Args:
        payoffs: any spec accepted by :func:`ipd_env.game.make_payoff_table`.
        max_cycles: rounds per episode.
        obs_type: ``"one_hot"`` (``Box(0, 1, (5,))`` float32) or ``"discrete"`` (``Discrete(5)``).
        render_mode: ``None``, ``"ansi"``, ``"human"`` or ``"rgb_array"``.
    """

    metadata = {"name": "ipd_v0", "render_modes": list(RENDER_MODES), "is_parallelizable": True, "render_fps": 10}

    def __init__(
        self,
        payoffs: PayoffSpec = "paper",
        max_cycles: int = DEFAULT_NUM_ROUNDS,
        obs_type: str = "one_hot",
        render_mode: Optional[str] = None,
    ):
        self.payoff_table = make_payoff_table(payoffs)  # [2, 2, 2]: table[a0, a1, player]
        self.max_cycles = max_cycles
        self.obs_type = check_obs_type(obs_type)
        self.render_mode = check_render_mode(render_mode)
        self.possible_agents = list(AGENTS)
        self.agents: list[str] = []

        one_hot = obs_type == "one_hot"
        if one_hot:
            def observation_space():
                return spaces.Box(0.0, 1.0, (NUM_OBSERVATIONS,), dtype=np.float32)

            self._observation_values = one_hot_rows()
        else:
            def observation_space():
                return spaces.Discrete(NUM_OBSERVATIONS)

            self._observation_values = [np.int64(index) for index in range(NUM_OBSERVATIONS)]
        # One-hot arrays are mutable: every step hands out copies; np.int64 scalars are not.
        self._copy_observations = one_hot
        self.observation_spaces = {agent: observation_space() for agent in AGENTS}
        self.action_spaces = {agent: spaces.Discrete(NUM_ACTIONS) for agent in AGENTS}
        self.state_space = spaces.Box(0.0, 1.0, (NUM_OBSERVATIONS,), dtype=np.float32)

        # The rounds since reset; every joint action is kept only for the rgb_array picture.
        self._game = GameRecord(self.payoff_table, keep_history=render_mode == "rgb_array")
        self._has_reset = False

    # ------------------------------------------------------------------ spaces
    @property
    def max_cycles(self) -> int:
        """Rounds per episode; settable (PettingZoo's ``parallel_api_test`` sets it)."""
        return self._num_rounds

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self._num_rounds = check_num_rounds(value)

    def observation_space(self, agent: str) -> gymnasium.Space:
        """The (cached) observation space of ``agent``: the same object on every call."""
        try:
            return self.observation_spaces[agent]
        except KeyError:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}") from None

    def action_space(self, agent: str) -> gymnasium.Space:
        """The (cached) ``Discrete(2)`` action space of ``agent``: the same object on every call."""
        try:
            return self.action_spaces[agent]
        except KeyError:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}") from None

    # ------------------------------------------------------------------ API
    def reset(self, seed: Optional[int] = None, options: Optional[dict] = None):
        """Start a new episode.

        Args:
            seed: seeds the action and observation spaces (``seed + agent index``); the
                game itself is deterministic.
            options: accepted for API compatibility, unused.

        Returns:
            ``(observations, infos)``: START observations and ``{"round": 0}`` per agent.
        """
        seed = check_seed(seed)
        if seed is not None:
            for index, agent in enumerate(AGENTS):
                self.action_spaces[agent].seed(seed + index)
                self.observation_spaces[agent].seed(seed + index)
        self.agents = list(self.possible_agents)
        self._game.start()
        self._has_reset = True
        start = self._observation_values[START]
        if self._copy_observations:
            observations = {AGENTS[0]: start.copy(), AGENTS[1]: start.copy()}
        else:
            observations = {AGENTS[0]: start, AGENTS[1]: start}
        infos = {AGENTS[0]: {"round": 0}, AGENTS[1]: {"round": 0}}
        if self.render_mode == "human":
            self.render()
        return observations, infos

    def step(self, actions: dict[str, Any]):
        """Play one round.

        Args:
            actions: ``{"player_0": a0, "player_1": a1}``, each 0 (cooperate) or 1 (defect)
                as a Python or numpy integer.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``, dicts keyed by
            agent. Truncations turn True (Python bools) after round ``max_cycles``;
            terminations are always False.

        Raises:
            RuntimeError: before the first ``reset()`` or after the episode ended.
            ValueError: a missing or unknown agent, or an action other than 0 or 1.
            TypeError: an action that is not an integer, or ``actions`` not a dict.
        """
        if not self.agents:
            self._raise_not_running()
        try:
            action_0 = actions["player_0"]
            action_1 = actions["player_1"]
            if len(actions) != 2:
                raise KeyError
        except (KeyError, TypeError, IndexError):
            self._raise_bad_action_dict(actions)
        if not (action_0.__class__ in PLAIN_INTEGER_TYPES and (action_0 == 0 or action_0 == 1)):
            action_0 = check_action("player_0", action_0)
        if not (action_1.__class__ in PLAIN_INTEGER_TYPES and (action_1 == 0 or action_1 == 1)):
            action_1 = check_action("player_1", action_1)

        game = self._game
        outcome = game.play(action_0, action_1)
        round_number = game.round
        truncated = round_number >= self._num_rounds
        values = self._observation_values
        if self._copy_observations:
            observations = {"player_0": values[outcome[1]].copy(), "player_1": values[outcome[2]].copy()}
        else:
            observations = {"player_0": values[outcome[1]], "player_1": values[outcome[2]]}
        rewards = {"player_0": outcome[3], "player_1": outcome[4]}
        terminations = {"player_0": False, "player_1": False}
        truncations = {"player_0": truncated, "player_1": truncated}
        infos = {"player_0": {"round": round_number}, "player_1": {"round": round_number}}
        if truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _raise_not_running(self):
        if not self._has_reset:
            raise RuntimeError("step() called before reset(); call reset() to start an episode")
        raise RuntimeError(
            f"step() called after the episode ended (all {self._game.round} rounds played, max_cycles="
            f"{self._num_rounds}); call reset() to start a new episode"
        )

    def _raise_bad_action_dict(self, actions):
        if not isinstance(actions, dict):
            raise TypeError(
                f"actions must be a dict {{'player_0': 0 or 1, 'player_1': 0 or 1}}, got {type(actions).__name__}: "
                f"{actions!r}"
            )
        missing = [agent for agent in AGENTS if agent not in actions]
        unknown = [agent for agent in actions if agent not in AGENTS]
        raise ValueError(
            f"actions must name exactly the agents {list(AGENTS)}; missing {missing}, unknown {unknown} "
            f"in {actions!r}"
        )

    # ------------------------------------------------------------------ views
    def state(self) -> np.ndarray:
        """Global state ``[5]`` float32: ``player_0``'s one-hot view (it fixes the joint outcome)."""
        last_outcome = self._game.last_outcome
        index = START if last_outcome is None else last_outcome[1]
        state = np.zeros(NUM_OBSERVATIONS, dtype=np.float32)
        state[index] = 1.0
        return state

    def total_rewards(self) -> tuple[float, float]:
        """Each player's summed reward since the last reset."""
        return self._game.totals()

    def render(self) -> Union[str, np.ndarray, None]:
        """One line: round, both actions, this round's rewards and the running totals.

        ``"ansi"`` returns it, ``"human"`` prints it, ``"rgb_array"`` returns the picture of
        the game so far instead (``[height, width, 3]`` uint8, see :mod:`ipd_env.render`),
        ``None`` warns and returns None.
        """
        return render_frame(self.render_mode, self._game, self.payoff_table, self._num_rounds, AGENTS)

    def close(self) -> None:
        """Nothing to release (no window, no subprocess)."""


#: PettingZoo's conventional name for the parallel constructor.
parallel_env = IPDParallelEnv


class _CheckedParallelToAEC(parallel_to_aec_wrapper):
    """PettingZoo's ``parallel_to_aec_wrapper`` that checks each action at the step that gives it.

    The plain wrapper only stores ``player_0``'s action and hands both to the parallel env
    at ``player_1``'s step, so a bad ``player_0`` action would surface one step late,
    blamed on nobody in particular and leaving the round half played. Here it raises at
    once and the env is unchanged, so a corrected action can follow.
    """

    def step(self, action) -> None:
        agent = getattr(self, "agent_selection", None)  # None before the first reset: the wrapper says so
        live = agent is not None and not (self.terminations[agent] or self.truncations[agent])
        if live and not (action.__class__ in PLAIN_INTEGER_TYPES and (action == 0 or action == 1)):
            check_action(agent, action)
        super().step(action)


def raw_env(**kwargs) -> AECEnv:
    """The AEC env without PettingZoo's order wrapper; arguments as :class:`IPDParallelEnv`.

    Within a round ``player_0`` acts first, then ``player_1``; the round is played when
    both have acted, so neither sees the other's choice before making its own. Each
    action is checked at its own step (a bad ``player_0`` action raises at ``player_0``'s
    step, and the env stays as it was).
    """
    return _CheckedParallelToAEC(IPDParallelEnv(**kwargs))


def env(**kwargs) -> AECEnv:
    """The AEC env, wrapped in PettingZoo's ``OrderEnforcingWrapper``; arguments as :class:`IPDParallelEnv`.

    Actions are validated by the parallel env itself (clear errors naming the agent),
    so the out-of-bounds and illegal-move wrappers would add nothing.
    """
    return OrderEnforcingWrapper(raw_env(**kwargs))
