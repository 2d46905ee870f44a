"""Phased training through the shared runner: folders, resume, and bad data folders."""
import json

import pytest
import torch

from agents.harness.checkpoint import load_checkpoint, read_metrics
from agents.harness.runner import run_unit, unit_dir
from agents.ppi.dataset import DataSetError


def _run(out, **kwargs):
    return run_unit("ppi", "fig1", "mixed", 0, "test", out, progress=False, **kwargs)


def test_a_run_leaves_its_data_set_per_phase(tmp_path):
    evaluation = _run(tmp_path)
    folder = unit_dir(tmp_path, "mixed", 0)
    manifest = json.loads((folder / "data" / "manifest.json").read_text())
    # D_0 plus one collection per phase (test preset: 2 phases, 32 pretraining, 16 per phase).
    episodes = {key: entry["episodes"] for key, entry in manifest["files"].items()}
    assert episodes == {"learner_0/phase_000.npz": 32, "learner_0/phase_001.npz": 16, "learner_0/phase_002.npz": 16,
                        "learner_1/phase_000.npz": 32, "learner_1/phase_001.npz": 16, "learner_1/phase_002.npz": 16}
    rows = read_metrics(folder / "metrics.csv")
    assert [row["data/episodes_per_learner"] for row in rows] == [32.0, 48.0]
    for row in rows:
        assert 0.0 <= row["learner_vs_learner/cooperation"] <= 1.0
        assert row["loss/observation"] > 0
    assert set(evaluation["learners"][0]["opponents"]) == {"allc", "alld", "tft", "wsls", "extort2", "pool", "learner"}


def test_resume_after_a_kill_reproduces_the_uninterrupted_run(tmp_path):
    _run(tmp_path / "straight")
    assert _run(tmp_path / "resumed", stop_after=1) is None
    _run(tmp_path / "resumed", resume=True)
    straight, resumed = unit_dir(tmp_path / "straight", "mixed", 0), unit_dir(tmp_path / "resumed", "mixed", 0)

    def drop_time(rows):
        return [{k: v for k, v in row.items() if k != "wall_time_s"} for row in rows]

    assert drop_time(read_metrics(resumed / "metrics.csv")) == drop_time(read_metrics(straight / "metrics.csv"))
    for learner in range(2):
        for phase in range(3):
            name = f"learner_{learner}/phase_{phase:03d}.npz"
            assert (resumed / "data" / name).read_bytes() == (straight / "data" / name).read_bytes()
    final_straight = load_checkpoint(straight / "checkpoints" / "final.pt")["trainer"]["models"]
    final_resumed = load_checkpoint(resumed / "checkpoints" / "final.pt")["trainer"]["models"]
    for a, b in zip(final_straight, final_resumed):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    assert json.loads((resumed / "eval.json").read_text())["learners"][0]["opponents"]["tft"]["reward"] == \
        json.loads((straight / "eval.json").read_text())["learners"][0]["opponents"]["tft"]["reward"]


def test_resume_with_a_data_folder_of_another_config_is_refused(tmp_path):
    _run(tmp_path, stop_after=1)
    manifest_path = unit_dir(tmp_path, "mixed", 0) / "data" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["config"]["hyperparameters"]["episodes_per_phase"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataSetError, match="different config"):
        _run(tmp_path, resume=True)
    assert (manifest_path.parent / "learner_0" / "phase_001.npz").exists()


def test_resume_with_a_truncated_phase_file_is_a_clear_error(tmp_path):
    _run(tmp_path, stop_after=1)
    path = unit_dir(tmp_path, "mixed", 0) / "data" / "learner_1" / "phase_001.npz"
    content = path.read_bytes()
    path.write_bytes(content[:10])
    with pytest.raises(DataSetError, match="learner_1/phase_001.npz is truncated or corrupt"):
        _run(tmp_path, resume=True)
    assert path.read_bytes() == content[:10]  # nothing deleted or rewritten
