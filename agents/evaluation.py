"""Evaluation of learners: at the end of a run (``eval.json``) and during training.

Each learner plays, in ONE batched match (every row of the batch is its own game):

* the named classics AllC, AllD, TFT, WSLS and Extort-2 (``games_per_coplayer`` games each);
* the run's fixed **pool evaluation set**: ``pool_size`` co-players drawn once from the
  run's pool distribution with the run's seed (:func:`baselines.incontext.evaluation_set`),
  one game each. The exact evaluator gives, per co-player, always-defect's reward and the
  oracle's (the best memory-1 reply chosen knowing the co-player), and
  :func:`baselines.incontext.gain_report` turns the learner's rewards into the
  ``gain_fraction`` (0 = plays like always-defect, 1 = as well as knowing the co-player);

then, in separate matches, the other learner (when the run has two or more) and the run's
frozen co-players (Step 2's Fixed-ICL). In the ``opponent-id`` mode the learner receives
each memory-1 co-player's identity vector (log p(C|o)) and zeros against a learner.

For every pairing we keep the per-round curves of reward and cooperation (mean over
games, ``[num_rounds]``) and their means over the whole episode and over its last quarter
("late in the episode"). Each evaluation draws from its own ``torch.Generator``, so it
never touches a training random stream.

* :func:`evaluate_learners` is the final evaluation (``eval.json``);
* :class:`InTrainingEvaluator` is what the runner calls every ``eval_every`` units: fewer
  games per classic (32), the same pool set shared by the learners (each co-player played
  once per evaluation), and flat ``eval/<opponent>/<quantity>`` scalars plus the per-round
  cooperation against TFT (the heatmap of ``plots/in_training.png``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from agents.pool import IDENTITY_MODES, play_match
from baselines.incontext import evaluation_set, gain_report, oracle_values
from baselines.tabular import MemoryOnePlayer, named_probabilities, opponent_id

#: The memory-1 classics every evaluation plays (all in one batched match with the pool set).
EVALUATION_COPLAYERS = ("allc", "alld", "tft", "wsls", "extort2")
#: Co-players of the pool evaluation set (one game each) by default.
DEFAULT_POOL_SIZE = 1024
#: Games per classic co-player in the final evaluation and during training.
FINAL_GAMES_PER_COPLAYER = 256
IN_TRAINING_GAMES_PER_COPLAYER = 32
#: Scalars of an opponent summary that :mod:`agents.summary` aggregates over seeds.
SUMMARY_KEYS = ("reward", "cooperation", "late_reward", "late_cooperation", "coplayer_reward",
                "coplayer_cooperation")
#: The pool opponent's extra scalars (from :func:`baselines.incontext.gain_report`).
POOL_KEYS = ("alld_reward", "oracle_reward", "gain_fraction", "top_decile_gain_share", "top_decile_gain_fraction",
             "oracle_top_decile_gain_share")
#: In-training evaluation files of a run folder: the scalars (one row per evaluation, keyed by
#: ``units_done``, the number of training units done, 1-based as in plots and TensorBoard) and
#: the per-round cooperation against TFT of every evaluation (the heatmap's data).
EVAL_METRICS_FILE = "eval_metrics.csv"
EVAL_CURVES_FILE = "eval_curves.json"
#: What the in-training evaluation logs per opponent, and for the pool.
IN_TRAINING_KEYS = ("late_reward", "late_cooperation")
IN_TRAINING_POOL_KEYS = ("reward", "alld_reward", "oracle_reward", "gain_fraction")


def late_from_round(num_rounds: int) -> int:
    """First round (0-based) of the episode's last quarter."""
    return num_rounds - num_rounds // 4


