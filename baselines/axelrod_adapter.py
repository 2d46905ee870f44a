"""Axelrod interoperation, both ways (extra ``[axelrod]``).

* :class:`AxelrodCoPlayer`: any ``axelrod.Player`` as a co-player in our envs, through the
  player interface of :mod:`ipd_env.player` (so in the batched env, the PettingZoo env via
  ``play_episodes``-style loops, and as the Gymnasium env's co-player). Each of the
  ``num_games`` games gets its own clone of the strategy, fed the moves read off the
  first-person observation.
* :class:`IPDStrategy`: any of *our* players (a zoo member, a trained A2C/PPI/SB3 agent) as
  an ``axelrod.Player``, so it enters ``axelrod.Match``, ``axelrod.Tournament`` and
  ``axelrod.MoranProcess``.
* :func:`axelrod_strategy`: an Axelrod strategy class by its name (``"Tit For Tat"``,
  ``"TitForTat"``, ``"tit-for-tat"`` all work), with a clear error for unknown names.

Actions map as Axelrod's own enum values: ``C`` = 0 = cooperate, ``D`` = 1 = defect.
Randomness: :class:`AxelrodCoPlayer` seeds each clone from the ``torch.Generator`` given to
``reset``; :class:`IPDStrategy` seeds the wrapped player's generator from the seed Axelrod
gives the player for the match, so seeded Axelrod matches and tournaments repeat exactly.
"""
from __future__ import annotations

import copy
import difflib
from typing import Optional

import numpy as np
import torch

from baselines.optional import import_optional
from ipd_env.game import (
    MAX_SEED,
    START,
    PayoffSpec,
    first_person_outcome,
    first_person_payoffs,
    make_payoff_table,
    symmetric_payoffs,
)

axl = import_optional("axelrod", "axelrod", "the Axelrod adapters (baselines.axelrod_adapter)")

C, D = axl.Action.C, axl.Action.D
# Strategies that read or rewrite their opponent's code or state cannot play through an
# observation interface: there is no opponent object for them to inspect.
CHEATING_CLASSIFIERS = ("inspects_source", "manipulates_source", "manipulates_state")


def _normalise(name: str) -> str:
    return "".join(character for character in name.lower() if character.isalnum())


def axelrod_strategy(name: str):
    """The ``axelrod.Player`` subclass called ``name`` (its ``name`` or class name, any case/spacing).

    Raises:
        ValueError: unknown name; the message lists the closest known names.
    """
    table = {}
    for strategy in axl.all_strategies:
        table.setdefault(_normalise(strategy.name), strategy)
        table.setdefault(_normalise(strategy.__name__), strategy)
    key = _normalise(name)
    if key in table:
        return table[key]
    known = sorted({strategy.name for strategy in axl.all_strategies})
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise ValueError(
        f"unknown Axelrod strategy {name!r}{hint}. Known: {len(known)} strategies, e.g. "
        f"{', '.join(strategy.name for strategy in axl.basic_strategies)} (see axelrod.all_strategies)"
    )


def axelrod_game(payoffs: PayoffSpec = "paper"):
    """``axelrod.Game`` of a symmetric payoff spec (raises for asymmetric games)."""
    reward, sucker, temptation, punishment = symmetric_payoffs(payoffs)
    return axl.Game(r=reward, s=sucker, t=temptation, p=punishment)


def _as_strategy_instance(strategy) -> axl.Player:
    if isinstance(strategy, str):
        strategy = axelrod_strategy(strategy)
    if isinstance(strategy, type) and issubclass(strategy, axl.Player):
        strategy = strategy()
    if not isinstance(strategy, axl.Player):
        raise TypeError(
            f"expected an axelrod.Player (instance, class or strategy name), "
            f"got {type(strategy).__name__}: {strategy!r}"
        )
    cheats = [key for key in CHEATING_CLASSIFIERS if strategy.classifier.get(key)]
    if cheats:
        raise ValueError(
            f"Axelrod strategy {strategy.name!r} is classified {', '.join(cheats)}: it reads or alters its "
            "opponent's code/state, which an observation-based co-player cannot offer; choose another strategy"
        )
    return strategy


