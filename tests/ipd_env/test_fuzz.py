"""Hostile inputs to every form of the env: each bad call is a clear error, and nothing is corrupted.

Two parts:

* A table of bad constructor arguments and of the inputs issue 11 found silent or unclear
  (payoffs as strings, booleans or 1e308, ``seed=True``, an integer dtype, ...): each
  must raise ``ValueError`` or ``TypeError`` whose message names the argument.
* Hypothesis-driven call sequences (``derandomize=True``: the same examples on every run)
  against the parallel, AEC, Gymnasium, Gymnasium-vector and batched torch envs, mixing
  valid steps and resets with bad actions and bad seeds. A *shadow* (the game's rules
  written out in plain Python) predicts every valid step; every bad call must raise a
  clear error and change nothing, which is checked by replaying only the valid calls in a
  fresh env with the same seeds and comparing every output.

``TALLY`` counts bad inputs tried, clear errors, silent acceptances and unclear errors;
``pytest -s`` prints it at the end of the module (target: 0 silent, 0 unclear).
"""
from __future__ import annotations

import copy
import math
from collections import Counter

import gymnasium
import numpy as np
import pytest
import torch

import ipd_env
from baselines.tabular import make_player
from ipd_env.game import make_payoff_table
from ipd_env.single_agent import IPDvsCoPlayerEnv
from ipd_env.single_agent_vector import IPDvsCoPlayerVectorEnv
from ipd_env.vector import IPDVectorEnv

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (after importorskip, which skips the module without its extra)
from hypothesis import strategies as st  # noqa: E402  (after importorskip, which skips the module without its extra)

TALLY: Counter = Counter()
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PAYOFFS = ("paper", "axelrod", (3.0, -0.5, 4.25, 0.5))


@pytest.fixture(scope="module", autouse=True)
def print_tally():
    yield
    print(f"\nfuzz tally: {dict(TALLY)}")


def expect_clear(call, names):
    """Run a call that must be refused: ValueError/TypeError whose message names one of ``names``."""
    TALLY["bad inputs tried"] += 1
    try:
        call()
    except (ValueError, TypeError) as error:
        if any(name in str(error) for name in names):
            TALLY["clear"] += 1
            return error
        TALLY["unclear"] += 1
        raise AssertionError(f"unclear {type(error).__name__} (should name one of {names}): {error}") from error
    except Exception as error:  # any other kind is the finding
        TALLY["unclear"] += 1
        raise AssertionError(f"{type(error).__name__} instead of ValueError/TypeError: {error}") from error
    TALLY["silent"] += 1
    raise AssertionError(f"silently accepted; expected an error naming one of {names}")


# ---------------------------------------------------------------------------- the bad-input table
BAD_PAYOFFS = [None, True, "nope", 5, ["1", "-1", "2", "0"], [True, False, True, False], np.array([True] * 4),
               [1.0, 2.0, 3.0], [[1, 2], [3]], [math.nan, 0, 0, 0], [math.inf, 0, 0, 0], [1e308, 0, 0, 0],
               {"R": 1}, object(), np.array(["a"] * 4)]
BAD_ROUNDS = [0, -1, 1.5, True, "10", None, np.float64(3)]
BAD_SEEDS = ["abc", -1, 1.5, True, np.bool_(True), [1], 2**64, np.float64(2)]


def gym_vector(**kwargs):
    return IPDvsCoPlayerVectorEnv(kwargs.pop("num_envs", 2), **kwargs)


def torch_vector(**kwargs):
    return IPDVectorEnv(kwargs.pop("num_games", 2), **kwargs)


CONSTRUCTORS = {
    "parallel": (ipd_env.parallel_env, "max_cycles"),
    "aec": (ipd_env.env, "max_cycles"),
    "gymnasium": (IPDvsCoPlayerEnv, "max_cycles"),
    "gymnasium-vector": (gym_vector, "max_cycles"),
    "torch-vector": (torch_vector, "num_rounds"),
}
BAD_ARGUMENTS = []  # (env, keyword, value, names the message may use)
for env_name, (_, rounds_keyword) in CONSTRUCTORS.items():
    BAD_ARGUMENTS += [(env_name, "payoffs", value, ("payoff",)) for value in BAD_PAYOFFS]
    BAD_ARGUMENTS += [(env_name, rounds_keyword, value, ("max_cycles", "rounds")) for value in BAD_ROUNDS]
    if env_name != "torch-vector":
        BAD_ARGUMENTS += [(env_name, "obs_type", value, ("obs_type",)) for value in ("onehot", None, 1)]
        BAD_ARGUMENTS += [(env_name, "render_mode", value, ("render_mode",)) for value in ("rgb", 1, ["human"])]
