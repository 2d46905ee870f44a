"""The sequence model learns tabular-vs-tabular games: far better than a uniform predictor."""
import math

import pytest
import torch

from agents.ppi.dataset import EpisodeBatcher
from agents.ppi.model import ModelConfig, SequenceModel


def test_loss_falls_well_below_a_uniform_predictor(trained_model, tabular_data):
    model, _ = trained_model
    _, held_out = tabular_data
    batch = EpisodeBatcher(held_out).batch(torch.arange(len(held_out["outcomes"])))
    with torch.no_grad():
        _, parts = model.loss(batch)
    # Uniform predictor: ln 2 = 0.693 per own action, ln 5 = 1.609 per next observation.
    # Given its own action only 2 of the 5 next observations are possible, so a model that
    # learned the encoding and nothing about the co-player would reach ln 2 = 0.693.
    assert parts["loss/observation"] < 0.62 < math.log(5)
    assert parts["loss/action"] < 0.66 < math.log(2)
    # Reward given (own action, observation) is deterministic: its squared error falls near 0.
    assert parts["loss/reward"] < 0.05


def test_predicts_the_tabular_co_players_next_move_better_than_chance(trained_model, tabular_data):
    model, _ = trained_model
    _, held_out = tabular_data
    batch = EpisodeBatcher(held_out).batch(torch.arange(len(held_out["outcomes"])))
    with torch.no_grad():
        previous_action = torch.cat([torch.full_like(batch["action"][:1], -1), batch["action"][:-1]])
        previous_reward = torch.cat([torch.zeros_like(batch["reward"][:1]), batch["reward"][:-1]])
        features, _ = model.features(batch["observation"], previous_action, previous_reward)
        logits = model.observation_logits(features, batch["action"])  # [T, B, 5]
    # The co-player's move is the parity of the observation index: 1 + 2 * own + other.
    own = batch["action"]
    cooperate = logits.gather(-1, (1 + 2 * own).unsqueeze(-1)).squeeze(-1)
    defect = logits.gather(-1, (2 + 2 * own).unsqueeze(-1)).squeeze(-1)
    predicted = (defect > cooperate).long()
    actual = (batch["next_observation"] - 1) % 2
    accuracy = (predicted == actual).float()
    # Chance (a coin, or always "the majority move") is at most ~0.5 over uniform memory-1
    # co-players; knowing each co-player's 5 probabilities exactly would give 0.75.
    assert accuracy.mean() > 0.62
    # In-context inference: late in the episode it predicts better than in the first rounds.
    assert accuracy[60:].mean() > accuracy[:5].mean() + 0.03


@pytest.mark.parametrize("opponent_id_input", ["prepended", "every_round"])
def test_one_step_per_round_equals_the_full_sequence_forward(opponent_id_input):
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(hidden_size=16, embedding_size=4, uses_opponent_identity=True,
                                      opponent_id_input=opponent_id_input))
    observation = torch.tensor([[0, 0], [1, 4], [3, 2]])
    previous_action = torch.tensor([[-1, -1], [0, 1], [1, 0]])
    previous_reward = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, -1.0]])
    identity = torch.randn(2, 10)
    full, _ = model.features(observation, previous_action, previous_reward, identity)
    hidden = model.initial_hidden(2, identity=identity)
    for t in range(3):
        step, hidden = model.step(observation[t], previous_action[t], previous_reward[t], hidden, identity)
        torch.testing.assert_close(step, full[t])


def test_fused_heads_compute_the_same_heads():
    torch.manual_seed(1)
    model = SequenceModel(ModelConfig(hidden_size=16, embedding_size=4))
    features = torch.randn(7, 16)
    action = torch.tensor([0, 1, 1, 0, 1, 0, 0])
    next_observation = torch.tensor([1, 3, 4, 2, 4, 1, 2])
    heads = model.fused_heads()
    outputs = heads(features)
    torch.testing.assert_close(outputs[:, :2], model.action_logits(features))
    torch.testing.assert_close(outputs[:, 2:7] + heads.observation_by_action[action],
                               model.observation_logits(features, action))
    torch.testing.assert_close(
        outputs[:, 7] + heads.reward_by_action[action] + heads.reward_by_observation[next_observation],
        model.reward_mean(features, action, next_observation))
