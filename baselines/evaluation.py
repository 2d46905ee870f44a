"""Evaluation of trained players against the classics, the pool set, each other and frozen players.

Each learner plays, in ONE batched match (every row of the batch is its own game):

* the named classics AllC, AllD, TFT, WSLS and Extort-2 (``games_per_co_player`` games each);
* the run's fixed **pool evaluation set**: ``pool_size`` co-players drawn once from the
  run's pool distribution with the run's seed (:func:`baselines.incontext.evaluation_set`),
  one game each. The exact evaluator gives, per co-player, always-defect's reward and the
  oracle's (the best memory-1 reply chosen knowing the co-player), and
  :func:`baselines.incontext.gain_report` turns the learner's rewards into the
  ``gain_fraction`` (0 = plays like always-defect, 1 = as well as knowing the co-player);

then, in separate matches, the other learner (when there are two or more) and the
frozen co-players (Step 2's Fixed-ICL). With ``uses_opponent_identity`` the learner receives each
memory-1 co-player's identity vector (log pi(a|o), 10 numbers) and zeros against a learner.

For every pairing we keep the per-round curves of reward and cooperation (mean over
games, ``[num_rounds]``) and their means over the whole episode and over its last quarter
("late in the episode"). Each evaluation draws from its own ``torch.Generator``, so it
never touches a training random stream.

This is the layer below the agents: it takes plain arguments, so the SB3 bridge
(:func:`baselines.sb3.evaluate_sb3`) and the agents' run evaluation
(:mod:`agents.harness.evaluation`, which maps a run's condition to ``uses_opponent_identity`` and adds the
in-training evaluation) share it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import torch

from baselines.incontext import evaluation_set, gain_report, oracle_values
from baselines.tabular import IDENTITY_SIZE, MemoryOnePlayer, named_probabilities, opponent_log_policy
from ipd_env.game import check_flag
from ipd_env.player import play_match

#: The memory-1 classics every evaluation plays (all in one batched match with the pool set).
EVALUATION_CO_PLAYERS = ("allc", "alld", "tft", "wsls", "extort2")
#: Co-players of the pool evaluation set (one game each) by default.
DEFAULT_POOL_SIZE = 1024
#: Games per classic co-player in the final evaluation.
FINAL_GAMES_PER_CO_PLAYER = 256
#: Scalars of an opponent summary that :mod:`agents.harness.summary` aggregates over seeds.
SUMMARY_KEYS = ("reward", "cooperation", "late_reward", "late_cooperation", "co_player_reward",
                "co_player_cooperation")
#: The pool opponent's extra scalars (from :func:`baselines.incontext.gain_report`).
POOL_KEYS = ("alld_reward", "oracle_reward", "gain_fraction", "top_decile_gain_share", "top_decile_gain_fraction",
             "oracle_top_decile_gain_share")


def late_from_round(num_rounds: int) -> int:
    """First round (0-based) of the episode's last quarter."""
    return num_rounds - num_rounds // 4


def summarise_pairing(actions: torch.Tensor, rewards: torch.Tensor, late_from: int) -> dict:
    """Means and per-round curves of one pairing; ``actions``/``rewards`` are ``[2, T, games]``."""
    rewards = rewards.float().mean(dim=2)  # [2, T]
    cooperation = (actions == 0).float().mean(dim=2)
    return {
        "reward": float(rewards[0].mean()),
        "cooperation": float(cooperation[0].mean()),
        "late_reward": float(rewards[0, late_from:].mean()),
        "late_cooperation": float(cooperation[0, late_from:].mean()),
        "co_player_reward": float(rewards[1].mean()),
        "co_player_cooperation": float(cooperation[1].mean()),
        "reward_per_round": [round(value, 5) for value in rewards[0].tolist()],
        "cooperation_per_round": [round(value, 5) for value in cooperation[0].tolist()],
        "co_player_reward_per_round": [round(value, 5) for value in rewards[1].tolist()],
        "co_player_cooperation_per_round": [round(value, 5) for value in cooperation[1].tolist()],
    }


class PoolEvaluationSet:
    """The run's fixed pool co-players with their exact always-defect and oracle rewards.

    Args:
        pool: pool spec (``"uniform"``, ``"beta:A,B"``, ... see :func:`baselines.incontext.parse_pool`).
        size: number of co-players (one evaluation game each).
        seed: the run's seed; the same seed gives the same set in every run.
        payoffs, num_rounds: the run's game, for the exact evaluator.

    Attributes:
        probabilities: ``[size, 5]`` float32 cooperation probabilities (CPU).
        oracle: :func:`baselines.incontext.oracle_values` of the set (numpy ``[size]`` arrays).
    """

    def __init__(self, pool: str = "uniform", size: int = DEFAULT_POOL_SIZE, seed: int = 0, payoffs="paper",
                 num_rounds: int = 100):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"pool evaluation size must be a positive integer, got {size!r}")
        self.pool, self.size, self.seed = pool, size, seed
        self.probabilities = torch.as_tensor(evaluation_set(pool, size=size, seed=seed, payoffs=payoffs),
                                             dtype=torch.float32)
        self.oracle = oracle_values(self.probabilities.double().numpy(), payoffs, num_rounds)


