"""The paper's curves as read off its figures: shape, provenance, look-up and interpolation."""
import re

import numpy as np
import pytest

from agents.harness.experiments import EXPERIMENTS
from agents.harness.paper_reference import (
    PAPER_LENGTHS,
    QUANTITY_RANGE,
    describe_progress,
    metric_pairing,
    paper_curve,
    paper_episode_curve,
    paper_length,
    paper_metric_curve,
    paper_value_at,
    paper_x,
    value_at,
)
from agents.harness.paper_reference_data import EPISODE, TRAINING

PANEL = re.compile(r"^Fig\. [1-4][A-F]$")


def experiment_of(condition):
    return next(name for name, experiment in EXPERIMENTS.items() if condition in experiment.condition_names)


def all_curves():
    for algo, condition, pairing, quantity in TRAINING:
        yield paper_curve(algo, experiment_of(condition), condition, pairing, quantity)
    for algo, condition, opponent, quantity in EPISODE:
        yield paper_episode_curve(algo, experiment_of(condition), condition, opponent, quantity)


@pytest.mark.parametrize("curve", list(all_curves()), ids=lambda curve: "/".join(curve.key) + f"@{curve.x_unit}")
def test_every_curve_cites_a_panel_and_is_well_formed(curve):
    algo, condition, _, quantity = curve.key
    assert PANEL.match(curve.source), curve.source
    assert curve.x.ndim == 1 and curve.x.shape == curve.y.shape == curve.low.shape == curve.high.shape
    assert len(curve.x) >= 2 and np.all(np.diff(curve.x) > 0)
    bottom, top = QUANTITY_RANGE[quantity]
    assert np.all((curve.y >= bottom) & (curve.y <= top))
    assert np.all(curve.half_width > 0) and np.all(curve.low <= curve.y) and np.all(curve.y <= curve.high)
    if curve.x_unit == "round":
        assert curve.x[0] >= 1 and curve.x[-1] == 100
        assert curve.at is None or 0 < curve.at <= paper_length(algo, condition)[0]
    else:  # the training curves span the paper's whole axis (A2C from step 0, PPI from phase 1)
        length, unit = paper_length(algo, condition)
        assert curve.x_unit == unit and curve.x[-1] == length and curve.x[0] in (0, 1)


def test_the_panels_the_issue_asks_for_are_all_there():
    panels = {panel for panel, _ in TRAINING.values()} | {panel for panel, _, _ in EPISODE.values()}
    assert {"Fig. 1A", "Fig. 1B", "Fig. 2A", "Fig. 2B", "Fig. 2C", "Fig. 2D", "Fig. 2E", "Fig. 2F", "Fig. 3A",
            "Fig. 3B", "Fig. 4A", "Fig. 4B", "Fig. 4C", "Fig. 4D", "Fig. 4E", "Fig. 4F"} <= panels
    for algo in ("a2c", "ppi"):
        for condition in ("mixed", "opponent-id", "no-tabular", "step3"):
            for quantity in ("reward", "cooperation"):
                assert (algo, condition, "learner", quantity) in TRAINING
        for quantity in ("reward", "cooperation"):
            assert (algo, "mixed", "tabular", quantity) in TRAINING
            assert (algo, "step1", "tabular", quantity) in TRAINING
            assert (algo, "step2", "frozen", quantity) in TRAINING


def test_spec_6b_readings():
    """Numbers SPEC 6b states, held by the data: a reader can check each against the figure."""
    # A2C Step 1 (Fig. 4A): collapse to <= 0.01 at once, ~0.02-0.04 by 5k, ~0.04-0.05 at 50k; pool reward 1.03.
    assert paper_value_at("a2c", "step1", "step1", "tabular", "cooperation", 500).value <= 0.01
    assert 0.02 <= paper_value_at("a2c", "step1", "step1", "tabular", "cooperation", 5000).value <= 0.04
    assert paper_value_at("a2c", "step1", "step1", "tabular", "reward", 50000).value == pytest.approx(1.03)
    # A2C Step 2 (Fig. 4C): extorter 1.32, Fixed-ICL -0.05 at the end.
    assert paper_value_at("a2c", "step2", "step2", "frozen", "reward", 100000).value == pytest.approx(1.32)
    assert paper_value_at("a2c", "step2", "step2", "frozen", "co_player_reward", 100000).value == pytest.approx(-0.05)
    # A2C Fig. 1B: ~0.95 cooperation between the learners from 100k.
    assert paper_value_at("a2c", "fig1", "mixed", "learner", "cooperation", 150000).value == pytest.approx(0.96)
    # PPI Step 3 (Fig. 2E): 0.13-0.14 -> ~0.9 by phase 8.
    assert paper_value_at("ppi", "step3", "step3", "learner", "cooperation", 8).value == pytest.approx(0.9)
    # The Fixed-ICL within the episode (Fig. 4B): defects against AllC, cooperates fully with TFT by round 20.
    assert paper_episode_curve("a2c", "step1", "step1", "allc", "reward").y.tolist() == [2.0, 2.0, 2.0]
    assert value_at(paper_episode_curve("a2c", "step1", "step1", "tft", "cooperation"), 20).value == 1.0


