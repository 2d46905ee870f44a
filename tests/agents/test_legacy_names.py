"""Files written before the co_player rename (their keys say ``coplayer``) still read, as today's
(:mod:`agents.legacy_names`): a run folder summarises and resumes, a summary.json and a PPI phase
file load. An old folder is made here from a new one by spelling its keys the old way."""
import hashlib
import json
import shutil
import warnings

import numpy as np
import pytest

from agents.harness.checkpoint import load_checkpoint, read_json, read_metrics, save_checkpoint, write_json
from agents.harness.paper_reference import metric_pairing, paper_curve
from agents.harness.runner import read_trained_run, run_unit, unit_dir
from agents.harness.summary import load_runs, summarise
from agents.harness.sweep import check_metric_name, current_metric_name
from agents.legacy_names import current_name, with_current_names
from agents.ppi.dataset import EpisodeStore

OLD, NEW = "coplayer", "co_player"


def written_before_the_rename(directory):
    """``directory`` (a run folder of today) as the version before the rename wrote it: the keys of
    ``metrics.csv``, ``eval.json`` and the checkpoints' history spelled ``coplayer``."""
    for name in ("metrics.csv", "eval.json"):
        path = directory / name
        if path.is_file():
            path.write_text(path.read_text().replace(NEW, OLD))
    for path in (directory / "checkpoints").glob("*.pt"):
        state = load_checkpoint(path)
        state["history"]["columns"] = [column.replace(NEW, OLD) for column in state["history"]["columns"]]
        save_checkpoint(path, state)


def header(path):
    return path.read_text().splitlines()[0].split(",")


def without_wall_time(rows):
    return [{key: value for key, value in row.items() if key != "wall_time_s"} for row in rows]


def test_current_name_spells_the_old_keys_as_today():
    assert current_name("learner_vs_frozen/coplayer_reward") == "learner_vs_frozen/co_player_reward"
    assert current_name("num_coplayers") == "num_co_players"
    assert current_name("co_player_kind") == "co_player_kind"  # today's names pass as they are
    assert current_name("reward") == "reward"
    old = {"learners": [{"opponents": {"tft": {"coplayer_reward": -0.5, "note": "coplayer"}}}], 3: [1, 2]}
    assert with_current_names(old) == {
        "learners": [{"opponents": {"tft": {"co_player_reward": -0.5, "note": "coplayer"}}}], 3: [1, 2]}


def test_paper_reference_takes_the_old_metric_and_quantity_names():
    assert metric_pairing("learner_vs_frozen/coplayer_reward") == ("frozen", "co_player_reward")
    old = paper_curve("a2c", "step2", "step2", "frozen", "coplayer_cooperation")
    new = paper_curve("a2c", "step2", "step2", "frozen", "co_player_cooperation")
    assert old.key == new.key == ("a2c", "step2", "frozen", "co_player_cooperation")
    assert np.array_equal(old.y, new.y)


def test_a_sweep_metric_in_the_old_spelling_is_taken_with_a_one_line_warning():
    with pytest.warns(FutureWarning, match="^--sort 'frozen/coplayer_reward' is the old spelling, still accepted; "
                                           "use 'frozen/co_player_reward'$"):
        name = current_metric_name("frozen/coplayer_reward", "--sort")
    assert name == "frozen/co_player_reward"
    check_metric_name(name, ["step1", "step2"], "--sort")  # a metric a Step 2 sweep reports
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert current_metric_name("tft/late_reward", "--heatmap") == "tft/late_reward"  # no warning


@pytest.fixture(scope="module")
def today(tmp_path_factory):
    """Step 1 then Step 2 (whose metrics include ``learner_vs_frozen/co_player_*``), trained to the end."""
    out = tmp_path_factory.mktemp("today")
    for condition in ("step1", "step2"):
        run_unit("a2c", "step2", condition, 0, "test", out, progress=False)
    return out


