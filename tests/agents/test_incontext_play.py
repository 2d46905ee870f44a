"""The in-context gain of players that actually play in the batched env (not computed exactly)."""
import numpy as np
import pytest
import torch

from agents.pool import play_match
from baselines.incontext import evaluation_set, gain_report, oracle_values
from baselines.tabular import MemoryOnePlayer

REPEATS = 32  # episodes per co-player: the mean reward of 8,192 games has a standard error ~0.002


def played_rewards(reply_rows: torch.Tensor, coplayers: torch.Tensor, seed: int = 0) -> np.ndarray:
    """``[N]`` mean per-round reward of ``reply_rows[i]`` against ``coplayers[i]`` over REPEATS episodes."""
    count = coplayers.shape[0]
    player = MemoryOnePlayer(reply_rows.repeat(REPEATS, 1), name="reply")
    coplayer = MemoryOnePlayer(coplayers.repeat(REPEATS, 1), name="pool")
    result = play_match(player, coplayer, count * REPEATS, torch.Generator().manual_seed(seed))
    per_game = result["rewards"][0].double().mean(dim=0)  # [REPEATS * N]
    return per_game.reshape(REPEATS, count).mean(dim=0).numpy()


@pytest.mark.parametrize("pool", ["uniform", "sharpened:3"])
def test_a_player_playing_each_coplayers_oracle_reply_in_the_env_earns_gain_fraction_one(pool):
    coplayers = evaluation_set(pool, size=256, seed=0)
    oracle = oracle_values(coplayers)
    replies = torch.as_tensor(oracle["oracle_policy"], dtype=torch.float32)
    report = gain_report(played_rewards(replies, coplayers), oracle)
    # The prize is ~0.05 (uniform) or ~0.2 (sharpened) per round; sampling error in the
    # gain fraction is ~0.03 and ~0.01: 0.15 is about five standard errors.
    assert report["gain_fraction"] == pytest.approx(1.0, abs=0.15)
    always_defect = gain_report(played_rewards(torch.zeros_like(coplayers), coplayers, seed=1), oracle)
    assert always_defect["gain_fraction"] == pytest.approx(0.0, abs=0.15)