def test_reward_against_alld_is_minus_cooperation():
    for algo, condition in (("a2c", "step1"), ("ppi", "step1"), ("ppi", "mixed")):
        cooperation = paper_episode_curve(algo, experiment_of(condition), condition, "alld", "cooperation")
        reward = paper_episode_curve(algo, experiment_of(condition), condition, "alld", "reward")
        assert np.array_equal(reward.x, cooperation.x) and np.array_equal(reward.y, -cooperation.y)


def test_interpolation_and_the_ends_of_the_axis():
    # Fig. 4A cooperation: (2500, 0.025), (5000, 0.03); half-width 0.01 at both.
    middle = paper_value_at("a2c", "step1", "step1", "tabular", "cooperation", 3750)
    assert middle.value == pytest.approx(0.0275) and middle.low == pytest.approx(0.0175)
    assert middle.high == pytest.approx(0.0375) and middle.source == "Fig. 4A"
    assert paper_value_at("a2c", "step1", "step1", "tabular", "cooperation", 50001) is None
    assert paper_value_at("ppi", "step1", "step1", "tabular", "cooperation", 0) is None  # PPI starts at phase 1
    assert paper_value_at("a2c", "step1", "step1", "learner", "cooperation", 10) is None  # no such curve


def test_bands_are_clipped_to_the_quantity_range():
    curve = paper_curve("a2c", "fig1", "opponent-id", "learner", "cooperation")
    assert curve.low.min() == 0.0 and curve.y[-1] == 0.0 and curve.high[-1] == pytest.approx(0.02)


def test_lengths_and_progress_on_the_papers_axis():
    assert paper_length("a2c", "mixed") == (200_000, "iteration")
    assert [paper_length("a2c", name)[0] for name in ("step1", "step2", "step3")] == [50_000, 100_000, 10_000]
    assert {paper_length("ppi", name) for name in PAPER_LENGTHS["ppi"]} == {(30, "phase")}
    assert paper_x("a2c", "step1", 250, {"updates_per_iteration": 4}) == 1000
    assert paper_x("a2c", "mixed", 250, {"updates_per_iteration": 4}) == 250  # Fig. 1 counts iterations
    assert describe_progress("a2c", "step1", 250) == "250 of the paper's 50,000 gradient steps (0.5%)"
    assert describe_progress("ppi", "step3", 6) == "6 of the paper's 30 phases (20.0%)"
    assert describe_progress("a2c", "mixed", 50) == "50 of the paper's 200,000 iterations (0.025%)"


def test_our_metric_names_map_onto_the_papers_curves():
    assert metric_pairing("learner_vs_tabular/cooperation") == ("tabular", "cooperation")
    assert metric_pairing("learner_vs_frozen/co_player_reward") == ("frozen", "co_player_reward")
    assert metric_pairing("eval/pool/reward") == ("tabular", "reward")
    assert metric_pairing("eval/tft/late_cooperation") is None and metric_pairing("loss/policy") is None
    assert paper_metric_curve("a2c", "step1", "step1", "eval/pool/cooperation").source == "Fig. 4A"
    assert paper_metric_curve("a2c", "step1", "step1", "loss/value") is None


