"""Smoke test of examples/round_robin.py: tiny settings, numbers checked by hand."""
import importlib.util
import sys

import pytest

from helpers import ROOT, load_script

EXAMPLE = ROOT / "examples" / "round_robin.py"


@pytest.fixture(scope="module")
def round_robin():
    yield load_script(EXAMPLE, "round_robin_example")
    sys.modules.pop("round_robin_example", None)


def by_names(results):
    return {result.names: result for result in results}


def test_table_numbers_by_hand(round_robin, tmp_path, capsys):
    plot = tmp_path / "heatmap.png"
    arguments = ["--episodes", "3", "--rounds", "5", "--players", "allc,alld,tft,grim", "--seed", "1"]
    results = by_names(round_robin.main(arguments + ["--plot", str(plot)]))
    printed = capsys.readouterr().out
    assert len(results) == 10  # 4 players: 6 pairs + 4 self-pairings

    # AllC vs AllD: sucker -1 and temptation 2 every round, simulated and exact.
    allc_alld = results[("allc", "alld")]
    assert allc_alld.simulated_rewards == (-1.0, 2.0)
    assert allc_alld.exact_rewards == pytest.approx((-1.0, 2.0))
    assert "| allc | alld | -1.000 ± 0.000 / 2.000 ± 0.000 | -1.000 / 2.000 | 1.00 / 0.00 | 1.00 / 0.00 |" in printed
    # TFT vs AllD over 5 rounds: (C, D) then (D, D) x 4: TFT -1/5, AllD 2/5; TFT cooperates 1/5.
    tft_alld = results[("alld", "tft")]
    assert tft_alld.simulated_rewards == pytest.approx((0.4, -0.2))
    assert tft_alld.exact_rewards == pytest.approx((0.4, -0.2))
    assert tft_alld.exact_cooperation == pytest.approx((0.0, 0.2))
    # Grim is simulated only and behaves like TFT against AllD.
    grim_alld = results[("alld", "grim")]
    assert grim_alld.simulated_rewards == pytest.approx((0.4, -0.2)) and grim_alld.exact_rewards is None
    assert "| alld | grim | 0.400 ± 0.000 / -0.200 ± 0.000 | - |" in printed
    assert results[("tft", "grim")].simulated_rewards == (1.0, 1.0)
    if importlib.util.find_spec("matplotlib"):
        assert plot.stat().st_size > 10_000 and f"heatmaps saved to {plot}" in printed
    else:  # without the [plot] extra the table still prints, and the output says how to get the heatmap
        assert not plot.exists() and "--plot needs matplotlib: pip install 'ipd-env[plot]'" in printed


def test_axelrod_payoffs_given_as_numbers(round_robin, capsys):
    results = by_names(round_robin.main(["--episodes", "1", "--rounds", "4", "--players", "allc,alld",
                                         "--payoffs", "3,0,5,1"]))
    assert results[("allc", "alld")].simulated_rewards == (0.0, 5.0)
    assert results[("alld", "alld")].exact_rewards == pytest.approx((1.0, 1.0))


def test_same_seed_same_table(round_robin):
    def play(seed):
        results = round_robin.round_robin(["random", "extort2"], episodes=4, rounds=20, seed=seed)
        return [result.simulated_rewards for result in results]

    assert play(5) == play(5)
    assert play(5) != play(6)


def test_bad_arguments_are_refused(round_robin, capsys):
    with pytest.raises(SystemExit):
        round_robin.parse_arguments(["--episodes", "0"])
    assert "--episodes must be a positive integer, got 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown co-player 'nobody'; the zoo has"):
        round_robin.round_robin(["tft", "nobody"], episodes=1, rounds=2)


def test_a_game_without_gtft_is_reported_not_crashed(round_robin):
    # (R, S, T, P) = (3, 5, 0, 1) is no prisoner's dilemma: GTFT's generosity is undefined.
    with pytest.raises(SystemExit,
                       match=r"round_robin.py: error: GTFT's generosity is defined for a prisoner's dilemma"):
        round_robin.main(["--episodes", "1", "--rounds", "2", "--players", "tft,gtft", "--payoffs", "3,5,0,1"])
