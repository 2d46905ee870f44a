"""The SB3 helpers run with a given number of torch threads and restore torch's setting afterwards."""
import re

import pytest
import torch

pytest.importorskip("sb3_contrib", reason="needs the [sb3] extra: pip install -e '.[sb3]'")

from baselines.sb3 import torch_threads, train_recurrent_ppo, train_shared_ppo


def test_torch_threads_sets_then_restores_and_none_changes_nothing():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_counts_are_rejected_before_training(threads):
    with pytest.raises(ValueError, match=re.escape(f"threads must be a positive integer or None, got {threads!r}")):
        train_recurrent_ppo(100, threads=threads)
    with pytest.raises(ValueError, match="threads must be a positive integer or None"):
        train_shared_ppo(100, threads=threads)


def test_training_leaves_torch_threads_as_it_found_them():
    before = torch.get_num_threads()
    seen = []  # the thread count while SB3 trains
    original_learn = train_recurrent_ppo.__globals__["sb3_contrib"].RecurrentPPO.learn

    def learn(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original_learn(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_recurrent_ppo.__globals__["sb3_contrib"].RecurrentPPO, "learn", learn)
        train_recurrent_ppo(100, co_player="allc", num_envs=1, n_steps=50, batch_size=50, n_epochs=1, threads=1)
    assert seen == [1] and torch.get_num_threads() == before