@pytest.mark.parametrize("arguments, message", [
    (("sac", "step1", "step1", "tabular", "reward"), "unknown algorithm 'sac'"),
    (("a2c", "fig9", "step1", "tabular", "reward"), "unknown experiment 'fig9'"),
    (("a2c", "step1", "step2", "tabular", "reward"), "experiment 'step1' has no condition 'step2'"),
    (("a2c", "step1", "step1", "pool", "reward"), "unknown pairing 'pool'"),
    (("a2c", "step1", "step1", "tabular", "score"), "unknown quantity 'score'"),
    (("a2c", "step1", "step1", "learner", "reward"), "the paper has no a2c training curve for step1 learner/reward"),
])
def test_unknown_names_are_one_line_errors(arguments, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        paper_curve(*arguments)


def test_episode_curve_errors_and_labels():
    with pytest.raises(ValueError, match="unknown opponent 'wsls'"):
        paper_episode_curve("a2c", "step1", "step1", "wsls", "cooperation")
    assert paper_episode_curve("a2c", "step1", "step1", "learner", "reward", missing_ok=True) is None
    assert paper_curve("a2c", "step1", "step1", "tabular", "reward").label() == "paper (read off Fig. 4A)"
    assert (paper_episode_curve("a2c", "step1", "step1", "tft", "cooperation").label("gradient step")
            == "paper, at 50,000 gradient steps (read off Fig. 4B)")
    assert (paper_episode_curve("ppi", "step3", "step3", "learner", "cooperation").label("phase")
            == "paper, before training (read off Fig. 2F)")


# ---------------------------------------------------------------------------- in our plots and summaries
@pytest.fixture(scope="module")
def step1_run(tmp_path_factory):
    """A two-seed Step-1 experiment folder at the ``test`` preset (3 iterations, seconds)."""
    from agents.harness.runner import run_unit

    out = tmp_path_factory.mktemp("paper_step1")
    for seed in (0, 1):
        run_unit("a2c", "step1", "step1", seed, "test", out, progress=False)
    return out


def test_summary_md_has_the_papers_column_and_progress(step1_run):
    from agents.harness.summary import aggregate

    summary = aggregate(step1_run, plots=False)
    paper = summary["conditions"]["step1"]["paper"]
    assert (paper["x"], paper["length"], paper["unit"]) == (3, 50_000, "gradient step")
    table = (step1_run / "summary.md").read_text()
    assert "- step1: 3 of the paper's 50,000 gradient steps (0.006%)" in table
    assert ("| condition | pairing | reward / round | cooperation | IQM [95% CI] over seeds (reward; cooperation) "
            "| paper at this point of training") in table
    # 3 steps in, the paper has not logged anything yet: its first point after step 0 is at 500.
    assert "| step1 | learner vs tabular (training, end) |" in table
    assert table.count("before Fig. 4A's first logged point (500)") == 2  # training row and pool-set row


def test_paper_column_interpolates_on_the_papers_axis():
    from agents.harness.summary import _paper_at_end, format_summary

    # 1,250 iterations x 2 updates = 2,500 gradient steps: Fig. 4A reads (2500, 1.02) and (2500, 0.025).
    paper = _paper_at_end("a2c", "step1", "step1", 1250, {"updates_per_iteration": 2},
                          ["learner_vs_tabular/reward", "learner_vs_tabular/cooperation", "loss/policy"])
    assert paper["progress"] == "2,500 of the paper's 50,000 gradient steps (5.0%)"
    assert set(paper["at_end"]) == {"learner_vs_tabular/reward", "learner_vs_tabular/cooperation"}
    assert paper["at_end"]["learner_vs_tabular/cooperation"]["value"] == pytest.approx(0.025)
    entry = {"mean": 1.0, "std": 0.0, "values": [1.0]}
    summary = {"experiment": "step1", "algo": "a2c", "preset": "cpu", "seeds": [0], "conditions": {"step1": {
        "training": {"learner_vs_tabular/reward": entry, "learner_vs_tabular/cooperation": entry},
        "evaluation": {}, "paper": paper}}}
    row = next(line for line in format_summary(summary).splitlines() if line.startswith("| step1 |"))
    assert row.endswith("| 1.020 [1.000, 1.040] (Fig. 4A); 0.025 [0.015, 0.035] (Fig. 4A) |")


def test_plots_draw_the_papers_band_and_where_our_run_ends(step1_run, monkeypatch):
    pytest.importorskip("matplotlib", reason="plots need the [plot] extra: pip install -e '.[plot]'")
    from agents.harness import plots
    from agents.harness.summary import load_runs, summarise

    figures = {}
    monkeypatch.setattr(plots, "_save", lambda plt, figure, path, dpi: figures.setdefault(path.name, figure) and path)
    plots.plot_experiment(step1_run, load_runs(step1_run), summarise(step1_run))

    def labels(figure):
        return {artist.get_label() for axis in figure.axes for artist in axis.collections + axis.lines}

    training = labels(figures["training_curves.png"])
    assert "paper (read off Fig. 4A)" in training
    assert "our step1 ends: 3 of the paper's 50,000 gradient steps (0.006%)" in training
    assert figures["training_curves.png"].axes[0].get_xscale() == "symlog"  # ours and the paper's on one axis
    assert "TFT: paper, at 50,000 gradient steps (read off Fig. 4B)" in labels(figures["within_episode_step1.png"])
    in_training = labels(figures["in_training.png"])
    assert "paper (read off Fig. 4A)" in in_training
    assert "AllD: paper, at 50,000 gradient steps (read off Fig. 4B)" in in_training