BAD_ARGUMENTS += [("gymnasium-vector", "render_mode", "ansi", ("render_mode",))]  # the vector env does not render
for env_name in ("gymnasium", "gymnasium-vector"):
    BAD_ARGUMENTS += [(env_name, "opponent_id", value, ("opponent_id",)) for value in ("yes", 1, None)]
    BAD_ARGUMENTS += [(env_name, "co_player", value, ("co_player", "co-player")) for value in
                      ("nobody", 42, None, True, [0.5] * 4, [2, 0, 0, 0, 0], [math.nan] * 5, ["a"] * 5,
                       [True] * 5)]
BAD_ARGUMENTS += [("gymnasium-vector", "num_envs", value, ("num_envs",)) for value in (0, -1, 1.5, True, "4", None)]
BAD_ARGUMENTS += [("torch-vector", "num_games", value, ("num_games",)) for value in (0, -1, 1.5, True, "4", None)]
BAD_ARGUMENTS += [("torch-vector", "dtype", value, ("dtype",)) for value in (torch.int64, torch.bool, "float32",
                                                                            np.float32)]
BAD_ARGUMENTS += [("torch-vector", "device", value, ("device",)) for value in ("tpu", 5)]
BAD_ARGUMENTS += [("torch-vector", "validate_actions", value, ("validate_actions",)) for value in ("yes", None)]


def case_id(env_name, keyword, value) -> str:
    """A test id that is the same in every process (pytest-xdist): no memory addresses."""
    text = repr(value) if " at 0x" not in repr(value) else f"<{type(value).__name__}>"
    return f"{env_name}-{keyword}={text}"[:60]


@pytest.mark.parametrize("env_name, keyword, value, names", BAD_ARGUMENTS,
                         ids=[case_id(*case[:3]) for case in BAD_ARGUMENTS])
def test_bad_constructor_argument_is_a_clear_error(env_name, keyword, value, names):
    make, _ = CONSTRUCTORS[env_name]
    # Errors may come from the constructor or, for lazily drawn co-players, the first reset.
    expect_clear(lambda: make(**{keyword: value}).reset(seed=0), names)


def test_fractional_payoffs_in_an_integer_dtype_and_overflowing_float16_are_refused():
    expect_clear(lambda: IPDVectorEnv(2, payoffs=(1.5, -1, 2, 0), dtype=torch.int64), ("dtype",))
    expect_clear(lambda: IPDVectorEnv(2, payoffs=(1e6, -1, 2, 0), dtype=torch.float16), ("dtype",))
    # The same payoffs in float32, and a float16 game that fits, are fine.
    assert IPDVectorEnv(2, payoffs=(1e6, -1, 2, 0)).reset()["player_0"].dtype == torch.float32
    assert IPDVectorEnv(2, payoffs=(1.5, -1, 2, 0), dtype=torch.float16).dtype == torch.float16


def test_largest_accepted_payoffs_keep_totals_finite():
    table = make_payoff_table((1e24, -1e24, 1e24, 0))
    env = IPDVectorEnv(3, payoffs=table, num_rounds=4)
    env.reset()
    total = torch.zeros(2, 3)
    for _ in range(4):
        total += env.step_indices(torch.zeros(2, 3, dtype=torch.int64))[1]
    assert torch.isfinite(total).all() and float(total[0, 0]) == pytest.approx(4e24, rel=1e-6)


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
@pytest.mark.parametrize("env_name", list(CONSTRUCTORS))
def test_bad_seed_is_a_clear_error(env_name, seed):
    make, _ = CONSTRUCTORS[env_name]
    expect_clear(lambda: make().reset(seed=seed), ("seed",))


