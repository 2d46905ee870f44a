"""The presets' scale beside the paper: the numbers docs/reproduce.md shows are the code's."""
from pathlib import Path

import pytest

from agents.harness.scale import PAPER_SEEDS, format_preset_scale, paper_seeds, preset_scale_rows

ROOT = Path(__file__).resolve().parents[2]


def test_paper_preset_is_the_paper_and_cpu_quick_a_small_fraction():
    rows = {(row.algo, row.experiment, row.preset): row for row in preset_scale_rows()}
    step1 = rows[("a2c", "step1", "paper")]
    # SPEC 6b: 50,000 gradient steps x 2,048 episodes x 100 rounds = 1.0e10 agent-steps for one learner.
    assert (step1.units, step1.episodes_per_unit, step1.work) == (50_000, 2048, 50_000 * 2048 * 100)
    assert rows[("a2c", "fig1", "paper")].work == 200_000 * 4096 * 2 * 100  # two learners
    assert rows[("a2c", "step1", "cpu-quick")].fraction_of_paper == pytest.approx(250 * 256 / (50_000 * 2048))
    assert all(row.fraction_of_paper == 1 for row in rows.values() if row.preset == "paper")


def test_paper_seed_counts():
    assert paper_seeds("a2c", "fig1") == paper_seeds("ppi", "fig1") == paper_seeds("ppi", "step2") == 10
    assert paper_seeds("a2c", "step3") == 5 and len(PAPER_SEEDS) == 8
    with pytest.raises(ValueError, match="unknown experiment 'fig9'"):
        paper_seeds("a2c", "fig9")


def test_docs_hold_the_generated_table():
    page = (ROOT / "docs" / "reproduce.md").read_text()
    shown = page.split("<!-- scale-table:start -->")[1].split("<!-- scale-table:end -->")[0].strip()
    assert shown == format_preset_scale(), "docs/reproduce.md is stale: paste `python -m agents.harness.scale`"
