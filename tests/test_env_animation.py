"""docs/figures/make_env_animation.py: the GIF at the top of docs/env.md is the env's own rgb_array frames,
one per round plus the empty board, with the players' names written beside their rows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipd_env.render import COOPERATE_COLOR, DEFECT_COLOR, EMPTY_COLOR, GameLayout

from helpers import ROOT, load_script

Image = pytest.importorskip("PIL.Image", reason="the animation is written with Pillow (installed with matplotlib)")

SCRIPT = ROOT / "docs" / "figures" / "make_env_animation.py"
COMMITTED = ROOT / "docs" / "figures" / "env_tft_vs_extort2.gif"


def animation_script():
    return load_script(SCRIPT, "make_env_animation")


def frames_of(path: Path) -> list:
    with Image.open(path) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


def test_frames_are_the_envs_rendering_labelled(tmp_path):
    script = animation_script()
    path = tmp_path / "game.gif"
    written = script.main(["--out", str(path), "--rounds", "4", "--seed", "6", "--players", "tft,extort2"])
    _, actions, totals = script.play_frames(["tft", "extort2"], 4, 6)
    frames = frames_of(path)
    assert written["frames"] == len(frames) == 5  # the empty board, then one frame per round
    assert written["totals"] == totals[-1].tolist()
    layout = GameLayout(4, -4.0, 8.0)  # paper payoffs: totals between 4 x S = -4 and 4 x T = 8
    assert frames[0].shape == (script.HEADER_HEIGHT + layout.height + script.FOOTER_HEIGHT,
                               script.LABEL_WIDTH + layout.width, 3)
    colours = (COOPERATE_COLOR, DEFECT_COLOR)
    for round_index, frame in enumerate(frames):
        for player in (0, 1):
            rows, columns = layout.cell(0, player)
            # Each player's label sits left of its row: some non-white pixels there.
            label = frame[script.HEADER_HEIGHT + rows.start:script.HEADER_HEIGHT + rows.stop, :script.LABEL_WIDTH]
            assert (label < 200).any()
            for played in range(4):
                rows, columns = layout.cell(played, player)
                centre = frame[script.HEADER_HEIGHT + (rows.start + rows.stop) // 2,
                               script.LABEL_WIDTH + (columns.start + columns.stop) // 2]
                expected = colours[actions[played, player]] if played < round_index else EMPTY_COLOR
                assert tuple(centre) == expected, (round_index, player, played)
    assert actions[1:, 0].tolist() == actions[:-1, 1].tolist()  # TFT (player_0) plays Extort-2's last move


def test_bad_players_are_one_clear_error(capsys):
    script = animation_script()
    with pytest.raises(SystemExit) as raised:
        script.main(["--players", "tft,nosuch"])
    assert raised.value.code == 2
    assert "--players: unknown co-player 'nosuch'; the zoo has: allc" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.main(["--players", "tft"])
    assert "--players needs two zoo names separated by a comma, got 'tft'" in capsys.readouterr().err


def test_the_committed_animation_is_small_and_whole():
    frames = frames_of(COMMITTED)
    assert len(frames) == 31 and COMMITTED.stat().st_size < 500_000  # 30 rounds and the empty board