@pytest.mark.parametrize("env_name", list(CONSTRUCTORS))
def test_numpy_integers_are_accepted_where_python_ints_are(env_name):
    make, rounds_keyword = CONSTRUCTORS[env_name]
    size = {"gymnasium-vector": {"num_envs": np.int64(3)}, "torch-vector": {"num_games": np.int64(3)}}
    env = make(**{rounds_keyword: np.int32(4)}, **size.get(env_name, {}))
    env.reset(seed=np.int64(7))
    if env_name == "gymnasium":  # seeds np_random exactly as the Python int would
        reference = make(**{rounds_keyword: 4})
        reference.reset(seed=7)
        assert env.np_random.random() == reference.np_random.random()


def test_gymnasium_co_player_returning_a_fractional_action_is_refused():
    class Fractional:
        name = "fractional"

        def reset(self, num_games, generator=None):
            pass

        def act(self, observation, reward):
            return torch.tensor([0.7])  # int() would silently make it cooperate

    env = IPDvsCoPlayerEnv(co_player=Fractional())
    env.reset(seed=0)
    expect_clear(lambda: env.step(0), ("fractional",))


def test_step_indices_accepts_lists_and_arrays_and_returns_fresh_tensors():
    env = IPDVectorEnv(2, num_rounds=3)
    env.reset()
    first, _ = env.step_indices([[0, 1], [1, 1]])  # player_0: C, D; player_1: D, D
    kept = first.clone()
    second, rewards = env.step_indices(np.array([[1, 0], [0, 0]]))  # game 0: D against C; game 1: C, C
    assert torch.equal(first, kept), "an observation kept from step 1 changed at step 2"
    assert first.tolist() == [[2, 4], [3, 4]] and second.tolist() == [[3, 1], [2, 1]]
    assert rewards.tolist() == [[2.0, 1.0], [-1.0, 1.0]]  # the paper's game: T = 2, S = -1, R = 1
    expect_clear(lambda: env.step_indices("CD"), ("actions",))
    expect_clear(lambda: env.step({"player_0": torch.tensor([0, 1]), "player_1": torch.tensor([0])}),
                 ("player_1",))


def test_aec_bad_player_0_action_raises_at_its_own_step_and_changes_nothing():
    env = ipd_env.env(max_cycles=2)
    env.reset(seed=0)
    expect_clear(lambda: env.step(2), ("player_0",))
    assert env.agent_selection == "player_0"  # nothing stored; player_0 acts again
    env.step(1)
    expect_clear(lambda: env.step(0.0), ("player_1",))
    env.step(0)
    assert env.rewards == {"player_0": 2.0, "player_1": -1.0}  # D against C in the paper's game


def test_stateful_co_player_object_is_copied_per_sub_env():
    """Issue 10: one GrimTrigger passed to make_vec used to be shared: provoked in one game, it defected in all."""
    grim = make_player("grim")
    envs = gymnasium.make_vec("ipd_env/IPDvsCoPlayer-v0", num_envs=2, vectorization_mode="sync", co_player=grim,
                              max_cycles=4)
    envs.reset(seed=0)
    co_player_actions = []
    for actions in ([1, 0], [0, 0], [0, 0]):  # the learner of env 0 defects once; env 1 always cooperates
        _, _, _, _, infos = envs.step(np.array(actions))
        co_player_actions.append(infos["co_player_action"].tolist())
    assert co_player_actions == [[0, 0], [1, 0], [1, 0]]  # grim of env 0 punishes forever, env 1's never
    single = IPDvsCoPlayerEnv(co_player=grim)
    assert single._co_player_spec[1] is not grim  # the caller's object is never stepped


# ---------------------------------------------------------------------------- the shadow
class Shadow:
    """The IPD written out in plain Python: what every valid call must return."""

    def __init__(self, payoffs, rounds: int):
        self.table = make_payoff_table(payoffs)
        self.rounds = rounds
        self.round = None  # None: never reset

    def reset(self):
        self.round = 0

    @property
    def running(self) -> bool:
        return self.round is not None and self.round < self.rounds

    def step(self, a0: int, a1: int):
        self.round += 1
        return (1 + 2 * a0 + a1, 1 + 2 * a1 + a0, float(self.table[a0, a1, 0]), float(self.table[a0, a1, 1]),
                self.round >= self.rounds)


