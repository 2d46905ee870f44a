"""The per-phase data set on disk: compact, verified, tied to its config, never deleted."""
import os

import numpy as np
import pytest
import torch

from agents.ppi.collect import KIND_RANDOM, pretraining_episodes
from agents.ppi.dataset import DataSetError, EpisodeBatcher, EpisodeStore

CONFIG = {"condition": "mixed", "seed": 0, "episodes_per_phase": 4}


def _episodes(rows):
    outcomes = np.array(rows, dtype=np.int64)
    return {"outcomes": outcomes, "co_player_kind": np.zeros(len(rows)), "identity": np.zeros((len(rows), 10))}


def test_round_trip_and_concatenation(tmp_path):
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1, 2, 3], [4, 4, 4]]))
    store.save_phase(0, 1, _episodes([[3, 1, 1]]))
    reopened = EpisodeStore(str(tmp_path), dict(CONFIG))
    data = reopened.load(0, 2)
    assert data["outcomes"].dtype == np.uint8
    assert data["outcomes"].tolist() == [[1, 2, 3], [4, 4, 4], [3, 1, 1]]
    assert reopened.has_phase(0, 1) and not reopened.has_phase(1, 0)


def test_batches_recover_actions_rewards_and_observations(tmp_path):
    # Outcomes CC, CD, DC, DD = 1, 2, 3, 4; with (R, S, T, P) = (1, -1, 2, 0).
    batcher = EpisodeBatcher(_episodes([[1, 2, 3, 4]]), payoffs="paper")
    batch = batcher.batch(torch.tensor([0]))
    assert batch["observation"][:, 0].tolist() == [0, 1, 2, 3]  # START, then the previous outcomes
    assert batch["next_observation"][:, 0].tolist() == [1, 2, 3, 4]
    assert batch["action"][:, 0].tolist() == [0, 0, 1, 1]
    assert batch["reward"][:, 0].tolist() == [1.0, -1.0, 2.0, 0.0]


def test_pretraining_data_is_seeded_and_well_formed():
    first = pretraining_episodes(6, "tabular", 20, torch.Generator().manual_seed(4))
    again = pretraining_episodes(6, "tabular", 20, torch.Generator().manual_seed(4))
    assert torch.equal(first["outcomes"], again["outcomes"])
    assert first["outcomes"].shape == (6, 20) and first["identity"].shape == (6, 10)
    assert first["outcomes"].min() >= 1 and first["outcomes"].max() <= 4
    # Views 0..2 are player_0's, 3..5 player_1's: the same games with own and other swapped.
    own0, other0 = (first["outcomes"][:3] - 1) // 2, (first["outcomes"][:3] - 1) % 2
    own1, other1 = (first["outcomes"][3:] - 1) // 2, (first["outcomes"][3:] - 1) % 2
    assert torch.equal(own0, other1) and torch.equal(other0, own1)
    random = pretraining_episodes(2000, "random", 10, torch.Generator().manual_seed(0))
    assert (random["co_player_kind"] == KIND_RANDOM).all()
    cooperation = ((random["outcomes"] - 1) // 2 == 0).float().mean()
    assert abs(float(cooperation) - 0.5) < 0.02  # coin flips
    with pytest.raises(ValueError, match="even integer"):
        pretraining_episodes(5, "tabular")
    with pytest.raises(ValueError, match="pretraining kind must be one of"):
        pretraining_episodes(4, "tft")


def test_folder_from_a_different_config_is_refused_and_left_alone(tmp_path):
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1, 1]]))
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(DataSetError, match=r"different config \(episodes_per_phase: stored 4, asked 8\)"):
        EpisodeStore(str(tmp_path), dict(CONFIG, episodes_per_phase=8))
    assert sorted(os.listdir(tmp_path)) == before
    assert EpisodeStore(str(tmp_path), CONFIG).load(0, 1)["outcomes"].tolist() == [[1, 1]]


def test_truncated_phase_file_is_a_clear_error_and_is_kept(tmp_path):
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1, 2, 3, 4]] * 50))
    path = tmp_path / "learner_0" / "phase_000.npz"
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(DataSetError, match="phase_000.npz is truncated or corrupt"):
        EpisodeStore(str(tmp_path), CONFIG).load(0, 1)
    assert path.exists() and path.stat().st_size == len(content) // 2


def test_missing_phase_and_unreadable_manifest(tmp_path):
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1]]))
    with pytest.raises(DataSetError, match="has no phase 1 for learner 0"):
        store.load(0, 2)
    os.remove(tmp_path / "learner_0" / "phase_000.npz")
    with pytest.raises(DataSetError, match="listed in manifest.json but missing"):
        store.load(0, 1)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataSetError, match="manifest.json is unreadable"):
        EpisodeStore(str(tmp_path), CONFIG)


def test_opening_writes_nothing_and_a_stored_folder_reopens_as_it_was_made(tmp_path):
    folder = tmp_path / "data"
    store = EpisodeStore(str(folder), CONFIG)
    assert not folder.exists() and not store.has_phase(0, 0)  # the harness opens it before the run starts
    with pytest.raises(DataSetError, match="has no readable manifest.json"):
        EpisodeStore(str(folder))
    store.save_phase(0, 0, _episodes([[1, 4]]))
    reopened = EpisodeStore(str(folder))  # a finished run's data, read by the run that builds on it
    assert reopened.config == CONFIG and reopened.load(0, 1)["outcomes"].tolist() == [[1, 4]]


def test_bad_outcomes_are_rejected(tmp_path):
    store = EpisodeStore(str(tmp_path), CONFIG)
    with pytest.raises(ValueError, match="values 1..4"):
        store.save_phase(0, 0, _episodes([[0, 5]]))


def test_an_interrupted_phase_write_leaves_neither_a_phase_nor_a_temporary_file(tmp_path, monkeypatch):
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1, 2]]))

    def interrupted(handle, **arrays):
        handle.write(b"PK half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save_phase(0, 1, _episodes([[3, 4]]))
    files = sorted(path.name for path in (tmp_path / "learner_0").iterdir())
    assert files == ["phase_000.npz"] and not store.has_phase(0, 1)


def test_the_run_folders_cleanup_removes_phase_files_left_by_a_killed_process(tmp_path):
    from agents.harness.run_folder import remove_temporary_files
    store = EpisodeStore(str(tmp_path), CONFIG)
    store.save_phase(0, 0, _episodes([[1, 2]]))
    # what a process killed mid-write leaves: today's name, and the name written before the phase
    # files went through agents.files.write_atomic
    (tmp_path / "learner_0" / "phase_001.npz.tmp").write_bytes(b"half")
    (tmp_path / "learner_0" / "phase_001.npz.tmp.npz").write_bytes(b"half")
    removed = remove_temporary_files(tmp_path)
    assert sorted(path.name for path in removed) == ["phase_001.npz.tmp", "phase_001.npz.tmp.npz"]
    assert sorted(path.name for path in (tmp_path / "learner_0").iterdir()) == ["phase_000.npz"]
