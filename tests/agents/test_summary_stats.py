"""Results reported the field's way: the interquartile mean and 95% bootstrap intervals over seeds in
summary.json / summary.md, and TensorBoard scalars against environment steps (said once when missing)."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from agents.harness import runner
from agents.harness.runner import MissingTensorBoardWarning, run_unit, unit_dir
from agents.harness.summary import aggregate, bootstrap_ci95, format_summary, iqm, mean_std


# ------------------------------------------------------------------------------------------ IQM and CIs
def test_iqm_cuts_a_quarter_from_each_end():
    assert iqm([1, 2, 3, 4, 100]) == 3.0  # 5 seeds: one cut from each end, mean of 2, 3, 4
    assert iqm([100, 4, 3, 2, 1]) == 3.0  # order does not matter
    assert iqm([1, 2, 3, 4, 5, 6, 7, 8]) == 4.5  # 8 seeds: two cut each end, mean of 3, 4, 5, 6
    assert iqm([1, 2, 30]) == 11.0  # fewer than 4 seeds: nothing to cut, the mean
    assert iqm([7.5]) == 7.5 and np.isnan(iqm([]))


def test_iqm_is_scipys_trimmed_mean_and_rliables():
    stats = pytest.importorskip("scipy.stats")
    values = [0.3, -1.2, 5.0, 2.2, 0.0, 9.9, -4.0, 1.1, 0.7, 3.3, 2.0]
    assert iqm(values) == pytest.approx(stats.trim_mean(values, 0.25))


def test_bootstrap_intervals_by_hand():
    # Two seeds 0 and 1: a resample's mean is 0, 0.5 or 1 (1/4, 1/2, 1/4): the 95% interval is [0, 1].
    assert bootstrap_ci95([0.0, 1.0]) == {"mean": [0.0, 1.0], "iqm": [0.0, 1.0]}
    assert bootstrap_ci95([2.0, 2.0, 2.0, 2.0]) == {"mean": [2.0, 2.0], "iqm": [2.0, 2.0]}
    assert bootstrap_ci95([3.0]) is None and bootstrap_ci95([]) is None  # one seed: no interval


def test_outlier_seed_moves_the_mean_interval_more_than_the_iqm_one():
    entry = mean_std([1, 2, 3, 4, 100])
    assert (entry["mean"], entry["iqm"]) == (22.0, 3.0)
    (mean_low, mean_high), (iqm_low, iqm_high) = entry["ci95"]["mean"], entry["ci95"]["iqm"]
    assert 1 <= mean_low <= entry["mean"] <= mean_high <= 100 and 1 <= iqm_low <= 3.0 <= iqm_high <= 100
    assert mean_high > 60 and iqm_low < mean_low  # the outlier drags the mean's interval, not the IQM's floor


def test_the_mean_interval_matches_the_normal_approximation_for_many_seeds():
    values = np.sin(np.arange(1, 201) * 0.7) + 2.0  # 200 spread "seeds", deterministic
    low, high = bootstrap_ci95(values)["mean"]
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert low == pytest.approx(values.mean() - half_width, abs=0.15 * half_width)
    assert high == pytest.approx(values.mean() + half_width, abs=0.15 * half_width)


def test_intervals_are_deterministic():
    values = [0.1, 0.4, 0.35, 0.8, 0.55]
    assert bootstrap_ci95(values) == bootstrap_ci95(values)
    np.random.seed(123)  # the global generator plays no part
    assert mean_std(values) == mean_std(list(values))


def test_summary_md_has_the_iqm_column_before_the_papers():
    entry = {"mean": 22.0, "std": 43.0, "values": [1, 2, 3, 4, 100], "iqm": 3.0,
             "ci95": {"mean": [2.2, 61.0], "iqm": [2.0, 4.0]}}
    single = {"mean": 0.5, "std": 0.0, "values": [0.5], "iqm": 0.5, "ci95": None}
    summary = {"experiment": "step1", "algo": "a2c", "preset": "cpu", "seeds": [0, 1, 2, 3, 4], "conditions": {
        "step1": {"training": {"learner_vs_tabular/reward": entry, "learner_vs_tabular/cooperation": single},
                  "evaluation": {"tft": {"reward": entry}}}}}
    lines = format_summary(summary).splitlines()
    assert ("| condition | pairing | reward / round | cooperation | IQM [95% CI] over seeds (reward; cooperation) "
            "| paper at this point of training (reward; cooperation) |") in lines
    assert ("| step1 | learner vs tabular (training, end) | 22.000 ± 43.000 | 0.500 ± 0.000 | "
            "3.000 [2.000, 4.000]; 0.500 | - |") in lines
    assert "| step1 | vs tft (evaluation) | 22.000 ± 43.000 | - | 3.000 [2.000, 4.000]; - | - |" in lines


@pytest.fixture(scope="module")
def two_seed_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("stats")
    for seed in (0, 1):
        run_unit("a2c", "step1", "step1", seed, "test", out, progress=False, overrides={"num_iterations": 2})
    return out


def test_summary_json_has_iqm_and_ci95_per_metric_and_is_written_the_same_twice(two_seed_folder):
    aggregate(two_seed_folder, plots=False)
    first = (two_seed_folder / "summary.json").read_bytes()
    summary = aggregate(two_seed_folder, plots=False)
    assert (two_seed_folder / "summary.json").read_bytes() == first
    condition = json.loads(first)["conditions"]["step1"]
    entries = [*condition["training"].values(),
               *(entry for opponent in condition["evaluation"].values() for entry in opponent.values())]
    assert len(entries) > 10
    for entry in entries:
        assert entry["iqm"] == pytest.approx(iqm(entry["values"]))
        assert entry["ci95"] == bootstrap_ci95(entry["values"])
        assert set(entry["ci95"]) == {"mean", "iqm"}
    reward = summary["conditions"]["step1"]["training"]["learner_vs_tabular/reward"]
    low, high = reward["ci95"]["iqm"]
    assert f"{reward['iqm']:.3f} [{low:.3f}, {high:.3f}]" in (two_seed_folder / "summary.md").read_text()


# ------------------------------------------------------------------------------ TensorBoard's env steps
def scalars(directory, tag) -> list:
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    accumulator = event_accumulator.EventAccumulator(str(directory))
    accumulator.Reload()
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def test_tensorboard_scalars_also_against_environment_steps(tmp_path):
    pytest.importorskip("torch.utils.tensorboard")
    # fig1 "mixed", test preset: 2 learners x 32 games x 10 rounds = 640 agent-steps per iteration. Stopped
    # after 3 iterations with a checkpoint every 2, resumed: iteration 3 is trained and written again.
    overrides = {"num_iterations": 4, "checkpoint_every": 2}
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path, overrides=overrides, progress=False, stop_after=3)
    run_unit("a2c", "fig1", "mixed", 0, "test", tmp_path, overrides=overrides, progress=False, resume=True)
    tb = unit_dir(tmp_path, "mixed", 0) / "tb"
    by_unit = scalars(tb, "learner_vs_learner/reward")
    by_steps = scalars(tb / "env_steps", "env_steps/learner_vs_learner/reward")
    assert [step for step, _ in by_unit] == [1, 2, 3, 4]
    assert [step for step, _ in by_steps] == [640, 1280, 1920, 2560]  # each once: the resume purged its own
    assert [value for _, value in by_steps] == [value for _, value in by_unit]
    assert [step for step, _ in scalars(tb / "env_steps", "env_steps/eval/pool/gain_fraction")][-1] == 2560


def test_a_missing_tensorboard_is_said_once_in_one_line(tmp_path, monkeypatch, capsys):
    from agents.harness.cli import main

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as if not installed
    monkeypatch.setattr(runner, "_said_no_tensorboard", False)
    assert main(["reproduce", "step1", "--preset", "test", "--seeds", "2", "--set", "num_iterations=1",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "tensorboard" in line]
    assert said == ["ipd-coop reproduce: warning: tensorboard is not installed, so runs write no TensorBoard "
                    "events (tb/); install it with: pip install 'ipd-env[plot]'"]
    assert not (unit_dir(tmp_path / "run", "step1", 1) / "tb").exists()
    monkeypatch.setattr(runner, "_said_no_tensorboard", False)
    with pytest.warns(MissingTensorBoardWarning):
        run_unit("a2c", "step1", "step1", 0, "test", tmp_path / "api", progress=False,
                 overrides={"num_iterations": 1})
