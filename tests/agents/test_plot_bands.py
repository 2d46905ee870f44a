"""The multi-seed training curves draw the interquartile mean over seeds and its 95% stratified-bootstrap
band: at every point, the numbers summary.json reports for one value per seed (iqm, ci95["iqm"])."""
from __future__ import annotations

import numpy as np
import pytest

from agents.harness import plots
from agents.harness.summary import bootstrap_ci95, iqm, iqm_curve_ci95

pytest.importorskip("matplotlib", reason="plots need the [plot] extra: pip install -e '.[plot]'")

KEY = "learner_vs_tabular/reward"
# Five seeds, three units. Unit 1: [1, 2, 3, 4, 100] has IQM 3 (mean of 2, 3, 4), mean 22, std 43.6.
SEED_CURVES = np.array([[1.0, 0.5, 0.2], [2.0, 0.4, 0.3], [3.0, 0.6, 0.1], [4.0, 0.7, 0.4], [100.0, 0.5, 0.9]])


def fake_runs(curves: np.ndarray) -> tuple[dict, dict]:
    """A Step-1 A2C experiment folder as load_runs gives it: one metrics row per unit per seed, nothing else."""
    seeds = {seed: {"metrics": [{"unit": unit, KEY: float(value)} for unit, value in enumerate(curve)],
                    "config": {"hyperparameters": {"updates_per_iteration": 1}}, "eval": None}
             for seed, curve in enumerate(curves)}
    summary = {"experiment": "step1", "algo": "a2c", "preset": "test", "seeds": sorted(seeds),
               "conditions": {"step1": {}}}
    return {"step1": seeds}, summary


def drawn_figure(monkeypatch, tmp_path, curves):
    """The training-curves figure of ``curves`` (``[seeds, units]``), kept open instead of saved."""
    kept = {}

    def keep(plt, figure, path, dpi):
        kept["figure"] = figure
        return path

    monkeypatch.setattr(plots, "_save", keep)
    runs, summary = fake_runs(curves)
    plots.plot_training_curves(tmp_path / "training_curves.png", runs, summary)
    return kept["figure"]


def our_line_and_band(figure):
    """The reward panel's line labelled with the condition and the band in its colour (not the paper's grey)."""
    axis = figure.axes[0]
    line = next(line for line in axis.get_lines() if line.get_label() == "step1")
    bands = bands_in_colour(axis, line)
    assert len(bands) == 1
    return axis, line, bands[0]


def bands_in_colour(axis, line) -> list:
    """The filled areas of ``axis`` in ``line``'s colour (the paper's band is grey, its error bar unfilled)."""
    from matplotlib.colors import to_rgb

    return [collection for collection in axis.collections if len(collection.get_facecolor())
            and np.allclose(collection.get_facecolor()[0][:3], to_rgb(line.get_color()))]


def band_bounds(band, x) -> tuple[np.ndarray, np.ndarray]:
    """The band's lower and upper edge at each of ``x`` (the polygon's lowest and highest vertex there)."""
    vertices = band.get_paths()[0].vertices
    low = [vertices[vertices[:, 0] == value, 1].min() for value in x]
    high = [vertices[vertices[:, 0] == value, 1].max() for value in x]
    return np.array(low), np.array(high)


def test_the_training_curve_is_the_iqm_and_its_band_the_bootstrap_interval(monkeypatch, tmp_path):
    figure = drawn_figure(monkeypatch, tmp_path, SEED_CURVES)
    axis, line, band = our_line_and_band(figure)
    x, y = line.get_xdata(), line.get_ydata()
    assert list(x) == [1.0, 2.0, 3.0]
    assert y[0] == 3.0  # the IQM by hand; the mean would be 22.0
    assert list(y) == [iqm(SEED_CURVES[:, unit]) for unit in range(3)]
    low, high = band_bounds(band, x)
    for unit in range(3):
        assert [low[unit], high[unit]] == bootstrap_ci95(SEED_CURVES[:, unit])["iqm"]
    mean, std = SEED_CURVES[:, 0].mean(), SEED_CURVES[:, 0].std(ddof=1)
    assert 1.0 <= low[0] < 3.0 < high[0] <= 100.0 and low[0] > mean - std  # not mean ± std (-21.6 to 65.6)
    assert "IQM" in figure._suptitle.get_text() and "95% bootstrap CI" in figure._suptitle.get_text()


def test_one_seed_draws_the_line_alone(monkeypatch, tmp_path):
    figure = drawn_figure(monkeypatch, tmp_path, SEED_CURVES[:1])
    axis = figure.axes[0]
    line = next(line for line in axis.get_lines() if line.get_label() == "step1")
    assert list(line.get_ydata()) == list(SEED_CURVES[0])
    assert bands_in_colour(axis, line) == []


def test_a_long_run_gets_its_band_at_log_spaced_points_and_its_line_everywhere(monkeypatch, tmp_path):
    generator = np.random.default_rng(0)
    curves = generator.normal(size=(4, 1000)).cumsum(axis=1)
    figure = drawn_figure(monkeypatch, tmp_path, curves)
    _, line, band = our_line_and_band(figure)
    assert len(line.get_ydata()) == 1000
    points = plots.band_points(1000)
    assert points[0] == 0 and points[-1] == 999 and len(points) <= plots.MAX_BAND_POINTS
    assert np.all(np.diff(points) > 0) and list(points[:5]) == [0, 1, 2, 3, 4]  # dense where the log axis is wide
    x = line.get_xdata()[points]
    low, high = band_bounds(band, x)
    _, expected_low, expected_high = iqm_curve_ci95(curves[:, points])
    assert np.array_equal(low, expected_low) and np.array_equal(high, expected_high)
    assert np.array_equal(expected_low[[0, -1]], [bootstrap_ci95(curves[:, 0])["iqm"][0],
                                                  bootstrap_ci95(curves[:, 999])["iqm"][0]])


def test_iqm_curve_ci95_is_the_summary_column_by_column_and_refuses_a_bad_shape():
    curves = np.random.default_rng(1).normal(size=(9, 7))  # 9 seeds: two cut from each end
    centre, low, high = iqm_curve_ci95(curves)
    for column in range(7):
        assert centre[column] == iqm(curves[:, column])
        assert [low[column], high[column]] == bootstrap_ci95(curves[:, column])["iqm"]
    assert iqm_curve_ci95(curves[:1])[1:] == (None, None)
    with pytest.raises(ValueError, match=r"curves must be \[seeds, points\] with at least one seed, got shape \(3,\)"):
        iqm_curve_ci95([1.0, 2.0, 3.0])