def test_an_old_run_folder_summarises_as_the_same_folder_written_today(today, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(today, old)
    for condition in ("step1", "step2"):
        written_before_the_rename(unit_dir(old, condition, 0))
    step2 = unit_dir(old, "step2", 0)
    assert "learner_vs_frozen/coplayer_reward" in header(step2 / "metrics.csv")
    assert "coplayer_reward" in json.loads((step2 / "eval.json").read_text())["learners"][0]["opponents"]["tft"]

    new_runs, old_runs = load_runs(today), load_runs(old)
    for key in ("config", "metrics", "eval", "eval_metrics", "eval_curves"):
        assert old_runs["step2"][0][key] == new_runs["step2"][0][key]
    assert "learner_vs_frozen/co_player_reward" in old_runs["step2"][0]["metrics"][0]
    assert summarise(old) == summarise(today)
    algorithm, run = read_trained_run(step2)  # ipd-coop evaluate's and a later condition's way in
    assert algorithm.name == "a2c" and run.pool_mode == "vs-frozen"


def test_an_old_summary_json_reads_as_today(today, tmp_path):
    write_json(tmp_path / "today.json", summarise(today))
    text = (tmp_path / "today.json").read_text()
    assert NEW in text
    (tmp_path / "old.json").write_text(text.replace(NEW, OLD))
    assert read_json(tmp_path / "old.json") == read_json(tmp_path / "today.json")


def test_resuming_an_old_run_folder_appends_under_its_own_header(today, tmp_path):
    """The run folder keeps the old column names (one file, one header); its rows are the numbers a run
    written straight through today has, and read back under today's names."""
    old = tmp_path / "old"
    shutil.copytree(unit_dir(today, "step1", 0), unit_dir(old, "step1", 0))
    written_before_the_rename(unit_dir(old, "step1", 0))
    run_unit("a2c", "step2", "step2", 0, "test", old, progress=False, stop_after=2)
    step2 = unit_dir(old, "step2", 0)
    written_before_the_rename(step2)
    old_header = header(step2 / "metrics.csv")

    run_unit("a2c", "step2", "step2", 0, "test", old, progress=False, resume=True)
    assert header(step2 / "metrics.csv") == old_header
    rows = (step2 / "metrics.csv").read_text().splitlines()[1:]
    assert len(rows) == 3 and all("" not in row.split(",") for row in rows)  # every cell written
    assert load_checkpoint(step2 / "checkpoints" / "final.pt")["history"]["columns"] == old_header
    straight = unit_dir(today, "step2", 0)
    assert without_wall_time(read_metrics(step2 / "metrics.csv")) == without_wall_time(
        read_metrics(straight / "metrics.csv"))
    assert read_json(step2 / "eval.json")["learners"] == read_json(straight / "eval.json")["learners"]


def test_an_old_ppi_phase_file_loads_beside_a_new_one(tmp_path):
    folder = tmp_path / "data"
    outcomes = np.array([[1, 2, 3], [4, 4, 1]])
    store = EpisodeStore(str(folder), {"seed": 0})
    store.save_phase(0, 0, {"outcomes": outcomes, "co_player_kind": np.array([1, 3])})
    store.save_phase(0, 1, {"outcomes": outcomes, "co_player_kind": np.array([0, 2])})
    # Phase 0 as the version before the rename wrote it: the kind array under its old name.
    old_path = folder / "learner_0" / "phase_000.npz"
    np.savez_compressed(old_path, outcomes=outcomes.astype(np.uint8),
                        coplayer_kind=np.array([1, 3], dtype=np.uint8))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["learner_0/phase_000.npz"].update(bytes=old_path.stat().st_size,
                                                        sha256=hashlib.sha256(old_path.read_bytes()).hexdigest())
    (folder / "manifest.json").write_text(json.dumps(manifest))

    reopened = EpisodeStore(str(folder))
    assert sorted(reopened.load_phase(0, 0)) == ["co_player_kind", "outcomes"]
    both = reopened.load(0, 2)
    assert both["co_player_kind"].tolist() == [1, 3, 0, 2]
    assert both["outcomes"].tolist() == outcomes.tolist() * 2
