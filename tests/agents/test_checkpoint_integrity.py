"""Checkpoints carry a sha256 checked before loading; damaged, crafted and truncated files are one-line errors."""
import hashlib
import io
import json
import os
import warnings

import numpy as np
import pytest
import torch

from agents.harness.checkpoint import (
    CHECKSUM_HEADER,
    CHECKSUM_LINE,
    UnverifiedCheckpointWarning,
    checksummed,
    load_checkpoint,
    read_json,
    save_checkpoint,
)
from agents.harness.player_specs import load_run_players
from agents.harness.runner import run_unit, unit_dir
from agents.ppi.dataset import DataSetError, EpisodeStore

TINY = {"num_iterations": 2}
RAMP = torch.arange(1000, dtype=torch.float32)  # a tensor whose bytes are easy to find in the file


def snapshot(directory):
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*"))
            if path.is_file() and "tb" not in path.parts}


class RunsAShellCommand:
    """Pickles as ``GLOBAL posix.system`` with an argument: what a crafted checkpoint would hold."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def format_2(payload: bytes) -> bytes:
    """What save_checkpoint wrote before format 3: the checksum line first, then torch.save's bytes."""
    return CHECKSUM_HEADER + f"{hashlib.sha256(payload).hexdigest()} {len(payload)}\n".encode() + payload


def test_round_trip_and_the_documented_file_format(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"format": 1, "ramp": RAMP, "history": [{"unit": 0, "reward": 1.5}]})
    data = path.read_bytes()
    payload, trailer = data[:data.rindex(CHECKSUM_LINE)], data[data.rindex(CHECKSUM_LINE):]
    assert trailer == CHECKSUM_LINE + f"{hashlib.sha256(payload).hexdigest()} {len(payload)}\n".encode()
    assert payload[:4] == b"PK\x03\x04"  # everything before the last line is exactly what torch.save wrote
    assert torch.equal(torch.load(io.BytesIO(payload), weights_only=True)["ramp"], RAMP)
    state = load_checkpoint(path)
    assert torch.equal(state["ramp"], RAMP) and state["history"] == [{"unit": 0, "reward": 1.5}]
    assert not (tmp_path / "last.pt.tmp").exists()


def test_plain_torch_load_reads_a_checkpoint_weights_only(tmp_path):
    path = tmp_path / "final.pt"
    save_checkpoint(path, {"format": 1, "ramp": RAMP, "history": [{"unit": 0, "reward": 1.5}]})
    for state in (torch.load(path), torch.load(path, weights_only=True), torch.load(str(path), mmap=True)):
        assert torch.equal(state["ramp"], RAMP) and state["history"] == [{"unit": 0, "reward": 1.5}]


def test_a_format_2_checkpoint_still_loads_checked(tmp_path):
    path = tmp_path / "last.pt"
    buffer = io.BytesIO()
    torch.save({"format": 1, "ramp": RAMP}, buffer)
    path.write_bytes(format_2(buffer.getvalue()))
    assert torch.equal(load_checkpoint(path)["ramp"], RAMP)
    data = bytearray(path.read_bytes())
    data[data.find(RAMP.numpy().tobytes()) + 4 * 500] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"^checkpoint {path} is damaged: its sha256 differs"):
        load_checkpoint(path)
    path.write_bytes(format_2(buffer.getvalue())[:-10])
    with pytest.raises(ValueError, match=r"is damaged: \d+ bytes after its checksum line, \d+ were written"):
        load_checkpoint(path)


def test_a_flipped_byte_inside_a_tensor_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "final.pt"
    save_checkpoint(path, {"format": 1, "ramp": RAMP})
    data = bytearray(path.read_bytes())
    offset = data.find(RAMP.numpy().tobytes())
    assert offset > 0
    data[offset + 4 * 500] ^= 0x01  # 500.0 -> 500.00006: a plausible weight, silently different before
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError) as caught:
        load_checkpoint(path)
    assert str(caught.value) == (f"checkpoint {path} is damaged: its sha256 differs from the one recorded when it "
                                 f"was written; restore it from a copy, or move the folder away and train again")


