"""The folded input projection and torch's GRU kernels compute exactly what the embeddings and nn.GRU do."""
import pytest
import torch

from agents.history import NO_ACTION, HistoryEncoder, shift_right

STEPS, GAMES = 5, 3


MODES = [None, "every_round", "prepended"]  # no identity, and the two ways of reading it


def _history(seed: int, uses_opponent_identity: bool):
    generator = torch.Generator().manual_seed(seed)
    observation = torch.randint(0, 5, (STEPS, GAMES), generator=generator)
    previous_action = shift_right(torch.randint(0, 2, (STEPS, GAMES), generator=generator), NO_ACTION)
    previous_reward = shift_right(torch.randn(STEPS, GAMES, dtype=torch.double, generator=generator), 0.0)
    identity = torch.randn(1, GAMES, 10, dtype=torch.double, generator=generator) if uses_opponent_identity else None
    return observation, previous_action, previous_reward, identity


def _encoder(mode, **sizes) -> HistoryEncoder:
    return HistoryEncoder(uses_opponent_identity=mode is not None, identity_input=mode or "prepended", **sizes).double()


def _reference(encoder: HistoryEncoder, mode, history):
    """nn.GRU on the embeddings; a prepended identity is one more step in front, its token holding only
    the identity's embedding (the other modalities' slots zero), whose output is dropped."""
    embedded = encoder.embed(*history)
    if mode == "prepended":
        token = encoder.identity_embedding(history[3])  # [1, B, E]
        embedded = torch.cat([torch.cat([torch.zeros_like(embedded[:1, :, :-token.shape[-1]]), token], -1), embedded])
    output, final = encoder.gru(embedded)
    return torch.nn.functional.silu(output[1:] if mode == "prepended" else output), final


@pytest.mark.parametrize("mode", MODES)
def test_folded_projection_equals_embeddings_then_linear(mode):
    torch.manual_seed(1)
    encoder = _encoder(mode, hidden_size=8, embedding_size=4)
    history = _history(1, mode is not None)
    projection = encoder.project(*history)
    # 15 (observation, previous action) pairs + the reward (+ 5 identity values read every round).
    assert projection.inputs.shape == (STEPS, GAMES, 16 + (5 if mode == "every_round" else 0))
    assert projection.weight.shape == (3 * 8, projection.inputs.shape[-1])
    expected = torch.nn.functional.linear(encoder.embed(*history), encoder.gru.weight_ih_l0, encoder.gru.bias_ih_l0)
    torch.testing.assert_close(projection.dense(), expected)


@pytest.mark.parametrize("mode", MODES)
def test_sequence_and_step_by_step_equal_nn_gru_on_the_embeddings(mode):
    torch.manual_seed(2)
    encoder = _encoder(mode, hidden_size=8, embedding_size=4)
    observation, previous_action, previous_reward, identity = history = _history(2, mode is not None)
    expected_features, nn_final = _reference(encoder, mode, history)
    features, final_state = encoder.recur(encoder.project(observation, previous_action, previous_reward, identity))
    torch.testing.assert_close(features, expected_features)
    torch.testing.assert_close(final_state, nn_final)
    step_identity = None if identity is None else identity[0]
    state = encoder.start_state(GAMES, identity=step_identity)
    for t in range(STEPS):
        step_features, state = encoder.recur_step(
            encoder.project(observation[t], previous_action[t], previous_reward[t], step_identity), state)
        torch.testing.assert_close(step_features, features[t])
    torch.testing.assert_close(state, final_state)


@pytest.mark.parametrize("mode", ["every_round", "prepended"])
def test_folded_path_has_the_gradients_of_embeddings_then_nn_gru(mode):
    torch.manual_seed(3)
    encoder = _encoder(mode, hidden_size=8, embedding_size=4)
    history = _history(3, True)
    weights = torch.randn(STEPS, GAMES, 8, dtype=torch.double)
    expected_features, _ = _reference(encoder, mode, history)
    (expected_features * weights).sum().backward()
    expected = {name: parameter.grad.clone() for name, parameter in encoder.named_parameters()}
    encoder.zero_grad(set_to_none=True)
    features, _ = encoder.recur(encoder.project(*history))
    (features * weights).sum().backward()
    for name, parameter in encoder.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], msg=f"gradient of {name}")


def test_a_prepended_identity_changes_the_start_and_an_identity_of_five_is_refused():
    encoder = _encoder("prepended", hidden_size=8, embedding_size=4)
    identity = torch.randn(GAMES, 10, dtype=torch.double)
    assert not torch.equal(encoder.start_state(GAMES, identity=identity), encoder.initial_state(GAMES).double())
    with pytest.raises(ValueError, match="an opponent identity has 10 numbers"):
        encoder.start_state(GAMES, identity=identity[:, :5])


def test_parameter_names_are_those_of_earlier_checkpoints():
    # Checkpoints store state_dicts: the GRU's weights keep nn.GRU's names, so older final.pt files load.
    names = list(HistoryEncoder(hidden_size=8, embedding_size=4, uses_opponent_identity=True).state_dict())
    assert names == [
        "observation_embedding.weight", "observation_embedding.bias", "action_embedding.weight",
        "action_embedding.bias", "reward_embedding.weight", "reward_embedding.bias", "identity_embedding.weight",
        "identity_embedding.bias", "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0",
    ]
