"""baselines.evaluation: the run evaluation on plain arguments (no agents import), and the agents' wrapper."""
import json

import pytest
import torch

from agents.harness.evaluation import evaluate_learners
from agents.harness.experiments import Condition
from baselines.evaluation import evaluate_players
from baselines.tabular import MemoryOnePlayer, make_player


class IdentityRecorder(MemoryOnePlayer):
    """TFT that keeps the identity vectors its ``reset`` was given."""

    def __init__(self):
        super().__init__([1, 1, 0, 1, 0], name="tft learner")
        self.identities = []

    def reset(self, num_games, generator=None, opponent_identity=None):
        super().reset(num_games, generator)
        self.identities.append(opponent_identity)


def test_tft_learner_scores_against_the_classics():
    evaluation = evaluate_players([make_player("tft")], num_games=4, num_rounds=8, pool_size=0)
    opponents = evaluation["learners"][0]["opponents"]
    assert set(opponents) == {"allc", "alld", "tft", "wsls", "extort2"}
    assert opponents["allc"]["reward"] == 1.0 and opponents["allc"]["cooperation"] == 1.0
    # Round 0: C against D (-1), then D against D (0) for 7 rounds.
    assert opponents["alld"]["reward"] == pytest.approx(-1 / 8)
    assert opponents["alld"]["late_reward"] == 0.0 and evaluation["late_from_round"] == 6
    assert "pool" not in evaluation


def test_use_identity_passes_log_probabilities_and_zeros_against_a_learner():
    first, second = IdentityRecorder(), IdentityRecorder()
    evaluate_players([first, second], uses_opponent_identity=True, num_games=2, num_rounds=4, pool_size=0)
    classics, against_learner = first.identities[0], first.identities[1]
    assert classics.shape == (10, 10)  # 5 classics x 2 games; log pi(a | o), 5 observations x 2 actions
    floor = torch.log(torch.tensor(1e-6)).item()
    assert classics[0].tolist() == pytest.approx([0.0, floor] * 5)  # AllC: log 1 for C, log 0 (floored) for D
    assert classics[2].tolist() == pytest.approx([floor, 0.0] * 5)  # AllD
    assert against_learner.tolist() == [[0.0] * 10] * 2
    plain = IdentityRecorder()
    evaluate_players([plain], num_games=2, num_rounds=4, pool_size=0)
    assert plain.identities == [None]
    with pytest.raises(TypeError, match=r"uses_opponent_identity must be True or False, got 'yes'"):
        evaluate_players([plain], uses_opponent_identity="yes", pool_size=0)


def test_the_agents_wrapper_reads_the_identity_mode_from_the_condition():
    for pool_mode, expected in (("opponent-id", True), ("tabular-only", False)):
        learner = IdentityRecorder()
        condition = Condition("test", pool_mode, paper_step=1, num_learners=1)
        wrapped = evaluate_learners([learner], [], condition, seed=3, num_games=2, num_rounds=4, pool_size=8)
        assert (learner.identities[0] is not None) is expected
        direct = evaluate_players([IdentityRecorder()], [], expected, seed=3, num_games=2, num_rounds=4, pool_size=8)
        assert json.dumps(wrapped) == json.dumps(direct)  # as eval.json stores it (a tiny pool gives NaN shares)