def test_a_damaged_checkpoint_stops_a_resume_and_leaves_the_folder_untouched(tmp_path):
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides={"num_iterations": 3}, progress=False,
             stop_after=2)
    directory = unit_dir(tmp_path, "step1", 0)
    last = directory / "checkpoints" / "last.pt"
    weight = load_checkpoint(last)["trainer"]["models"][0]["policy_head.weight"]
    data = bytearray(last.read_bytes())
    offset = data.find(weight.numpy().tobytes())
    assert offset > 0
    data[offset + 2] ^= 0x10
    last.write_bytes(bytes(data))
    before = snapshot(directory)
    with pytest.raises(ValueError, match=f"^checkpoint {last} is damaged: its sha256 differs"):
        run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides={"num_iterations": 3}, progress=False,
                 resume=True)
    assert snapshot(directory) == before


def test_a_run_stopped_under_format_2_resumes_exactly_and_continues_in_format_3(tmp_path):
    """A run folder written before format 3 (its last.pt checksummed on its first line) resumes as it did."""
    from agents.harness.checkpoint import read_metrics

    overrides = {"num_iterations": 3}
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path / "full", overrides=overrides, progress=False)
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path / "parts", overrides=overrides, progress=False,
             stop_after=2)
    last = unit_dir(tmp_path / "parts", "step1", 0) / "checkpoints" / "last.pt"
    data = last.read_bytes()
    last.write_bytes(format_2(data[:data.rindex(CHECKSUM_LINE)]))
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path / "parts", overrides=overrides, progress=False,
             resume=True)
    full, parts = unit_dir(tmp_path / "full", "step1", 0), unit_dir(tmp_path / "parts", "step1", 0)

    def rows_without_wall_time(directory):
        return [{key: value for key, value in row.items() if key != "wall_time_s"}
                for row in read_metrics(directory / "metrics.csv")]

    assert rows_without_wall_time(full) == rows_without_wall_time(parts)
    full_model = load_checkpoint(full / "checkpoints" / "final.pt")["trainer"]["models"][0]
    part_model = torch.load(parts / "checkpoints" / "final.pt", weights_only=True)["trainer"]["models"][0]  # layout 3
    assert all(torch.equal(value, part_model[key]) for key, value in full_model.items())


@pytest.mark.parametrize("write", [bytes, checksummed, format_2], ids=["bare torch file", "format 3", "format 2"])
def test_a_crafted_pickle_is_refused_in_one_line_and_never_runs(tmp_path, write):
    path, marker = tmp_path / "last.pt", tmp_path / "pwned"
    buffer = io.BytesIO()
    torch.save({"format": 1, "trainer": RunsAShellCommand(marker)}, buffer)
    path.write_bytes(write(buffer.getvalue()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCheckpointWarning)
        with pytest.raises(ValueError) as caught:
            load_checkpoint(path)
    assert str(caught.value) == (f"refused: {path} contains code-bearing objects (GLOBAL posix.system); checkpoints "
                                 f"hold only tensors and plain Python, and loading never runs code")
    assert not marker.exists()


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:len(data) // 2], "is damaged: its last line is not the 'ipd-env checkpoint 3' checksum"),
    (lambda data: data[:-1], "is damaged: its last line is not the 'ipd-env checkpoint 3' checksum"),
    (lambda data: data + b"\x00", "is damaged: its last line is not the 'ipd-env checkpoint 3' checksum"),
    (lambda data: data[:100] + data[101:], r"is damaged: \d+ bytes before its checksum line, \d+ were written"),
    (lambda data: b"junk" + data[4:], "is damaged or not a checkpoint: it is neither a torch.save zip"),
    (lambda data: b"", "is damaged or not a checkpoint"),
    (lambda data: b"PK\x03\x04 but no zip", "is damaged: its last line is not the 'ipd-env checkpoint 3'"),
    (lambda data: b"PK\x03\x04 no zip" + b"PK\x05\x06" + bytes(18),
     "is damaged and cannot be loaded: archive does not contain any files$"),
])
def test_truncated_or_garbled_files_are_one_line_naming_the_file(tmp_path, damage, message):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"format": 1, "ramp": RAMP})
    path.write_bytes(damage(path.read_bytes()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCheckpointWarning)
        with pytest.raises(ValueError, match=message) as caught:
            load_checkpoint(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_checkpoint_from_before_checksums_loads_with_a_warning(tmp_path):
    path = tmp_path / "final.pt"
    torch.save({"format": 1, "ramp": RAMP}, path)  # format 1: what earlier versions wrote
    with pytest.warns(UnverifiedCheckpointWarning, match=f"checkpoint {path} has no checksum .* loaded unverified"):
        state = load_checkpoint(path)
    assert torch.equal(state["ramp"], RAMP)


def test_a_truncated_config_json_is_named(tmp_path):
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides=TINY, progress=False)
    directory = unit_dir(tmp_path, "step1", 0)
    config_path = directory / "config.json"
    config_path.write_text(config_path.read_text()[:40])
    expected = f"^{config_path} is not valid JSON \\(truncated or edited\\?\\): .* \\(line \\d+, column \\d+\\)$"
    with pytest.raises(ValueError, match=expected):
        read_json(config_path)
    with pytest.raises(ValueError, match=expected):
        run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides=TINY, progress=False, resume=True)
    with pytest.raises(ValueError, match=expected):
        load_run_players(directory)