class _ObservedOpponent(axl.Player):
    """The other side of an Axelrod strategy playing in our env: a history, nothing else."""

    name = "ipd-env opponent"

    def strategy(self, opponent):
        raise RuntimeError("the opponent of an AxelrodCoPlayer has no strategy of its own; it is played by the env")


class AxelrodCoPlayer:
    """An ``axelrod.Player`` playing ``num_games`` games through our player interface.

    Args:
        strategy: an ``axelrod.Player`` instance, subclass, or strategy name.
        payoffs: the game the strategy is told it plays (some strategies use it).
        match_length: the number of rounds the strategy is told (Axelrod's default is to
            tell it, as in its tournaments); ``-1`` = unknown length.

    ``act(observation [N] int64 index, reward [N]) -> [N] int64``: the observation is the strategy's
    own first-person view (``1 + 2 * own + other``), from which both moves of the last
    round are read and appended to the histories before the strategy chooses.
    """

    def __init__(self, strategy, payoffs: PayoffSpec = "paper", match_length: int = 100):
        self.template = _as_strategy_instance(strategy)
        self.name = self.template.name
        self.game = axelrod_game(payoffs)
        self.match_length = match_length
        self.memory_depth = self.template.classifier.get("memory_depth", float("inf"))
        self._strategies: list = []
        self._opponents: list = []

    def __repr__(self) -> str:
        return f"AxelrodCoPlayer({self.name!r})"

    def reset(self, num_games: int, generator: Optional[torch.Generator] = None,
              opponent_identity: Optional[torch.Tensor] = None) -> None:
        device = generator.device if generator is not None else "cpu"
        seeds = torch.randint(0, 2**31 - 1, (num_games,), generator=generator, device=device).tolist()
        self._strategies, self._opponents = [], []
        for seed in seeds:
            strategy = self.template.clone()
            strategy.set_match_attributes(length=self.match_length, game=self.game, noise=0)
            strategy.set_seed(int(seed))
            opponent = _ObservedOpponent()
            opponent.set_match_attributes(length=self.match_length, game=self.game, noise=0)
            self._strategies.append(strategy)
            self._opponents.append(opponent)

    def act(self, observation: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
        if observation.shape != (len(self._strategies),):
            raise ValueError(
                f"{self.name}: expected observation indices of shape [{len(self._strategies)}] "
                f"(num_games from reset), got {tuple(observation.shape)}"
            )
        indices = observation.tolist()
        actions = []
        for index, strategy, opponent in zip(indices, self._strategies, self._opponents):
            if index != START:
                own, other = divmod(index - 1, 2)
                strategy.update_history(axl.Action(own), axl.Action(other))
                opponent.update_history(axl.Action(other), axl.Action(own))
            actions.append(strategy.strategy(opponent).value)
        return torch.tensor(actions, dtype=torch.int64, device=observation.device)


def _is_deterministic(player) -> bool:
    probabilities = getattr(player, "cooperation_probabilities", None)
    if probabilities is not None:
        values = torch.as_tensor(probabilities)
        return bool(((values == 0) | (values == 1)).all())
    return getattr(player, "memory_depth", None) == float("inf") and type(player).__name__ == "GrimTrigger"


class IPDStrategy(axl.Player):
    """One of our players (zoo member or trained agent) as an ``axelrod.Player``.

    Args:
        player: anything with the player interface (``reset``/``act``); it is deep-copied
            per match, so clones in a tournament never share history.
        name: the name in Axelrod's tables (default: the player's ``name`` attribute).
        reward_payoffs: the payoffs that make the reward the player observes each round;
            ``None`` = the match's game. A learner trained on the paper's game should
            usually see the paper's rewards (``"paper"``) whatever the tournament scores.
        stochastic: Axelrod's classifier; default: deterministic only for memory-1 policies
            with all probabilities 0 or 1 and for Grim.
    """

    # Axelrod reads a strategy's name from its class too (strategy_transformers name the
    # transformed class after it); each instance then takes its player's name.
    name = "ipd-env player"
    classifier = {
        "memory_depth": float("inf"),
        "stochastic": True,
        "long_run_time": False,
        "inspects_source": False,
        "manipulates_source": False,
        "manipulates_state": False,
    }

    def __init__(self, player, name: Optional[str] = None, reward_payoffs: Optional[PayoffSpec] = None,
                 stochastic: Optional[bool] = None):
        super().__init__()
        if not (hasattr(player, "reset") and hasattr(player, "act")):
            raise TypeError(f"IPDStrategy needs a player with reset() and act(), got {type(player).__name__}")
        self._player = copy.deepcopy(player)
        self.name = name or getattr(player, "name", None) or type(player).__name__
        self._reward_payoffs = reward_payoffs
        self.classifier["stochastic"] = (not _is_deterministic(player)) if stochastic is None else bool(stochastic)
        self.classifier["memory_depth"] = getattr(player, "memory_depth", float("inf"))
        self._own_reward: Optional[np.ndarray] = None  # [own action, other's action]

    def __repr__(self) -> str:
        return self.name

    def _reward_table(self) -> np.ndarray:
        if self._own_reward is None:
            if self._reward_payoffs is None:
                rpst = self.match_attributes["game"].RPST()
                reward, punishment, sucker, temptation = (float(value) for value in rpst)
                table = make_payoff_table((reward, sucker, temptation, punishment))
            else:
                table = make_payoff_table(self._reward_payoffs)
            self._own_reward = first_person_payoffs(table)[0]
        return self._own_reward

    def strategy(self, opponent) -> axl.Action:
        if len(self.history) == 0:
            generator = torch.Generator()
            seed = self._random.random_seed_int() if hasattr(self, "_random") else torch.seed()
            generator.manual_seed(int(seed) % MAX_SEED)
            self._player.reset(1, generator=generator)
            index, reward = START, 0.0
        else:
            own, other = self.history[-1].value, opponent.history[-1].value
            index = first_person_outcome(own, other)
            reward = float(self._reward_table()[own, other])
        observation = torch.tensor([index], dtype=torch.int64)
        action = int(self._player.act(observation, torch.tensor([reward], dtype=torch.float32))[0])
        if action not in (0, 1):
            raise ValueError(f"{self.name} returned action {action}; must be 0 (cooperate) or 1 (defect)")
        return axl.Action(action)


def zoo_strategies(names=("allc", "alld", "tft", "wsls", "extort2"), payoffs: PayoffSpec = "paper") -> list:
    """Our named zoo members as ``axelrod.Player`` instances (``IPDStrategy``), named ``ipd:<name>``."""
    from baselines.tabular import canonical_name, make_player

    return [IPDStrategy(make_player(name, payoffs), name=f"ipd:{canonical_name(name)}") for name in names]


def classic_tournament_strategies() -> list:
    """Axelrod's classic strategies: the first tournament's entrants plus its basic strategies."""
    seen, players = set(), []
    for strategy in list(axl.axelrod_first_strategies) + list(axl.basic_strategies):
        if strategy.name not in seen:
            seen.add(strategy.name)
            players.append(strategy())
    return players


def ranked_table(results) -> list[dict]:
    """Rows of an ``axelrod.ResultSet``, best first: rank, name, median per-turn score, cooperation, wins."""
    rows = []
    summary = {row.Name: row for row in results.summarise()}
    for rank, index in enumerate(results.ranking, start=1):
        name = results.ranked_names[rank - 1]
        row = summary[name]
        rows.append({
            "rank": rank,
            "name": name,
            "median_score_per_turn": float(row.Median_score),
            "cooperation_rating": float(row.Cooperation_rating),
            "wins": float(row.Wins),
        })
    return rows


def format_ranked_table(rows: list[dict]) -> str:
    """Plain-text table of :func:`ranked_table` rows."""
    width = max([len(row["name"]) for row in rows] + [4])
    lines = [f"{'rank':>4}  {'name':<{width}}  {'score/turn':>10}  {'coop':>5}  {'wins':>5}"]
    for row in rows:
        lines.append(
            f"{row['rank']:>4}  {row['name']:<{width}}  {row['median_score_per_turn']:>10.3f}  "
            f"{row['cooperation_rating']:>5.2f}  {row['wins']:>5.1f}"
        )
    return "\n".join(lines)
