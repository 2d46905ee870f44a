"""The folded input projection and torch's GRU kernels compute exactly what the embeddings and nn.GRU do."""
import pytest
import torch

from agents.history import NO_ACTION, HistoryEncoder, shift_right

STEPS, GAMES = 5, 3


def _history(seed: int, use_identity: bool):
    generator = torch.Generator().manual_seed(seed)
    observation = torch.randint(0, 5, (STEPS, GAMES), generator=generator)
    previous_action = shift_right(torch.randint(0, 2, (STEPS, GAMES), generator=generator), NO_ACTION)
    previous_reward = shift_right(torch.randn(STEPS, GAMES, dtype=torch.double, generator=generator), 0.0)
    identity = torch.randn(1, GAMES, 5, dtype=torch.double, generator=generator) if use_identity else None
    return observation, previous_action, previous_reward, identity


@pytest.mark.parametrize("use_identity", [False, True])
def test_folded_projection_equals_embeddings_then_linear(use_identity):
    torch.manual_seed(1)
    encoder = HistoryEncoder(hidden_size=8, embedding_size=4, use_identity=use_identity).double()
    history = _history(1, use_identity)
    projection = encoder.project(*history)
    # 15 (observation, previous action) pairs + the reward (+ 5 identity values).
    assert projection.inputs.shape == (STEPS, GAMES, 16 + (5 if use_identity else 0))
    assert projection.weight.shape == (3 * 8, projection.inputs.shape[-1])
    expected = torch.nn.functional.linear(encoder.embed(*history), encoder.gru.weight_ih_l0, encoder.gru.bias_ih_l0)
    torch.testing.assert_close(projection.dense(), expected)


@pytest.mark.parametrize("use_identity", [False, True])
def test_sequence_and_step_by_step_equal_nn_gru_on_the_embeddings(use_identity):
    torch.manual_seed(2)
    encoder = HistoryEncoder(hidden_size=8, embedding_size=4, use_identity=use_identity).double()
    observation, previous_action, previous_reward, identity = _history(2, use_identity)
    through_nn_gru, nn_final = encoder.gru(encoder.embed(observation, previous_action, previous_reward, identity))
    features, final_state = encoder.recur(encoder.project(observation, previous_action, previous_reward, identity))
    torch.testing.assert_close(features, torch.nn.functional.silu(through_nn_gru))
    torch.testing.assert_close(final_state, nn_final)
    state = encoder.initial_state(GAMES).double()
    for t in range(STEPS):
        step_identity = None if identity is None else identity[0]
        step_features, state = encoder.recur_step(
            encoder.project(observation[t], previous_action[t], previous_reward[t], step_identity), state)
        torch.testing.assert_close(step_features, features[t])
    torch.testing.assert_close(state, final_state)


def test_folded_path_has_the_gradients_of_embeddings_then_nn_gru():
    torch.manual_seed(3)
    encoder = HistoryEncoder(hidden_size=8, embedding_size=4, use_identity=True).double()
    history = _history(3, True)
    weights = torch.randn(STEPS, GAMES, 8, dtype=torch.double)
    through_nn_gru, _ = encoder.gru(encoder.embed(*history))
    (torch.nn.functional.silu(through_nn_gru) * weights).sum().backward()
    expected = {name: parameter.grad.clone() for name, parameter in encoder.named_parameters()}
    encoder.zero_grad(set_to_none=True)
    features, _ = encoder.recur(encoder.project(*history))
    (features * weights).sum().backward()
    for name, parameter in encoder.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], msg=f"gradient of {name}")


def test_parameter_names_are_those_of_earlier_checkpoints():
    # Checkpoints store state_dicts: the GRU's weights keep nn.GRU's names, so older final.pt files load.
    names = list(HistoryEncoder(hidden_size=8, embedding_size=4, use_identity=True).state_dict())
    assert names == [
        "observation_embedding.weight", "observation_embedding.bias", "action_embedding.weight",
        "action_embedding.bias", "reward_embedding.weight", "reward_embedding.bias", "identity_embedding.weight",
        "identity_embedding.bias", "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0",
    ]
