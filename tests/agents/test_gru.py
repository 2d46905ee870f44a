"""The hand-written GRU and the folded input projection compute exactly what nn.GRU and the embeddings do."""
import torch

from agents.gru import gru_sequence
from agents.history import NO_ACTION, HistoryEncoder, shift_right


def test_gru_sequence_matches_nn_gru_outputs_and_gradients():
    torch.manual_seed(0)
    steps, batch, inputs, hidden = 6, 4, 5, 3
    reference = torch.nn.GRU(inputs, hidden).double()
    x = torch.randn(steps, batch, inputs, dtype=torch.double, requires_grad=True)
    initial = torch.randn(1, batch, hidden, dtype=torch.double, requires_grad=True)
    weights = torch.randn(steps, batch, hidden, dtype=torch.double)
    expected, _ = reference(x, initial)
    (expected * weights).sum().backward()
    expected_grads = [p.grad.clone() for p in reference.parameters()] + [x.grad.clone(), initial.grad.clone()]
    for tensor in [*reference.parameters(), x, initial]:
        tensor.grad = None
    projection = torch.nn.functional.linear(x, reference.weight_ih_l0, reference.bias_ih_l0)
    got = gru_sequence(projection, initial[0], reference.weight_hh_l0, reference.bias_hh_l0)
    (got * weights).sum().backward()
    got_grads = [p.grad for p in reference.parameters()] + [x.grad, initial.grad]
    torch.testing.assert_close(got, expected)
    for got_grad, expected_grad in zip(got_grads, expected_grads):
        torch.testing.assert_close(got_grad, expected_grad)


def test_folded_projection_equals_embeddings_then_linear_and_step_equals_sequence():
    torch.manual_seed(1)
    for use_identity in (False, True):
        encoder = HistoryEncoder(hidden_size=8, embedding_size=4, use_identity=use_identity).double()
        observation = torch.randint(0, 5, (5, 3))
        previous_action = shift_right(torch.randint(0, 2, (5, 3)), NO_ACTION)
        previous_reward = shift_right(torch.randn(5, 3, dtype=torch.double), 0.0)
        identity = torch.randn(1, 3, 5, dtype=torch.double) if use_identity else None
        embedded = encoder.embed(observation, previous_action, previous_reward, identity)
        through_nn_gru, _ = encoder.gru(embedded)
        features, _ = encoder.recur(encoder.project(observation, previous_action, previous_reward, identity))
        torch.testing.assert_close(features, torch.nn.functional.silu(through_nn_gru))
        state = encoder.initial_state(3).double()
        for t in range(5):
            step_identity = None if identity is None else identity[0]
            step_features, state = encoder.recur_step(
                encoder.project(observation[t], previous_action[t], previous_reward[t], step_identity), state)
            torch.testing.assert_close(step_features, features[t])