def test_non_finite_weights_in_a_finished_run_are_refused_before_playing(tmp_path):
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path, overrides=TINY, progress=False)
    directory = unit_dir(tmp_path, "step1", 0)
    final = directory / "checkpoints" / "final.pt"
    state = load_checkpoint(final)
    state["trainer"]["models"][0]["policy_head.bias"][0] = float("nan")  # what a diverged run used to save
    save_checkpoint(final, state)
    with pytest.raises(ValueError, match=r"holds NaN or infinite weights \(policy_head.bias\); its training diverged"):
        load_run_players(directory)


def test_an_object_array_in_a_ppi_phase_file_names_the_file(tmp_path):
    store = EpisodeStore(str(tmp_path), {"seed": 0})
    store.save_phase(0, 0, {"outcomes": np.ones((2, 3), np.uint8), "co_player_kind": np.zeros(2, np.uint8)})
    path = tmp_path / "learner_0" / "phase_000.npz"
    np.savez(path.with_suffix(""), outcomes=np.array([{"code": "x"}, None], dtype=object),
             co_player_kind=np.zeros(2, np.uint8))
    # A crafted manifest that vouches for the crafted file: the hash check passes, the loader must still refuse.
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["learner_0/phase_000.npz"].update(bytes=path.stat().st_size,
                                                         sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataSetError, match=f"^PPI phase file {path} cannot be read as plain arrays "
                                           r"\(Object arrays cannot be loaded when allow_pickle=False\)"):
        EpisodeStore(str(tmp_path), {"seed": 0}).load_phase(0, 0)


def test_history_is_stored_as_one_tensor_and_read_back_exactly(tmp_path):
    from agents.harness.checkpoint import HistoryBuffer, history_rows
    rows = [{"unit": index, "reward": 0.1 * index + 1e-17, "cooperation": 1 / (index + 3)} for index in range(3000)]
    buffer = HistoryBuffer(rows[:10])
    for row in rows[10:]:
        buffer.append(row)
    packed = buffer.packed()
    assert packed["values"].shape == (3000, 3) and packed["values"].dtype == torch.float64
    from agents.harness.checkpoint import CHECKPOINT_FORMAT
    save_checkpoint(tmp_path / "c.pt", {"format": CHECKPOINT_FORMAT, "history": packed})
    back = history_rows(load_checkpoint(tmp_path / "c.pt")["history"])
    assert back == rows and isinstance(back[5]["unit"], int)
    assert history_rows(rows) == rows  # checkpoints written before store the rows themselves
    ragged = HistoryBuffer([{"unit": 0, "a": 1.0}, {"unit": 1, "b": 2.0}])
    assert ragged.packed() == [{"unit": 0, "a": 1.0}, {"unit": 1, "b": 2.0}]
