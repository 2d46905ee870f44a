"""Smoke test of examples/record_game.py: a 5-round game saved as PNG frames and as one .npy array."""
import pathlib
import sys

import numpy as np
import pytest

from ipd_env.render import COOPERATE_COLOR, DEFECT_COLOR, EMPTY_COLOR, GameLayout

from helpers import ROOT, load_script

EXAMPLE = ROOT / "examples" / "record_game.py"


@pytest.fixture(scope="module")
def record_game():
    yield load_script(EXAMPLE, "record_game_example")
    sys.modules.pop("record_game_example", None)


def test_alld_against_allc_saves_six_frames_as_npy(record_game, tmp_path, capsys):
    result = record_game.main(["--learner", "alld", "--co-player", "allc", "--rounds", "5", "--format", "npy",
                               "--out", str(tmp_path)])
    frames = np.load(tmp_path / "frames.npy")
    # START plus 5 rounds; 5 rounds are 24-pixel cells: 16 + 5 * 24 = 136 pixels wide.
    assert frames.shape == (6, 82, 136, 3) and frames.dtype == np.uint8
    assert result["totals"] == (10.0, -5.0)  # AllD earns 2 per round off AllC, which loses 1
    layout = GameLayout(5, -5.0, 10.0)
    rows, columns = layout.cell(2, 0)
    # Frame k shows k rounds played: round 3 (index 2) appears in frame 3, not before.
    assert tuple(frames[3][rows, columns][0, 0]) == DEFECT_COLOR
    assert tuple(frames[3][layout.cell(2, 1)][0, 0]) == COOPERATE_COLOR
    assert tuple(frames[2][rows, columns][0, 0]) == EMPTY_COLOR
    assert "totals 10 (learner), -5 (co-player); 6 frames as npy" in capsys.readouterr().out


def test_png_frames_one_per_round(record_game, tmp_path):
    pytest.importorskip("matplotlib", reason="PNG frames need matplotlib: pip install -e '.[plot]'")
    result = record_game.main(["--rounds", "3", "--format", "png", "--out", str(tmp_path), "--seed", "1"])
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["frame_000.png", "frame_001.png", "frame_002.png", "frame_003.png"]
    import matplotlib.pyplot as plt

    last = (plt.imread(tmp_path / "frame_003.png")[..., :3] * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(last, result["frames"][-1])


def test_auto_format_falls_back_without_moviepy(record_game, monkeypatch):
    found = {"moviepy": None, "matplotlib": object()}
    monkeypatch.setattr(record_game.importlib.util, "find_spec", lambda name: found.get(name))
    assert record_game.choose_format("auto") == "png"
    found["matplotlib"] = None
    assert record_game.choose_format("auto") == "npy"
    assert record_game.choose_format("video") == "video"


@pytest.mark.parametrize("arguments, message", [
    (["--learner", "grim"], "grim is stateful"),
    (["--co-player", "nobody"], "nobody"),
    (["--threads", "0"], "--threads must be a positive integer, got 0"),
])
def test_bad_arguments_are_one_line_cli_errors(record_game, tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        record_game.main(arguments + ["--out", str(tmp_path), "--format", "npy"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "frames.npy").exists()


def test_video_through_record_video(record_game, tmp_path):
    pytest.importorskip("moviepy", reason="the video needs moviepy: pip install moviepy")
    result = record_game.main(["--rounds", "3", "--format", "video", "--out", str(tmp_path / "videos")])
    assert result["format"] == "video" and [pathlib.Path(name).suffix for name in result["files"]] == [".mp4"]