# Bad actions for one agent: the finding is silent acceptance or an error that does not name the agent.
BAD_ACTIONS = [2, -1, 0.5, 1.0, True, False, "C", "0", None, [0], np.array([0]), np.float32(0), np.int64(5),
               np.bool_(False), torch.tensor(1), b"\x00", complex(1, 0)]
ACTION_FORMS = (int, np.int64, np.int8, np.uint8, lambda value: np.array(value))  # all valid
valid_action = st.tuples(st.integers(0, 1), st.sampled_from(ACTION_FORMS)).map(lambda pair: pair[1](pair[0]))
bad_action = st.sampled_from(BAD_ACTIONS)
valid_seed = st.one_of(st.none(), st.integers(0, 2**32), st.integers(0, 100).map(np.int64))
# The Gymnasium envs' co-players are random: an unseeded reset could not be replayed.
seeded = st.one_of(st.integers(0, 2**32), st.integers(0, 100).map(np.int64))
bad_seed = st.sampled_from(BAD_SEEDS)


def parallel_operations():
    bad_dict = st.one_of(
        st.tuples(bad_action, valid_action).map(lambda pair: ({"player_0": pair[0], "player_1": pair[1]},
                                                               ("player_0",))),
        st.tuples(valid_action, bad_action).map(lambda pair: ({"player_0": pair[0], "player_1": pair[1]},
                                                               ("player_1",))),
        st.sampled_from([({"player_0": 0}, ("actions",)), ({"player_0": 0, "player_1": 1, "player_2": 0}, ("actions",)),
                         ([0, 1], ("actions",)), (None, ("actions",)), ("CD", ("actions",)),
                         ({0: 0, 1: 1}, ("actions",))]),
    )
    return st.lists(st.one_of(
        st.tuples(st.just("step"), valid_action, valid_action),
        st.tuples(st.just("step"), valid_action, valid_action),
        st.tuples(st.just("bad step"), bad_dict),
        st.tuples(st.just("reset"), valid_seed),
        st.tuples(st.just("bad reset"), bad_seed),
    ), max_size=24)


def index_of(observation) -> int:
    """The observation index of a one-hot ``[5]`` or discrete observation."""
    return int(observation) if np.ndim(observation) == 0 else int(np.argmax(observation))


def run_parallel(env, shadow, operations, check_bad: bool):
    """Apply ``operations``; returns the outputs of the valid ones (for the replay comparison)."""
    outputs = []
    for operation in operations:
        kind = operation[0]
        if kind == "reset":
            observations, infos = env.reset(seed=operation[1])
            shadow.reset()
            samples = None  # unseeded spaces sample at random
            if operation[1] is not None:
                samples = tuple(int(env.action_space(agent).sample()) for agent in env.possible_agents)
            outputs.append(("reset", tuple(np.asarray(observations[a]).tolist() for a in env.possible_agents), samples))
        elif kind == "step" and not shadow.running:
            with pytest.raises(RuntimeError, match="reset"):
                env.step({"player_0": operation[1], "player_1": operation[2]})
        elif kind == "step":
            observations, rewards, terminations, truncations, _ = env.step({"player_0": operation[1],
                                                                            "player_1": operation[2]})
            index_0, index_1, reward_0, reward_1, done = shadow.step(int(operation[1]), int(operation[2]))
            assert [index_of(observations["player_0"]), index_of(observations["player_1"])] == [index_0, index_1]
            assert (rewards["player_0"], rewards["player_1"]) == (reward_0, reward_1)
            assert truncations == {"player_0": done, "player_1": done} and not any(terminations.values())
            outputs.append(("step", index_0, index_1, reward_0, reward_1, done))
        elif check_bad and kind == "bad step" and shadow.running:
            actions, names = operation[1]
            expect_clear(lambda: env.step(actions), names)
        elif check_bad and kind == "bad reset":
            expect_clear(lambda: env.reset(seed=operation[1]), ("seed",))
    return outputs


@FUZZ
@given(payoffs=st.sampled_from(PAYOFFS), rounds=st.integers(1, 5), obs_type=st.sampled_from(("one_hot", "discrete")),
       operations=parallel_operations())