def play_evaluation_match(learner, pool_co_players: Optional[torch.Tensor], games_per_co_player: int, generator,
                   num_rounds: int, payoffs, device, identity: bool) -> dict:
    """One learner against every classic and the pool co-players ``[N, 5]`` in one batched match.

    Returns ``{name: (actions [2, T, games], rewards [2, T, games])}`` for every classic and ``"pool"``.
    """
    blocks = [torch.as_tensor(named_probabilities(name, payoffs), dtype=torch.float32).expand(games_per_co_player, -1)
              for name in EVALUATION_CO_PLAYERS]
    names = list(EVALUATION_CO_PLAYERS)
    if pool_co_players is not None:
        blocks.append(pool_co_players)
        names.append("pool")
    probabilities = torch.cat(blocks)
    co_player = MemoryOnePlayer(probabilities, name="evaluation co-players")
    player_identity = opponent_log_policy(probabilities).to(device) if identity else None
    result = play_match(learner, co_player, probabilities.shape[0], generator, num_rounds, payoffs, device,
                        player_identity=player_identity)
    slices, start = {}, 0
    for name, block in zip(names, blocks):
        stop = start + block.shape[0]
        slices[name] = (result["actions"][:, :, start:stop], result["rewards"][:, :, start:stop])
        start = stop
    return slices


def summarise_pool(actions, rewards, late_from: int, pool_set: PoolEvaluationSet) -> dict:
    per_co_player_reward = rewards[0].float().mean(dim=0).double().cpu().numpy()  # [size], one game each
    report = gain_report(per_co_player_reward, pool_set.oracle)
    return {**summarise_pairing(actions, rewards, late_from),
            **{key: float(report[key]) for key in POOL_KEYS}, "num_co_players": pool_set.size}


def evaluate_players(
    learners: Sequence,
    frozen: Sequence = (),
    uses_opponent_identity: bool = False,
    seed: int = 0,
    num_games: int = FINAL_GAMES_PER_CO_PLAYER,
    num_rounds: int = 100,
    payoffs="paper",
    device="cpu",
    pool: str = "uniform",
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_set: Optional[PoolEvaluationSet] = None,
) -> dict:
    """Evaluate every learner against the classics, the pool set, the other learner and the frozen players.

    Args:
        learners: trained players (:mod:`ipd_env.player` interface).
        frozen: frozen co-players of the run (may be empty).
        uses_opponent_identity: the learners take the identity vector in ``reset`` (the
            ``opponent-id`` mode): log p(C|o) of each memory-1 co-player, zeros against a learner.
        seed: seeds the evaluation's generator (evaluation never touches training RNG)
            and the pool evaluation set.
        num_games: games against each classic and against the other learner / frozen players.
        pool, pool_size: the pool evaluation set (ignored when ``pool_set`` is given;
            ``pool_size=0`` leaves the pool out).

    Returns:
        ``{"learners": [{"opponents": {name: summary}}], "late_from_round", "num_games", "pool"}``
        where each summary has ``reward``, ``cooperation``, ``late_reward``,
        ``late_cooperation``, the co-player's ``co_player_reward`` / ``co_player_cooperation``
        and the ``*_per_round`` curves; the ``"pool"`` summary adds ``alld_reward``,
        ``oracle_reward``, ``gain_fraction``, ``top_decile_gain_share``,
        ``top_decile_gain_fraction`` and ``num_co_players``.
    """
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(10_000 + seed)
    if pool_set is None and pool_size:
        pool_set = PoolEvaluationSet(pool, pool_size, seed, payoffs, num_rounds)
    identity = check_flag(uses_opponent_identity, "uses_opponent_identity")
    late_from = late_from_round(num_rounds)
    results = []
    with torch.no_grad():
        for index, learner in enumerate(learners):
            matches = play_evaluation_match(learner, None if pool_set is None else pool_set.probabilities, num_games,
                                     generator, num_rounds, payoffs, device, identity)
            opponents = {name: summarise_pairing(*matches[name], late_from) for name in EVALUATION_CO_PLAYERS}
            if pool_set is not None:
                opponents["pool"] = summarise_pool(*matches["pool"], late_from, pool_set)
            if len(learners) > 1:
                other = learners[(index + 1) % len(learners)]
                zeros = torch.zeros(num_games, IDENTITY_SIZE, device=device) if identity else None
                result = play_match(learner, other, num_games, generator, num_rounds, payoffs, device,
                                    player_identity=zeros, co_player_identity=zeros)
                opponents["learner"] = summarise_pairing(result["actions"], result["rewards"], late_from)
            for frozen_index, player in enumerate(frozen):
                name = "frozen" if len(frozen) == 1 else f"frozen_{frozen_index}"
                result = play_match(learner, player, num_games, generator, num_rounds, payoffs, device)
                opponents[name] = summarise_pairing(result["actions"], result["rewards"], late_from)
            results.append({"opponents": opponents})
    evaluation = {"learners": results, "late_from_round": late_from, "num_games": num_games}
    if pool_set is not None:
        evaluation["pool"] = {"spec": pool_set.pool, "size": pool_set.size, "seed": pool_set.seed}
    return evaluation