def _summarise(actions: torch.Tensor, rewards: torch.Tensor, late_from: int) -> dict:
    """Means and per-round curves of one pairing; ``actions``/``rewards`` are ``[2, T, games]``."""
    rewards = rewards.float().mean(dim=2)  # [2, T]
    cooperation = (actions == 0).float().mean(dim=2)
    return {
        "reward": float(rewards[0].mean()),
        "cooperation": float(cooperation[0].mean()),
        "late_reward": float(rewards[0, late_from:].mean()),
        "late_cooperation": float(cooperation[0, late_from:].mean()),
        "coplayer_reward": float(rewards[1].mean()),
        "coplayer_cooperation": float(cooperation[1].mean()),
        "reward_per_round": [round(value, 5) for value in rewards[0].tolist()],
        "cooperation_per_round": [round(value, 5) for value in cooperation[0].tolist()],
        "coplayer_reward_per_round": [round(value, 5) for value in rewards[1].tolist()],
        "coplayer_cooperation_per_round": [round(value, 5) for value in cooperation[1].tolist()],
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


def _batched_match(learner, pool_coplayers: Optional[torch.Tensor], games_per_coplayer: int, generator,
                   num_rounds: int, payoffs, device, identity: bool) -> dict:
    """One learner against every classic and the pool co-players ``[N, 5]`` in one batched match.

    Returns ``{name: (actions [2, T, games], rewards [2, T, games])}`` for every classic and ``"pool"``.
    """
    blocks = [torch.as_tensor(named_probabilities(name, payoffs), dtype=torch.float32).expand(games_per_coplayer, -1)
              for name in EVALUATION_COPLAYERS]
    names = list(EVALUATION_COPLAYERS)
    if pool_coplayers is not None:
        blocks.append(pool_coplayers)
        names.append("pool")
    probabilities = torch.cat(blocks)
    coplayer = MemoryOnePlayer(probabilities, name="evaluation co-players")
    player_identity = opponent_id(probabilities).to(device) if identity else None
    result = play_match(learner, coplayer, probabilities.shape[0], generator, num_rounds, payoffs, device,
                        player_identity=player_identity)
    slices, start = {}, 0
    for name, block in zip(names, blocks):
        stop = start + block.shape[0]
        slices[name] = (result["actions"][:, :, start:stop], result["rewards"][:, :, start:stop])
        start = stop
    return slices


def _pool_summary(actions, rewards, late_from: int, pool_set: PoolEvaluationSet) -> dict:
    per_coplayer_reward = rewards[0].float().mean(dim=0).double().cpu().numpy()  # [size], one game each
    report = gain_report(per_coplayer_reward, pool_set.oracle)
    return {**_summarise(actions, rewards, late_from),
            **{key: float(report[key]) for key in POOL_KEYS}, "num_coplayers": pool_set.size}


def evaluate_learners(
    learners: Sequence,
    frozen: Sequence,
    condition,
    seed: int = 0,
    num_games: int = FINAL_GAMES_PER_COPLAYER,
    num_rounds: int = 100,
    payoffs="paper",
    device="cpu",
    pool: str = "uniform",
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_set: Optional[PoolEvaluationSet] = None,
) -> dict:
    """Evaluate every learner against the classics, the pool set, the other learner and the frozen players.

    Args:
        learners: trained players; in the ``opponent-id`` mode they receive the identity
            vector (log p(C|o) of the memory-1 co-player, zeros for a learner).
        frozen: frozen co-players of the run (may be empty).
        condition: the run's :class:`agents.experiments.Condition`.
        seed: seeds the evaluation's generator (evaluation never touches training RNG)
            and the pool evaluation set.
        num_games: games against each classic and against the other learner / frozen players.
        pool, pool_size: the pool evaluation set (ignored when ``pool_set`` is given;
            ``pool_size=0`` leaves the pool out).

    Returns:
        ``{"learners": [{"opponents": {name: summary}}], "late_from_round", "num_games", "pool"}``
        where each summary has ``reward``, ``cooperation``, ``late_reward``,
        ``late_cooperation``, the co-player's ``coplayer_reward`` / ``coplayer_cooperation``
        and the ``*_per_round`` curves; the ``"pool"`` summary adds ``alld_reward``,
        ``oracle_reward``, ``gain_fraction``, ``top_decile_gain_share``,
        ``top_decile_gain_fraction`` and ``num_coplayers``.
    """
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(10_000 + seed)
    if pool_set is None and pool_size:
        pool_set = PoolEvaluationSet(pool, pool_size, seed, payoffs, num_rounds)
    identity = condition.pool_mode in IDENTITY_MODES
    late_from = late_from_round(num_rounds)
    results = []
    with torch.no_grad():
        for index, learner in enumerate(learners):
            matches = _batched_match(learner, None if pool_set is None else pool_set.probabilities, num_games,
                                     generator, num_rounds, payoffs, device, identity)
            opponents = {name: _summarise(*matches[name], late_from) for name in EVALUATION_COPLAYERS}
            if pool_set is not None:
                opponents["pool"] = _pool_summary(*matches["pool"], late_from, pool_set)
            if len(learners) > 1:
                other = learners[(index + 1) % len(learners)]
                zeros = torch.zeros(num_games, 5, device=device) if identity else None
                result = play_match(learner, other, num_games, generator, num_rounds, payoffs, device,
                                    player_identity=zeros, coplayer_identity=zeros)
                opponents["learner"] = _summarise(result["actions"], result["rewards"], late_from)
            for frozen_index, player in enumerate(frozen):
                name = "frozen" if len(frozen) == 1 else f"frozen_{frozen_index}"
                result = play_match(learner, player, num_games, generator, num_rounds, payoffs, device)
                opponents[name] = _summarise(result["actions"], result["rewards"], late_from)
            results.append({"opponents": opponents})
    evaluation = {"learners": results, "late_from_round": late_from, "num_games": num_games}
    if pool_set is not None:
        evaluation["pool"] = {"spec": pool_set.pool, "size": pool_set.size, "seed": pool_set.seed}
    return evaluation


class InTrainingEvaluator:
    """The evaluation the runner makes every ``eval_every`` training units.

    Built once per run (the pool set and its exact oracle values are computed once). Each
    call seeds its own generator from ``(seed, units_done)``, so the same learners at the
    same point give the same numbers, whether or not the run was resumed in between, and
    the training random streams are never touched.

    Args:
        condition: the run's :class:`agents.experiments.Condition` (identity mode or not).
        seed: the run's seed.
        num_rounds, payoffs: the run's game.
        pool, pool_size: the pool evaluation set (as in the final evaluation).
        games_per_coplayer: games against each classic and against the other learner.
        device: where the games are played.
    """

    def __init__(self, condition, seed: int, num_rounds: int = 100, payoffs="paper", pool: str = "uniform",
                 pool_size: int = DEFAULT_POOL_SIZE, games_per_coplayer: int = IN_TRAINING_GAMES_PER_COPLAYER,
                 device="cpu", pool_set: Optional[PoolEvaluationSet] = None):
        self.condition = condition
        self.seed = int(seed)
        self.num_rounds = num_rounds
        self.payoffs = payoffs
        self.games_per_coplayer = games_per_coplayer
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
            "tft_cooperation_per_round": [num_rounds floats]}``: late-episode reward and
            cooperation against every classic and the other learner (means over the
            learners), and the pool set's ``reward``, ``alld_reward``, ``oracle_reward`` and
            ``gain_fraction``; the per-round cooperation against TFT is the mean over
            learners and games.

        The learners share the pool set: learner ``i`` of ``L`` plays co-players ``i, i + L,
        ...``, so every co-player is played once per evaluation (the gain is that of the
        learners as a population). This keeps the whole set at every point for the cost of
        one learner playing it; the final evaluation (:func:`evaluate_learners`) has every
        learner play the whole set.
        """
        generator = self.generator(units_done)
        late_from = late_from_round(self.num_rounds)
        games = self.games_per_coplayer
        per_learner: list = [{} for _ in learners]
        tft_curves = []
        size = self.pool_set.size
        per_coplayer_reward = torch.empty(size, dtype=torch.float64)
        with torch.no_grad():
            for index, (learner, values) in enumerate(zip(learners, per_learner)):
                rows = torch.arange(index, size, len(learners))
                matches = _batched_match(learner, self.pool_set.probabilities[rows], games, generator,
                                         self.num_rounds, self.payoffs, self.device, self.identity)
                for name in EVALUATION_COPLAYERS:
                    summary = _summarise(*matches[name], late_from)
                    values.update({f"eval/{name}/{key}": summary[key] for key in IN_TRAINING_KEYS})
                    if name == "tft":
                        tft_curves.append(summary["cooperation_per_round"])
                per_coplayer_reward[rows] = matches["pool"][1][0].double().mean(dim=0).cpu()
            # Learner i against learner i + 1 (cyclically): one match scores both sides, so a
            # pair of learners plays once.
            pairs = [(index, (index + 1) % len(learners)) for index in range(len(learners))] if len(learners) > 1 else []
            pairs = pairs[:1] if len(learners) == 2 else pairs
            zeros = torch.zeros(games, 5, device=self.device) if self.identity else None
            scores: list = [[] for _ in learners]
            for first, second in pairs:
                result = play_match(learners[first], learners[second], games, generator, self.num_rounds,
                                    self.payoffs, self.device, player_identity=zeros, coplayer_identity=zeros)
                scores[first].append(_summarise(result["actions"], result["rewards"], late_from))
                scores[second].append(_summarise(result["actions"].flip(0), result["rewards"].flip(0), late_from))
            for values, summaries in zip(per_learner, scores):
                for key in IN_TRAINING_KEYS if summaries else ():
                    values[f"eval/learner/{key}"] = float(np.mean([summary[key] for summary in summaries]))
        metrics = {key: float(np.mean([values[key] for values in per_learner])) for key in per_learner[0]}
        report = gain_report(per_coplayer_reward.numpy(), self.pool_set.oracle)
        metrics.update({f"eval/pool/{key}": float(report[key]) for key in IN_TRAINING_POOL_KEYS})
        tft = np.mean(np.asarray(tft_curves, dtype=float), axis=0)
        return {"units_done": int(units_done), "metrics": metrics,
                "tft_cooperation_per_round": [round(float(value), 5) for value in tft]}


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