def test_fuzz_parallel_env(payoffs, rounds, obs_type, operations):
    env = ipd_env.parallel_env(payoffs=payoffs, max_cycles=rounds, obs_type=obs_type)
    outputs = run_parallel(env, Shadow(payoffs, rounds), operations, check_bad=True)
    fresh = ipd_env.parallel_env(payoffs=payoffs, max_cycles=rounds, obs_type=obs_type)
    valid = [operation for operation in operations if operation[0] in ("step", "reset")]
    assert run_parallel(fresh, Shadow(payoffs, rounds), valid, check_bad=False) == outputs


def aec_operations():
    return st.lists(st.one_of(
        st.tuples(st.just("step"), valid_action),
        st.tuples(st.just("step"), valid_action),
        st.tuples(st.just("step"), valid_action),
        st.tuples(st.just("bad step"), bad_action),
        st.tuples(st.just("reset"), valid_seed),
        st.tuples(st.just("bad reset"), bad_seed),
    ), max_size=30)


def run_aec(env, shadow, operations, check_bad: bool):
    outputs, pending = [], None
    for operation in operations:
        kind = operation[0]
        if kind == "reset":
            env.reset(seed=operation[1])
            shadow.reset()
            pending = None
            outputs.append(("reset", None if operation[1] is None else int(env.action_space("player_1").sample())))
        elif kind == "step" and not shadow.running:
            if shadow.round is None or not env.agents:
                continue  # before the first reset, or after both dead steps: nothing to step
            agent = env.agent_selection
            assert env.truncations[agent]
            env.step(None)  # the dead step every AEC agent takes after truncation
            outputs.append(("dead step", agent))
        elif kind == "step":
            agent = env.agent_selection
            env.step(operation[1])
            if agent == "player_0":
                pending = int(operation[1])
                continue
            index_0, index_1, reward_0, reward_1, done = shadow.step(pending, int(operation[1]))
            assert env.rewards == {"player_0": reward_0, "player_1": reward_1}
            assert int(np.argmax(env.observe("player_0"))) == index_0
            assert int(np.argmax(env.observe("player_1"))) == index_1
            assert env.truncations == {"player_0": done, "player_1": done}
            outputs.append(("round", index_0, index_1, reward_0, reward_1, done))
        elif check_bad and kind == "bad step" and shadow.running:
            agent = env.agent_selection
            expect_clear(lambda: env.step(operation[1]), (agent,))
            assert env.agent_selection == agent
        elif check_bad and kind == "bad reset":
            expect_clear(lambda: env.reset(seed=operation[1]), ("seed",))
    return outputs


@FUZZ
@given(payoffs=st.sampled_from(PAYOFFS), rounds=st.integers(1, 4), operations=aec_operations())
def test_fuzz_aec_env(payoffs, rounds, operations):
    outputs = run_aec(ipd_env.env(payoffs=payoffs, max_cycles=rounds), Shadow(payoffs, rounds), operations, True)
    valid = [operation for operation in operations if operation[0] in ("step", "reset")]
    assert run_aec(ipd_env.env(payoffs=payoffs, max_cycles=rounds), Shadow(payoffs, rounds), valid, False) == outputs


def gymnasium_operations():
    return st.lists(st.one_of(
        st.tuples(st.just("step"), valid_action),
        st.tuples(st.just("step"), valid_action),
        st.tuples(st.just("bad step"), bad_action),
        st.tuples(st.just("reset"), seeded),
        st.tuples(st.just("bad reset"), bad_seed),
    ), max_size=24)


def run_gymnasium(env, shadow, operations, check_bad: bool):
    """The co-player is random, so the shadow checks each step against the co-player action in ``info``."""
    outputs = []
    for operation in operations:
        kind = operation[0]
        if kind == "reset":
            observation, info = env.reset(seed=operation[1])
            shadow.reset()
            probabilities = tuple(info.get("co_player_probabilities", ()))
            outputs.append(("reset", int(observation), info["co_player"], probabilities))
        elif kind == "step" and not shadow.running:
            with pytest.raises(RuntimeError, match="reset"):
                env.step(operation[1])
        elif kind == "step":
            observation, reward, terminated, truncated, info = env.step(operation[1])
            index_0, _, reward_0, reward_1, done = shadow.step(int(operation[1]), info["co_player_action"])
            assert (int(observation), reward, info["co_player_reward"]) == (index_0, reward_0, reward_1)
            assert truncated == done and not terminated
            outputs.append(("step", index_0, reward_0, done))
        elif check_bad and kind == "bad step" and shadow.running:
            expect_clear(lambda: env.step(operation[1]), ("player_0",))
        elif check_bad and kind == "bad reset":
            expect_clear(lambda: env.reset(seed=operation[1]), ("seed",))
    return outputs


