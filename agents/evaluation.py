"""Within-episode evaluation of trained learners (the paper's Fig. 2 and Fig. 4 curves).

Each learner plays ``num_games`` episodes against AllC, AllD, TFT and WSLS, against the
other learner (when the run has two or more) and against the run's frozen co-player
(Step 2's Fixed-ICL). For each pairing we keep the per-round curves of reward and
cooperation (mean over games, ``[num_rounds]``) and their means over the whole episode
and over its last quarter ("late in the episode").
"""
from __future__ import annotations

from typing import Sequence

import torch

from agents.pool import IDENTITY_MODES, play_match
from baselines.tabular import make_player, named_probabilities, opponent_id

EVALUATION_COPLAYERS = ("allc", "alld", "tft", "wsls")


def _summarise(result: dict, late_from: int) -> dict:
    rewards = result["rewards"].float().mean(dim=2)  # [2, T]
    cooperation = (result["actions"] == 0).float().mean(dim=2)
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


def evaluate_learners(
    learners: Sequence,
    frozen: Sequence,
    condition,
    seed: int = 0,
    num_games: int = 256,
    num_rounds: int = 100,
    payoffs="paper",
    device="cpu",
) -> dict:
    """Evaluate every learner against the zoo, the other learner and the frozen players.

    Args:
        learners: trained players; in the ``opponent-id`` mode they receive the identity
            vector (log p(C|o) of the zoo member, zeros for a learner).
        frozen: frozen co-players of the run (may be empty).
        condition: the run's :class:`agents.experiments.Condition`.
        seed: seeds the evaluation's generator (evaluation never touches training RNG).

    Returns:
        ``{"learners": [{"opponents": {name: summary}}], "late_from_round": int}`` where each
        summary has ``reward``, ``cooperation``, ``late_reward``, ``late_cooperation``,
        the co-player's ``coplayer_reward`` / ``coplayer_cooperation`` and the
        ``*_per_round`` curves.
    """
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(10_000 + seed)
    identity = condition.pool_mode in IDENTITY_MODES
    late_from = num_rounds - num_rounds // 4
    results = []
    with torch.no_grad():
        for index, learner in enumerate(learners):
            opponents = {}
            for name in EVALUATION_COPLAYERS:
                player_identity = None
                if identity:
                    probabilities = torch.as_tensor(named_probabilities(name, payoffs), dtype=torch.float32)
                    player_identity = opponent_id(probabilities).to(device).expand(num_games, -1).clone()
                result = play_match(learner, make_player(name, payoffs), num_games, generator, num_rounds, payoffs,
                                    device, player_identity=player_identity)
                opponents[name] = _summarise(result, late_from)
            if len(learners) > 1:
                other = learners[(index + 1) % len(learners)]
                zeros = torch.zeros(num_games, 5, device=device) if identity else None
                result = play_match(learner, other, num_games, generator, num_rounds, payoffs, device,
                                    player_identity=zeros, coplayer_identity=zeros)
                opponents["learner"] = _summarise(result, late_from)
            for frozen_index, player in enumerate(frozen):
                name = "frozen" if len(frozen) == 1 else f"frozen_{frozen_index}"
                result = play_match(learner, player, num_games, generator, num_rounds, payoffs, device)
                opponents[name] = _summarise(result, late_from)
            results.append({"opponents": opponents})
    return {"learners": results, "late_from_round": late_from, "num_games": num_games}
