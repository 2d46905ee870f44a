"""ipd_env stands alone: the memory-1 player and pools live in it, named co-players come by entry point."""
import subprocess
import sys

import pytest

import baselines.tabular
import ipd_env
from ipd_env import memory_one
from ipd_env.single_agent import IPDvsCoPlayerEnv


def test_the_envs_import_nothing_from_baselines():
    code = ("import sys, ipd_env.single_agent, ipd_env.single_agent_vector, ipd_env.memory_one; "
            "print(sorted(name for name in sys.modules if name.split('.')[0] in ('baselines', 'agents')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_baselines_and_the_package_re_export_the_same_objects():
    for name in ("MemoryOnePlayer", "MemoryOnePool", "UniformMemoryOnePool", "sample_memory_one", "opponent_id"):
        assert getattr(baselines.tabular, name) is getattr(memory_one, name)
    assert ipd_env.MemoryOnePlayer is memory_one.MemoryOnePlayer
    assert ipd_env.UniformMemoryOnePool is memory_one.UniformMemoryOnePool


def test_the_installed_entry_point_resolves_the_zoo():
    tft = memory_one.named_co_player("Tit-For-Tat")
    assert tft.cooperation_probabilities.tolist() == [1, 1, 0, 1, 0]
    assert type(memory_one.named_co_player("grim")) is baselines.tabular.GrimTrigger
    with pytest.raises(ValueError, match=r"unknown co-player 'foo'; the zoo has: allc, alld, tft"):
        memory_one.named_co_player("foo")


def test_without_installed_makers_a_name_fails_clearly(monkeypatch):
    monkeypatch.setattr(memory_one, "_co_player_makers", [])
    with pytest.raises(ValueError, match=r"unknown co-player 'tft': no named co-players are installed"):
        IPDvsCoPlayerEnv(co_player="tft")
    IPDvsCoPlayerEnv(co_player="pool").reset(seed=0)  # the pool and probability vectors need no maker
    IPDvsCoPlayerEnv(co_player=[1, 1, 0, 1, 0]).reset(seed=0)


def test_makers_are_asked_in_turn_until_one_knows_the_name(monkeypatch):
    def extra(name, payoffs):
        if name != "sucker":
            raise ValueError(f"unknown co-player {name!r}; extra has: sucker")
        return memory_one.MemoryOnePlayer([1, 1, 1, 1, 1], name="sucker")

    monkeypatch.setattr(memory_one, "_co_player_makers",
                        [("extra", extra), ("zoo", baselines.tabular.make_player)])
    assert IPDvsCoPlayerEnv(co_player="sucker").reset(seed=0)[1]["co_player"] == "sucker"
    assert IPDvsCoPlayerEnv(co_player="tft").reset(seed=0)[1]["co_player"] == "tft"
    with pytest.raises(ValueError, match=r"extra has: sucker; unknown co-player 'foo'; the zoo has"):
        memory_one.named_co_player("foo")