@FUZZ
@given(payoffs=st.sampled_from(PAYOFFS), rounds=st.integers(1, 5),
       co_player=st.sampled_from(("pool", "gtft", "random", "grim")), operations=gymnasium_operations())
def test_fuzz_gymnasium_env(payoffs, rounds, co_player, operations):
    """Bad calls must not consume the env's randomness either: the replay would then differ."""
    def make():
        return IPDvsCoPlayerEnv(co_player=co_player, payoffs=payoffs, max_cycles=rounds, obs_type="discrete")

    outputs = run_gymnasium(make(), Shadow(payoffs, rounds), operations, True)
    valid = [operation for operation in operations if operation[0] in ("step", "reset")]
    assert run_gymnasium(make(), Shadow(payoffs, rounds), valid, False) == outputs


BAD_BATCHES = [  # (actions for a batch of 2 games, names the error may use)
    ([[0, 1], [1]], ("actions",)), ([[0, 2], [1, 1]], ("actions", "player_0")), ([[0, 1], [-1, 1]], ("player_1",)),
    ([[0.0, 1.0], [1.0, 1.0]], ("actions",)), ([[True, False], [True, True]], ("actions",)), ("CD", ("actions",)),
    ([0, 1], ("actions",)), ([[0, 1, 0], [1, 1, 0]], ("actions",)), (None, ("actions",)),
    (np.array([[0, 1], [1, 1]], dtype=object), ("actions",)),
]


def torch_vector_operations():
    return st.lists(st.one_of(
        st.tuples(st.just("step"), st.lists(st.integers(0, 1), min_size=4, max_size=4),
                  st.sampled_from(("tensor", "list", "numpy", "dict"))),
        st.tuples(st.just("step"), st.lists(st.integers(0, 1), min_size=4, max_size=4), st.just("tensor")),
        st.tuples(st.just("bad step"), st.sampled_from(BAD_BATCHES), st.sampled_from(("indices", "step"))),
        st.tuples(st.just("reset"), valid_seed),
        st.tuples(st.just("bad reset"), bad_seed),
    ), max_size=20)


def run_torch_vector(env, shadow, operations, check_bad: bool):
    outputs, kept = [], []
    for operation in operations:
        kind = operation[0]
        if kind == "reset":
            observations = env.reset(seed=operation[1])
            shadow.reset()
            outputs.append(("reset", observations["player_0"].argmax(dim=1).tolist()))
        elif kind == "step" and not shadow.running:
            with pytest.raises(RuntimeError, match="reset"):
                env.step_indices(torch.zeros(2, 2, dtype=torch.int64))
        elif kind == "step":
            flat, form = operation[1], operation[2]
            joint = [flat[:2], flat[2:]]
            if form == "dict":
                _, rewards, _, truncations, _ = env.step({"player_0": joint[0], "player_1": joint[1]})
                index = env.observation_index
                rewards = torch.stack([rewards["player_0"], rewards["player_1"]])
            else:
                given = {"tensor": torch.tensor(joint), "list": joint, "numpy": np.array(joint)}[form]
                index, rewards = env.step_indices(given)
            expected = [shadow_step for shadow_step in (Shadow.step(copy.copy(shadow), joint[0][g], joint[1][g])
                                                        for g in range(2))]
            shadow.round += 1
            assert index.tolist() == [[e[0] for e in expected], [e[1] for e in expected]]
            assert rewards.tolist() == [[e[2] for e in expected], [e[3] for e in expected]]
            kept.append((index, index.tolist()))
            outputs.append(("step", index.tolist(), rewards.tolist(), env.done))
        elif check_bad and kind == "bad step" and shadow.running:
            (actions, names), method = operation[1], operation[2]
            if method == "step" and isinstance(actions, list) and len(actions) == 2:
                expect_clear(lambda: env.step({"player_0": actions[0], "player_1": actions[1]}),
                             names + ("player_0", "player_1"))
            else:
                expect_clear(lambda: env.step_indices(actions), names)
        elif check_bad and kind == "bad reset":
            expect_clear(lambda: env.reset(seed=operation[1]), ("seed",))
    for tensor, values in kept:  # observations handed out are never changed by later steps
        assert tensor.tolist() == values
    return outputs


