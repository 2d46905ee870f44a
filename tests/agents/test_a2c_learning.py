"""A2C learns the obvious best responses with tiny budgets (seeded, CPU)."""
import numpy as np
import torch

from agents.a2c import ALGORITHM, A2CTrainer
from agents.harness.evaluation import evaluate_learners
from agents.harness.experiments import STEP1, Condition
from baselines.tabular import MemoryOnePlayer, make_player, named_probabilities
from ipd_env.player import play_match

VS_FIXED = Condition("vs-fixed", "vs-frozen", paper_step=1, num_learners=1, frozen_from="zoo")
SMALL = dict(hidden_size=32, embedding_size=16, num_rounds=20, games_per_learner=64)


def train_against(name, iterations, seed=0, **overrides):
    config, settings = ALGORITHM.make_run("test", VS_FIXED.paper_step,
                                          {**SMALL, "num_iterations": iterations, **overrides})
    trainer = A2CTrainer(config, settings, pool_mode=VS_FIXED.pool_mode, num_learners=VS_FIXED.num_learners, seed=seed,
                         frozen_players=[make_player(name)])
    for unit in range(trainer.num_units):
        metrics = trainer.train_unit(unit)
    return trainer, metrics


def late_cooperation(player, co_player_name, num_rounds=20, seed=0):
    result = play_match(player, make_player(co_player_name), 256, torch.Generator().manual_seed(seed), num_rounds)
    return float((result["actions"][0, num_rounds // 2:] == 0).float().mean())


def test_learns_to_defect_against_allc():
    trainer, metrics = train_against("allc", iterations=40)
    assert metrics["learner_vs_frozen/cooperation"] < 0.1
    assert 1.0 - late_cooperation(trainer.players()[0], "allc") > 0.9


def test_learns_to_cooperate_with_tft():
    trainer, metrics = train_against("tft", iterations=60, learning_rate=1e-2, reward_scale=0.5)
    assert late_cooperation(trainer.players()[0], "tft") > 0.8
    assert metrics["learner_vs_frozen/reward"] > 0.7


def test_step1_style_agent_adapts_within_the_episode():
    """Trained like Step 1 (best response to tabular co-players it must identify in context),
    on a pool of AllD and TFT (half the games each, unlabelled) so that a tiny budget
    suffices: the uniform memory-1 pool needs far more episodes (see the README's results).
    """
    games = 128
    pool_rows = torch.tensor(np.stack([named_probabilities("alld"), named_probabilities("tft")]), dtype=torch.float32)
    co_players = MemoryOnePlayer(pool_rows.repeat(games // 2, 1), name="alld-or-tft")
    config, settings = ALGORITHM.make_run("test", VS_FIXED.paper_step, {**SMALL, "num_iterations": 60,
                                                                "games_per_learner": games, "learning_rate": 1e-2,
                                                                "reward_scale": 0.5})
    trainer = A2CTrainer(config, settings, pool_mode=VS_FIXED.pool_mode, num_learners=VS_FIXED.num_learners, seed=0,
                         frozen_players=[co_players])
    for unit in range(trainer.num_units):
        trainer.train_unit(unit)
    player = trainer.players()[0]
    defection_vs_alld = 1.0 - late_cooperation(player, "alld")
    defection_vs_tft = 1.0 - late_cooperation(player, "tft")
    assert defection_vs_alld > 0.8 and defection_vs_tft < 0.3
    evaluation = evaluate_learners([player], [], STEP1, num_games=64, num_rounds=20)
    opponents = evaluation["learners"][0]["opponents"]
    assert opponents["tft"]["late_reward"] > 0.7 and opponents["alld"]["late_cooperation"] < 0.2
