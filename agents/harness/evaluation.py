"""Evaluation of a run's learners: at the end of a run (``eval.json``) and during training.

The games and their summaries are :mod:`baselines.evaluation`'s (each learner against AllC,
AllD, TFT, WSLS, Extort-2 and the run's pool evaluation set in one batched match, then the
other learner and the frozen co-players; per-round curves and whole/late-episode means);
this module adds what depends on the run: the condition decides whether the learners get
identity vectors (the ``opponent-id`` mode), and the in-training evaluation and its files.

* :func:`evaluate_learners` is the final evaluation (``eval.json``);
* :class:`InTrainingEvaluator` is what the runner calls every ``eval_every`` units: fewer
  games per classic (32), the same pool set shared by the learners (each co-player played
  once per evaluation), and flat ``eval/<opponent>/<quantity>`` scalars plus the per-round
  cooperation against TFT (the heatmap of ``plots/in_training.png``);
* :func:`evaluate_against` is ``ipd-coop evaluate``'s: any player against named co-players.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import numpy as np
import torch

from agents.pool import IDENTITY_MODES
from baselines.evaluation import (  # noqa: F401  (re-exported: the runner, summary and tests read them here)
    DEFAULT_POOL_SIZE,
    EVALUATION_CO_PLAYERS,
    FINAL_GAMES_PER_CO_PLAYER,
    POOL_KEYS,
    SUMMARY_KEYS,
    PoolEvaluationSet,
    evaluate_players,
    late_from_round,
    play_evaluation_match,
    summarise_pairing,
)
from baselines.incontext import gain_report
from baselines.tabular import IDENTITY_SIZE
from ipd_env.game import first_person_outcome
from ipd_env.player import play_episodes, play_match

#: Games per classic co-player during training.
IN_TRAINING_GAMES_PER_CO_PLAYER = 32
#: In-training evaluation files of a run folder: the scalars (one row per evaluation, keyed by
#: ``units_done``, the number of training units done, 1-based as in plots and TensorBoard) and
#: the per-round cooperation against TFT of every evaluation (the heatmap's data).
EVAL_METRICS_FILE = "eval_metrics.csv"
EVAL_CURVES_FILE = "eval_curves.json"
#: What the in-training evaluation logs per opponent, and for the pool.
IN_TRAINING_KEYS = ("late_reward", "late_cooperation")
IN_TRAINING_POOL_KEYS = ("reward", "cooperation", "alld_reward", "oracle_reward", "gain_fraction")
#: Classics whose per-round cooperation every in-training evaluation records (``<name>_cooperation_per_round``):
#: TFT (does the learner answer reciprocity?), AllD (does it probe a defector, and stop?) and AllC.
PER_ROUND_CO_PLAYERS = ("tft", "alld", "allc")


def evaluate_learners(learners: Sequence, frozen: Sequence, condition, seed: int = 0,
                      num_games: int = FINAL_GAMES_PER_CO_PLAYER, **options) -> dict:
    """The final evaluation of a run (``eval.json``): :func:`baselines.evaluation.evaluate_players`.

    ``condition`` (the run's :class:`agents.harness.experiments.Condition`) decides ``uses_opponent_identity``
    (its pool mode is ``opponent-id``); ``options`` are ``evaluate_players``' (``num_rounds``,
    ``payoffs``, ``device``, ``pool``, ``pool_size``, ``pool_set``), and so is the returned dict.
    """
    return evaluate_players(learners, frozen, condition.pool_mode in IDENTITY_MODES, seed=seed, num_games=num_games,
                            **options)


def evaluate_against(player, co_players: dict, num_games: int, num_rounds: int, payoffs, seed: int, device) -> dict:
    """``player`` against each co-player, ``num_games`` games each (``ipd-coop evaluate``).

    Returns ``{name: summary}``, each :func:`baselines.evaluation.summarise_pairing`'s:
    whole-episode and late means of reward and cooperation for both sides, and per-round
    curves ``[num_rounds]``. The games against co-player ``i`` are seeded ``seed + 2 i``.
    """
    late_from = late_from_round(num_rounds)
    results = {}
    for index, (name, co_player) in enumerate(co_players.items()):
        played = play_episodes((player, co_player), num_games, payoffs=payoffs, num_rounds=num_rounds,
                               device=device, seed=seed + 2 * index)
        results[name] = summarise_pairing(played["actions"], played["rewards"], late_from)
    return results


class InTrainingEvaluator:
    """The evaluation the runner makes every ``eval_every`` training units.

    Built once per run (the pool set and its exact oracle values are computed once). Each
    call seeds its own generator from ``(seed, units_done)``, so the same learners at the
    same point give the same numbers, whether or not the run was resumed in between, and
    the training random streams are never touched.

    Args:
        condition: the run's :class:`agents.harness.experiments.Condition` (identity mode or not).
        seed: the run's seed.
        num_rounds, payoffs: the run's game.
        pool, pool_size: the pool evaluation set (as in the final evaluation).
        games_per_co_player: games against each classic and against the other learner.
        device: where the games are played.
    """

    def __init__(self, condition, seed: int, num_rounds: int = 100, payoffs="paper", pool: str = "uniform",
                 pool_size: int = DEFAULT_POOL_SIZE, games_per_co_player: int = IN_TRAINING_GAMES_PER_CO_PLAYER,
                 device="cpu", pool_set: Optional[PoolEvaluationSet] = None):
        self.condition = condition
        self.seed = int(seed)
        self.num_rounds = num_rounds
        self.payoffs = payoffs
        self.games_per_co_player = games_per_co_player
        self.device = torch.device(device)
        self.identity = condition.pool_mode in IDENTITY_MODES
        self.pool_set = pool_set if pool_set is not None else PoolEvaluationSet(pool, pool_size, seed, payoffs,
                                                                                num_rounds)

    def generator(self, units_done: int) -> torch.Generator:
        generator = torch.Generator(device=self.device)
        # Far from the training seeds (seed, seed + 1, 1000 * seed + index) and the final evaluation's.
        generator.manual_seed(7_919_000_000 + 1_000_003 * self.seed + units_done)
        return generator

    def __call__(self, learners: Sequence, units_done: int) -> dict:
        """Evaluate ``learners`` after ``units_done`` training units.

        Returns:
            ``{"units_done": int, "metrics": {"eval/<opponent>/<quantity>": float},
            "tft_cooperation_per_round": [num_rounds floats], "alld_...", "allc_..."}``: late-episode reward and
            cooperation against every classic and the other learner (means over the
            learners), and the pool set's ``reward``, ``alld_reward``, ``oracle_reward`` and
            ``gain_fraction`` and the learners' ``cooperation`` against it; the per-round
            cooperation against TFT, AllD and AllC (:data:`PER_ROUND_CO_PLAYERS`) is the mean
            over learners and games.

        The learners share the pool set: learner ``i`` of ``L`` plays co-players ``i, i + L,
        ...``, so every co-player is played once per evaluation (the gain is that of the
        learners as a population). This keeps the whole set at every point for the cost of
        one learner playing it; the final evaluation (:func:`evaluate_learners`) has every
        learner play the whole set.
        """
        generator = self.generator(units_done)
        late_from = late_from_round(self.num_rounds)
        games = self.games_per_co_player
        per_learner: list = [{} for _ in learners]
        per_round: dict = {name: [] for name in PER_ROUND_CO_PLAYERS}
        policy_per_round: dict = {}
        size = self.pool_set.size
        per_co_player_reward = torch.empty(size, dtype=torch.float64)
        per_co_player_cooperation = torch.empty(size, dtype=torch.float64)
        with torch.no_grad():
            for index, (learner, values) in enumerate(zip(learners, per_learner)):
                rows = torch.arange(index, size, len(learners))
                matches = play_evaluation_match(learner, self.pool_set.probabilities[rows], games, generator,
                                         self.num_rounds, self.payoffs, self.device, self.identity)
                for name in EVALUATION_CO_PLAYERS:
                    summary = summarise_pairing(*matches[name], late_from)
                    values.update({f"eval/{name}/{key}": summary[key] for key in IN_TRAINING_KEYS})
                    if name in per_round:
                        per_round[name].append(summary["cooperation_per_round"])
                    probabilities = self._policy_cooperation(learner, *matches[name])
                    if probabilities is not None:
                        values[f"eval/{name}/policy_cooperation"] = float(probabilities.mean())
                        if name in per_round:
                            policy_per_round.setdefault(name, []).append(probabilities.mean(dim=1).cpu().numpy())
                pool_actions, pool_rewards = matches["pool"]
                per_co_player_reward[rows] = pool_rewards[0].double().mean(dim=0).cpu()
                per_co_player_cooperation[rows] = (pool_actions[0] == 0).double().mean(dim=0).cpu()
                probabilities = self._policy_cooperation(learner, pool_actions, pool_rewards)
                if probabilities is not None:
                    values["eval/pool/policy_cooperation"] = float(probabilities.mean())
            # Learner i against learner i + 1 (cyclically): one match scores both sides, so a
            # pair of learners plays once.
            pairs = ([(index, (index + 1) % len(learners)) for index in range(len(learners))]
                     if len(learners) > 1 else [])
            pairs = pairs[:1] if len(learners) == 2 else pairs
            zeros = torch.zeros(games, IDENTITY_SIZE, device=self.device) if self.identity else None
            scores: list = [[] for _ in learners]
            for first, second in pairs:
                result = play_match(learners[first], learners[second], games, generator, self.num_rounds,
                                    self.payoffs, self.device, player_identity=zeros, co_player_identity=zeros)
                scores[first].append(summarise_pairing(result["actions"], result["rewards"], late_from))
                scores[second].append(
                    summarise_pairing(result["actions"].flip(0), result["rewards"].flip(0), late_from))
            for values, summaries in zip(per_learner, scores):
                for key in IN_TRAINING_KEYS if summaries else ():
                    values[f"eval/learner/{key}"] = float(np.mean([summary[key] for summary in summaries]))
        metrics = {key: float(np.mean([values[key] for values in per_learner])) for key in per_learner[0]}
        report = gain_report(per_co_player_reward.numpy(), self.pool_set.oracle)
        report["cooperation"] = float(per_co_player_cooperation.mean())
        metrics.update({f"eval/pool/{key}": float(report[key]) for key in IN_TRAINING_POOL_KEYS})
        record = {"units_done": int(units_done), "metrics": metrics}
        for name, curves in per_round.items():
            mean = np.mean(np.asarray(curves, dtype=float), axis=0)
            # 7 digits: the post-collapse floor of an always-defect learner sits at 1e-5 to 1e-7.
            record[f"{name}_cooperation_per_round"] = [float(f"{value:.7g}") for value in mean]
        for name, curves in policy_per_round.items():
            mean = np.mean(np.asarray(curves, dtype=float), axis=0)
            record[f"{name}_policy_cooperation_per_round"] = [float(f"{value:.7g}") for value in mean]
        return record

    def _policy_cooperation(self, learner, actions: torch.Tensor, rewards: torch.Tensor) -> Optional[torch.Tensor]:
        """The learner's exact p(cooperate) ``[T, games]`` along games it played (``actions``, ``rewards``
        ``[2, T, games]``, row 0 its own), for a learner that can say it
        (``policy_cooperation``, e.g. :class:`agents.a2c.A2CPlayer`; memory-1 players hold a
        ``cooperation_probabilities`` table instead); None otherwise, and in the
        opponent-ID condition (the identities of a slice of the match are not kept)."""
        method = getattr(learner, "policy_cooperation", None)
        if method is None or self.identity:
            return None
        own, other = actions[0], actions[1]
        observation = torch.cat([torch.zeros_like(own[:1]), first_person_outcome(own[:-1], other[:-1])])
        return method(observation, own, rewards[0])


def mean_over_learners(evaluation: dict) -> dict:
    """``{opponent: {key: mean over learners}}`` of the scalar entries of an evaluation (``eval.json``)."""
    collected: dict = {}
    for learner in evaluation["learners"]:
        for opponent, values in learner["opponents"].items():
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    collected.setdefault(opponent, {}).setdefault(key, []).append(float(value))
    return {opponent: {key: sum(values) / len(values) for key, values in keys.items()}
            for opponent, keys in collected.items()}
