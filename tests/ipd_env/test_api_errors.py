"""Issue 19.1: each misuse of the env's API is one clear error naming the argument at fault.

Before: a bfloat16 env rounded a payoff of 1.001 to 1.0 silently, a pool accepted 0 games,
a memory-1 player acted before ``reset``, ``make_player(None)`` raised ``AttributeError``,
an observation index of 7 raised torch's raw ``IndexError``, five strings as probabilities
raised numpy's "could not convert string to float", ``IPDVectorEnv(10**12)`` ended in an
allocator traceback, and ``device="cuda"`` without CUDA in torch's ``AssertionError``.
"""
import pytest
import torch

from baselines.tabular import make_player
from ipd_env.memory_one import MemoryOnePlayer, UniformMemoryOnePool
from ipd_env.vector import IPDVectorEnv


def test_bfloat16_env_refuses_to_round_a_payoff():
    # bfloat16 keeps 8 bits of mantissa: 1.001 becomes 1.0, a change of 1e-3.
    with pytest.raises(ValueError, match=r"payoffs .*bfloat16 rounds the payoff 1\.001 to 1\.0"):
        IPDVectorEnv(2, payoffs=(1.001, -1.0, 2.0, 0.0), dtype=torch.bfloat16)


def test_bfloat16_env_keeps_payoffs_it_represents_exactly():
    env = IPDVectorEnv(2, payoffs=(1.0, -1.0, 2.0, 0.0), dtype=torch.bfloat16)
    env.reset()
    _, rewards = env.step_indices(torch.tensor([[0, 1], [0, 0]]))
    assert rewards.tolist() == [[1.0, 2.0], [1.0, -1.0]]  # CC pays R = 1 each; DC pays T = 2 and S = -1


def test_pool_refuses_zero_games():
    with pytest.raises(ValueError, match="num_games must be a positive integer, got 0"):
        UniformMemoryOnePool().reset(0)


def test_memory_one_player_refuses_to_act_before_reset():
    player = MemoryOnePlayer([0.5] * 5, name="half")
    with pytest.raises(RuntimeError, match=r"half: act\(\) called before reset\(num_games\)"):
        player.act(torch.zeros(3, dtype=torch.int64), torch.zeros(3))


@pytest.mark.parametrize("probabilities", [[0.5] * 5, [[0.5] * 5] * 2], ids=["one policy", "a batch"])
def test_observation_index_out_of_range_is_named(probabilities):
    player = MemoryOnePlayer(probabilities)
    player.reset(2)
    with pytest.raises(ValueError, match=r"observation indices must lie in 0..4 .* got 7"):
        player.act(torch.tensor([0, 7]), torch.zeros(2))


def test_probabilities_that_are_not_numbers_name_the_parameter():
    with pytest.raises(TypeError, match="cooperation_probabilities must be numbers in \\[0, 1\\]; entry 'a'"):
        MemoryOnePlayer(["a"] * 5)


def test_make_player_of_none_names_the_argument():
    with pytest.raises(TypeError, match="name must be a string, one of allc, alld, tft"):
        make_player(None)


def test_vector_env_too_large_is_refused_before_allocating():
    # 10**12 games x 40 bytes = 40 TB, more than any machine running these tests has.
    with pytest.raises(ValueError, match=r"num_games=1000000000000 needs at least 40\.0 TB, but .* available on cpu"):
        IPDVectorEnv(10**12)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_device_without_cuda_is_the_package_message():
    with pytest.raises(ValueError, match="device 'cuda': torch sees no CUDA GPU here; use device='cpu'"):
        IPDVectorEnv(2, device="cuda")


def test_a_co_player_factory_with_the_wrong_signature_is_named():
    from ipd_env.player import check_player_factory

    def factory(generator):
        return MemoryOnePlayer([1.0] * 5)

    assert check_player_factory(factory) is factory
    with pytest.raises(TypeError, match=r"co_player: a co-player factory is called as factory\(generator\) .* "
                                        r"'<lambda>' has the signature \(\)"):
        check_player_factory(lambda: None)
    with pytest.raises(TypeError, match=r"has the signature \(generator, payoffs\)"):
        check_player_factory(lambda generator, payoffs: None)
    with pytest.raises(TypeError, match="co_player must be a callable generator -> player, got 3"):
        check_player_factory(3)
