"""The A2C settings that follow the paper's full text (SPEC 6b), and the named alternatives."""
import pytest
import torch

from agents.a2c import (
    ALGORITHM,
    PRESETS,
    TABLE2,
    A2CConfig,
    A2CModel,
    A2CTrainer,
    advantages_and_returns,
    centre_per_kind,
    generalised_advantages,
)
from agents.harness.experiments import STEP1
from agents.history import HistoryEncoder

#: SPEC 6b's table: the paper's length and batch per Table 2 column (4 = Fig. 1's mixed pool).
PAPER_LENGTHS = {1: (50_000, 2048), 2: (100_000, 2048), 3: (10_000, 4096), 4: (200_000, 4096)}


@pytest.mark.parametrize("step", sorted(PAPER_LENGTHS))
def test_paper_preset_trains_the_papers_length_at_its_batch(step):
    config = ALGORITHM.make_config("paper", step)
    assert (config.num_iterations, config.games_per_learner) == PAPER_LENGTHS[step]
    assert config.updates_per_iteration == 1  # the paper's "gradient steps" are iterations
    assert config.history_input == "observation" and config.terminal_value == "zero"
    assert config.td_lambda == config.gae_lambda == TABLE2[step]["gae_lambda"]


def test_paper_preset_sets_only_lengths_over_table2():
    assert all(set(settings) == {"num_iterations"} for settings in PRESETS["paper"].values())


def test_equal_lambdas_give_the_gae_returns():
    rewards, values = torch.randn(7, 3), torch.randn(7, 3)
    advantages, returns = advantages_and_returns(rewards, values, 0.9, 0.8, td_lambda=0.8)
    assert torch.allclose(returns, advantages + values)


def test_td_lambda_one_target_is_the_discounted_return():
    # td_lambda = 1: the value target is the Monte Carlo return, whatever gae_lambda is.
    rewards, values = torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[5.0], [-4.0], [0.5]])
    advantages, returns = advantages_and_returns(rewards, values, 0.5, 0.0, td_lambda=1.0)
    assert returns[:, 0].tolist() == pytest.approx([1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    # gae_lambda = 0: the advantage is the one-step TD error r_t + gamma V_{t+1} - V_t (V_3 = 0).
    assert advantages[:, 0].tolist() == pytest.approx([1 + 0.5 * -4 - 5, 2 + 0.5 * 0.5 + 4, 3 - 0.5])


def test_bootstrapped_terminal_value_enters_the_last_td_error():
    rewards, values = torch.zeros(2, 1), torch.zeros(2, 1)
    advantages = generalised_advantages(rewards, values, 0.5, 1.0, last_value=torch.tensor([4.0]))
    assert advantages[:, 0].tolist() == pytest.approx([1.0, 2.0])  # gamma^2 * 4, gamma * 4


def test_observation_history_input_reads_five_numbers():
    encoder = HistoryEncoder(8, 4, inputs="observation")
    assert not hasattr(encoder, "action_embedding") and encoder.gru.input_size == 4
    observation = torch.tensor([[0, 3], [4, 1]])
    actions, rewards = torch.tensor([[-1, -1], [1, 0]]), torch.tensor([[0.0, 0.0], [2.0, 1.0]])
    projection = encoder.project(observation, actions, rewards)
    assert projection.inputs.shape == (2, 2, 5)
    # The folded projection equals the unfolded embedding through W_ih.
    dense = torch.nn.functional.linear(encoder.embed(observation, actions, rewards), encoder.gru.weight_ih_l0,
                                       encoder.gru.bias_ih_l0)
    assert torch.allclose(projection.dense(), dense, atol=1e-6)
    # The previous action and reward are not read: other values give the same projection.
    assert torch.equal(encoder.project(observation, actions.flip(0), rewards * 3).inputs, projection.inputs)


def test_bad_history_input_is_refused():
    with pytest.raises(ValueError, match="inputs must be one of 'observation', 'observation_action_reward'"):
        HistoryEncoder(8, 4, inputs="actions")
    with pytest.raises(ValueError, match="a2c setting history_input must be one of"):
        A2CConfig(history_input="everything")
    with pytest.raises(ValueError, match="a2c setting terminal_value must be one of 'zero', 'bootstrap'"):
        A2CConfig(terminal_value="one")
    with pytest.raises(ValueError, match="policy_head_init"):
        A2CConfig(policy_head_init="big")


def test_small_policy_head_starts_uniform():
    model = A2CModel(16, 8, policy_head_init="small")
    assert model.policy_head.weight.abs().max() < 0.05 and model.policy_head.bias.abs().max() == 0


@pytest.mark.parametrize("overrides", [{}, {"history_input": "observation_action_reward"},
                                       {"terminal_value": "bootstrap"}, {"policy_head_init": "small"},
                                       {"td_lambda": 0.5}])
def test_every_alternative_trains(overrides):
    config, settings = ALGORITHM.make_run("test", 1, overrides)
    trainer = A2CTrainer(config, settings, pool_mode=STEP1.pool_mode, num_learners=STEP1.num_learners, seed=0)
    metrics = trainer.train_unit(0)
    assert all(torch.isfinite(torch.tensor(value)) for value in metrics.values())


def test_a_config_saved_before_the_new_settings_loads_as_it_ran():
    saved = {"hidden_size": 16, "gae_lambda": 0.95}
    config = A2CConfig.from_saved(saved)
    assert config.history_input == "observation_action_reward" and config.td_lambda == 0.95
    assert A2CConfig.from_saved({**saved, "history_input": "observation"}).history_input == "observation"
    # A config.json written before run settings had their own key: they are read from "hyperparameters".
    config, settings = ALGORITHM.saved_run({"hyperparameters": {**saved, "num_rounds": 7, "pool": "pure"}})
    assert config.terminal_value == "zero" and (settings.num_rounds, settings.pool) == (7, "pure")


def test_centring_per_kind_subtracts_each_groups_mean():
    advantages = torch.tensor([[1.0, 2.0, 10.0], [3.0, 4.0, 20.0]])
    vs_learner = torch.tensor([True, True, False])
    centred = centre_per_kind(advantages, vs_learner)
    assert centred.tolist() == [[-1.5, -0.5, -5.0], [0.5, 1.5, 5.0]]  # means 2.5 (learners), 15 (others)
    # Only one kind in the batch: the empty group subtracts nothing.
    assert centre_per_kind(advantages, torch.zeros(3, dtype=torch.bool)).sum().item() == pytest.approx(0.0, abs=1e-5)