@FUZZ
@given(payoffs=st.sampled_from(PAYOFFS), rounds=st.integers(1, 5), operations=torch_vector_operations())
def test_fuzz_torch_vector_env(payoffs, rounds, operations):
    outputs = run_torch_vector(IPDVectorEnv(2, payoffs=payoffs, num_rounds=rounds), Shadow(payoffs, rounds),
                               operations, True)
    valid = [operation for operation in operations if operation[0] in ("step", "reset")]
    fresh = IPDVectorEnv(2, payoffs=payoffs, num_rounds=rounds)
    assert run_torch_vector(fresh, Shadow(payoffs, rounds), valid, False) == outputs


BAD_VECTOR_ACTIONS = [[0, 2, 0], [0, 1], [0.0, 1.0, 0.0], [True, False, True], "CDC", None, [[0, 1, 0]],
                      np.array([0, 1, 0], dtype=object), [0, -1, 1]]


def gymnasium_vector_operations():
    return st.lists(st.one_of(
        st.tuples(st.just("step"), st.lists(st.integers(0, 1), min_size=3, max_size=3)),
        st.tuples(st.just("step"), st.lists(st.integers(0, 1), min_size=3, max_size=3)),
        st.tuples(st.just("bad step"), st.sampled_from(BAD_VECTOR_ACTIONS)),
        st.tuples(st.just("reset"), seeded),
        st.tuples(st.just("bad reset"), bad_seed),
    ), max_size=20)


def run_gymnasium_vector(env, shadow, operations, check_bad: bool):
    """Three learners against GTFT; after the last round the next step autoresets (Gymnasium's next-step mode)."""
    outputs = []
    for operation in operations:
        kind = operation[0]
        if kind == "reset":
            observations, _ = env.reset(seed=operation[1])
            shadow.reset()
            outputs.append(("reset", observations.tolist()))
        elif kind == "step" and shadow.round is None:
            with pytest.raises(RuntimeError, match="reset"):
                env.step(np.array(operation[1]))
        elif kind == "step":
            actions = np.array(operation[1])
            observations, rewards, terminations, truncations, infos = env.step(actions)
            if not shadow.running:  # the autoreset step: START, reward 0, actions ignored
                shadow.reset()
                assert observations.tolist() == [0, 0, 0] and rewards.tolist() == [0.0, 0.0, 0.0]
                outputs.append(("autoreset",))
                continue
            expected = [Shadow.step(copy.copy(shadow), int(actions[g]), int(infos["co_player_action"][g]))
                        for g in range(3)]
            shadow.round += 1
            assert observations.tolist() == [e[0] for e in expected]
            assert rewards.tolist() == pytest.approx([e[2] for e in expected])
            assert truncations.tolist() == [shadow.round >= shadow.rounds] * 3 and not terminations.any()
            outputs.append(("step", observations.tolist(), infos["co_player_action"].tolist()))
        elif check_bad and kind == "bad step" and shadow.round is not None:  # the autoreset step checks them too
            expect_clear(lambda: env.step(operation[1]), ("actions", "action for env"))
        elif check_bad and kind == "bad reset":
            expect_clear(lambda: env.reset(seed=operation[1]), ("seed",))
    return outputs


@FUZZ
@given(payoffs=st.sampled_from(PAYOFFS), rounds=st.integers(1, 4), operations=gymnasium_vector_operations())
def test_fuzz_gymnasium_vector_env(payoffs, rounds, operations):
    def make():
        return IPDvsCoPlayerVectorEnv(3, co_player="random", payoffs=payoffs, max_cycles=rounds, obs_type="discrete")

    outputs = run_gymnasium_vector(make(), Shadow(payoffs, rounds), operations, True)
    valid = [operation for operation in operations if operation[0] in ("step", "reset")]
    assert run_gymnasium_vector(make(), Shadow(payoffs, rounds), valid, False) == outputs
