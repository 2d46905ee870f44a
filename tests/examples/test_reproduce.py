"""Smoke test of examples/reproduce.py (``ipd-coop reproduce`` with one thread) with the tiny test-only preset."""
import importlib.util
import json

import pytest

from helpers import ROOT, load_script

EXAMPLE = ROOT / "examples" / "reproduce.py"


def load_example():
    return load_script(EXAMPLE, "reproduce_example")


def test_reproduce_step1_writes_summary_and_plots(tmp_path, capsys):
    out = tmp_path / "step1"
    status = load_example().main(["step1", "--algo", "a2c", "--preset", "test", "--seeds", "2", "--out", str(out),
                                  "--quiet", "--set", "num_iterations=2"])
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [0, 1] and summary["preset"] == "test"
    printed = capsys.readouterr().out
    if importlib.util.find_spec("matplotlib"):
        assert (out / "plots" / "within_episode_step1.png").is_file()
    else:  # without the [plot] extra the summary still lands, without plots
        assert not (out / "plots").exists()
    assert "| step1 | vs alld (evaluation) |" in printed and "summary.json" in printed


def test_reproduce_unknown_experiment_exits_with_the_known_names(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        load_example().main(["fig7", "--out", str(tmp_path / "x"), "--preset", "test"])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("ipd-coop reproduce: error: ") and all(
        name in error for name in ("fig1", "step1", "step2", "step3"))
    assert not (tmp_path / "x").exists()
