"""A run whose losses or weights stop being finite stops in that unit, says what to lower, and keeps its
last good checkpoint."""
import math

import pytest
import torch

from agents import a2c
from agents.harness.checkpoint import history_rows, load_checkpoint, read_metrics
from agents.harness.cli import main
from agents.harness.runner import run_unit, unit_dir
from agents.settings import NonFiniteTrainingError, first_non_finite


def test_a2c_with_a_huge_learning_rate_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    # Iteration 1 is finite (Adam moves each weight by about the learning rate: 1e30);
    # iteration 2's forward pass on those weights gives a NaN policy loss.
    overrides = {"learning_rate": 1e30, "num_iterations": 5, "checkpoint_every": 1}
    with pytest.raises(NonFiniteTrainingError) as caught:
        run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides=overrides, progress=False)
    directory = unit_dir(tmp_path, "step1", 0)
    last = directory / "checkpoints" / "last.pt"
    assert str(caught.value) == (
        f"{directory}: training diverged in iteration 2 (1-based): loss/policy is nan; lower learning_rate "
        f"(now 1e+30) or reward_scale (now 0.2) or entropy_coef (now 0.001) or value_coef (now 0.5) and train "
        f"again into a new output folder; the last good checkpoint, {last} (1 iterations), was kept")
    assert caught.value.unit == 1 and isinstance(caught.value, ValueError)
    state = load_checkpoint(last)
    assert len(history_rows(state["history"])) == 1 and first_non_finite(state) is None
    assert len(read_metrics(directory / "metrics.csv")) == 1  # the diverged iteration wrote no row
    assert not (directory / "checkpoints" / "final.pt").exists() and not (directory / "eval.json").exists()
    # The kept checkpoint loads into a trainer (what --resume and evaluate do) with finite weights.
    config, settings = a2c.ALGORITHM.saved_run(state["config"])
    trainer = a2c.A2CTrainer(config, settings, pool_mode="tabular-only", num_learners=1, seed=0)
    trainer.load_state_dict(state["trainer"])
    assert first_non_finite(trainer.state_dict()) is None


def test_an_optimiser_step_beyond_float32_is_the_same_stop(tmp_path):
    # Adam's first step is learning_rate / (1 - 0.9): 3e38 / 0.1 overflows float32 inside torch.
    with pytest.raises(NonFiniteTrainingError, match=r"diverged in iteration 1 \(1-based\): an optimiser step "
                                                     r"overflowed float32; lower learning_rate \(now 3e\+38\).*"
                                                     r"no checkpoint had been written yet$"):
        run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides={"learning_rate": 3e38}, progress=False)
    assert not (unit_dir(tmp_path, "step1", 0) / "checkpoints").exists()


def test_ppi_with_a_huge_learning_rate_stops_before_playing_the_diverged_model(tmp_path):
    with pytest.raises(NonFiniteTrainingError) as caught:
        run_unit("ppi", "step1", "step1", 0, "test", tmp_path, overrides={"learning_rate": 1e30}, progress=False)
    message = str(caught.value)
    assert "training diverged in phase 1 (1-based): learner 0's model fit: loss/" in message
    assert message.endswith("is nan; lower learning_rate (now 1e+30) or weight_decay (now 0.01) and train again "
                            "into a new output folder; no checkpoint had been written yet")
    directory = unit_dir(tmp_path, "step1", 0)
    assert not (directory / "checkpoints").exists()
    assert sorted(path.name for path in (directory / "data" / "learner_0").iterdir()) == ["phase_000.npz"]


def test_the_cli_reports_the_stop_in_one_line_with_exit_2(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as caught:
        main(["reproduce", "step1", "--algo", "a2c", "--preset", "test", "--seeds", "1", "--out", str(out), "--quiet",
              "--set", "learning_rate=1e30", "--set", "checkpoint_every=1"])
    assert caught.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipd-coop reproduce: error: ")
    assert "training diverged in iteration 2 (1-based)" in lines[0] and "lower learning_rate (now 1e+30)" in lines[0]


def test_first_non_finite_names_the_path_in_a_nested_state():
    state = {"models": [{"w": torch.zeros(3)}, {"w": torch.tensor([0.0, math.inf])}], "step": 3,
             "generator": torch.zeros(4, dtype=torch.uint8), "history": [{"loss": 0.5}]}
    assert first_non_finite(state) == "models.1.w"
    assert first_non_finite({"history": [{"loss": math.nan}]}) == "history.0.loss"
    assert first_non_finite({"models": [{"w": torch.ones(2)}]}) is None
