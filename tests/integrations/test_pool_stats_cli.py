"""``ipd-coop pool-stats``: the in-context prize of a pool, as a table or JSON, and its errors."""
import json

import pytest

from agents.harness.cli import main
from baselines.incontext import pool_stats


def run(capsys, *argv):
    status = main(list(argv))
    return status, capsys.readouterr().out


def fails(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_pool_stats_prints_the_prize_table_of_the_exact_evaluator(capsys):
    status, out = run(capsys, "pool-stats", "uniform", "--size", "256", "--seed", "3")
    assert status == 0
    stats = pool_stats("uniform", size=256, seed=3)
    lines = out.splitlines()
    assert lines[0] == "pool uniform: 256 co-players (seed 3), 100 rounds, payoffs paper; exact expected rewards"
    assert f"| always defect (AllD) | {stats['alld_reward']:.3f} |" in lines
    assert f"| oracle: best memory-1 reply, chosen per co-player | {stats['oracle_reward']:.3f} |" in lines
    assert f"| TFT | {stats['reference_rewards']['tft']:.3f} |" in lines
    assert lines[-1].startswith(f"prize (oracle - AllD): {stats['prize']:.3f} per round; knowing the co-player "
                                f"pays more than 0.05 per round against {stats['share_paying']:.1%} of co-players")


def test_pool_stats_json_goes_to_stdout_alone_or_to_a_file_beside_the_table(capsys, tmp_path):
    status, out = run(capsys, "pool-stats", "Sharpened:3", "--rounds", "20", "--size", "64", "--json")
    assert status == 0
    printed = json.loads(out)
    assert printed == pool_stats("sharpened:3", num_rounds=20, size=64)
    assert printed["pool"] == "sharpened:3" and printed["num_rounds"] == 20
    path = tmp_path / "stats.json"
    status, out = run(capsys, "pool-stats", "pure", "--size", "64", "--payoffs", "axelrod", "--json", str(path))
    assert status == 0 and out.startswith("pool pure: 64 co-players") and f"json: {path}" in out
    assert json.loads(path.read_text())["payoffs"] == "axelrod"


@pytest.mark.parametrize(
    "argv, message",
    [(["gauss"], "bad pool spec 'gauss': unknown pool family 'gauss'; accepted forms: 'uniform', 'beta:A,B'"),
     (["beta:0.5"], "bad pool spec 'beta:0.5': expected 2 finite number(s) > 0"),
     (["uniform", "--size", "0"], "argument --size: expected a positive integer"),
     (["uniform", "--payoffs", "nope"], "unknown payoff preset 'nope'")],
)
def test_bad_pool_stats_input_is_one_line_and_exit_2(capsys, argv, message):
    error = fails(capsys, "pool-stats", *argv)
    assert error.startswith("ipd-coop pool-stats: error: ") and message in error
    assert error.count("\n") == 1
