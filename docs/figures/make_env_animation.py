"""Draw the animation at the top of docs/env.md: one game of the PettingZoo env, rendered with
``render_mode="rgb_array"`` and labelled with who plays which side.

Two zoo members play one episode through ``ipd_env.parallel_env`` (default: Tit for Tat as
``player_0`` against Extort-2, a stochastic memory-1 zero-determinant strategy, as
``player_1``). Every frame is ``env.render()`` as the env returns it (:mod:`ipd_env.render`:
one column per round, player_0's row on top, cooperate green, defect red, the running totals
as bars), the first before round 1; around it this script writes the players' names beside
their rows, the round, the totals and the colours' meaning. The GIF is written with Pillow
(installed with matplotlib, the ``[plot]`` extra).

    python docs/figures/make_env_animation.py --out docs/figures/env_tft_vs_extort2.gif

Same arguments, same file: the players' generators are seeded from ``--seed``. The default,
seed 6, was picked among seeds 0-11 as one where Extort-2 once cooperates again after its
first defection; in every seed TFT's row is Extort-2's one round later, and once both defect
they stay there (Extort-2 never cooperates after mutual defection: p(C | DD) = 0).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import numpy as np

import ipd_env
from baselines.tabular import canonical_name, make_player, named_probabilities
from ipd_env.game import make_payoff_table
from ipd_env.player import play_parallel
from ipd_env.render import PLAYER_0_BAR_COLOR, PLAYER_1_BAR_COLOR, GameLayout, total_range

#: Names as the docs write them.
DISPLAY_NAMES = {"allc": "AllC", "alld": "AllD", "tft": "TFT", "stft": "Suspicious TFT", "gtft": "Generous TFT",
                 "wsls": "WSLS", "random": "Random", "grim": "Grim trigger", "extort2": "Extort-2",
                 "generous2": "Generous-2"}
LABEL_WIDTH = 250  # pixels left of the env's picture, for the players' names
HEADER_HEIGHT = 26
FOOTER_HEIGHT = 26
TEXT_COLOR = (30, 30, 30)


def describe(name: str) -> str:
    """``"Extort-2 (stochastic)"``: the display name, and whether the strategy draws its moves at random."""
    key = canonical_name(name)
    display = DISPLAY_NAMES.get(key, key)
    if key == "grim":
        return display
    probabilities = named_probabilities(key)
    stochastic = bool(np.any((probabilities > 0) & (probabilities < 1)))
    return f"{display} (stochastic)" if stochastic else display


def play_frames(names: Sequence[str], rounds: int, seed: int) -> tuple[list, np.ndarray, np.ndarray]:
    """One episode of ``names[0]`` (player_0) against ``names[1]`` (player_1) in the parallel env.

    Returns:
        the ``rounds + 1`` frames ``env.render()`` gave (``[height, width, 3]`` uint8; the first
        before round 1), the actions ``[rounds, 2]`` and the running totals ``[rounds + 1, 2]``.
    """
    env = ipd_env.parallel_env(max_cycles=rounds, render_mode="rgb_array")
    env.reset(seed=seed)
    frames = [env.render()]
    players = [make_player(name) for name in names]
    played = play_parallel(env, players, seed=seed, on_round=lambda actions, rewards: frames.append(env.render()))
    env.close()
    totals = np.vstack([np.zeros((1, 2)), np.cumsum(played["rewards"], axis=0)])
    return frames, played["actions"], totals


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: a scalable font
    except TypeError:  # older Pillow: its small bitmap font
        return ImageFont.load_default()


def label_frame(frame: np.ndarray, names: Sequence[str], round_index: int, rounds: int, totals, layout: GameLayout):
    """``frame`` on a white canvas with the players' names beside their rows, the round above and the totals
    and the colours' meaning below (a PIL image)."""
    from PIL import Image, ImageDraw

    height, width, _ = frame.shape
    canvas = Image.new("RGB", (LABEL_WIDTH + width, HEADER_HEIGHT + height + FOOTER_HEIGHT), (255, 255, 255))
    canvas.paste(Image.fromarray(frame), (LABEL_WIDTH, HEADER_HEIGHT))
    draw = ImageDraw.Draw(canvas)
    font, small = _font(14), _font(12)
    draw.text((8, 6), f"ipd_env/IPD-v0, render_mode=\"rgb_array\"    round {round_index}/{rounds}", fill=TEXT_COLOR,
              font=font)
    for player, name in enumerate(names):
        rows, _ = layout.cell(0, player)
        middle = HEADER_HEIGHT + (rows.start + rows.stop) // 2
        draw.text((LABEL_WIDTH - 8, middle), f"player_{player}: {describe(name)}", fill=TEXT_COLOR, font=font,
                  anchor="rm")
    bars_middle = HEADER_HEIGHT + (layout.bar_rows(0).start + layout.bar_rows(1).stop) // 2
    draw.text((LABEL_WIDTH - 8, bars_middle), "running totals", fill=TEXT_COLOR, font=small, anchor="rm")
    footer = HEADER_HEIGHT + height + 6
    x = 8
    for player, color in enumerate((PLAYER_0_BAR_COLOR, PLAYER_1_BAR_COLOR)):
        text = f"player_{player} {totals[player]:+g}"
        draw.rectangle((x, footer + 2, x + 10, footer + 12), fill=color)
        draw.text((x + 14, footer), text, fill=TEXT_COLOR, font=small)
        x += 24 + int(draw.textlength(text, font=small))
    draw.text((LABEL_WIDTH + width - 8, footer), "green: cooperate, red: defect; payoffs (R, S, T, P) = (1, -1, 2, 0)",
              fill=TEXT_COLOR, font=small, anchor="ra")
    return canvas


def write_animation(path: Path, names: Sequence[str], rounds: int, seed: int, frame_ms: int, hold_ms: int) -> dict:
    """Play, label and write the GIF; returns ``{"frames", "bytes", "totals"}``."""
    try:
        import PIL  # noqa: F401  (Pillow comes with matplotlib)
    except ImportError:
        raise SystemExit("make_env_animation.py: error: writing the GIF needs Pillow: pip install 'ipd-env[plot]' "
                         "(matplotlib installs it)") from None
    frames, _, totals = play_frames(names, rounds, seed)
    layout = GameLayout(rounds, *total_range(make_payoff_table("paper"), rounds))
    images = [label_frame(frame, names, index, rounds, totals[index], layout) for index, frame in enumerate(frames)]
    durations = [frame_ms] * (len(images) - 1) + [hold_ms]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True)
    return {"frames": len(images), "bytes": path.stat().st_size, "totals": totals[-1].tolist()}


def parse_arguments(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/env_tft_vs_extort2.gif"),
                        help="the GIF to write (default docs/figures/env_tft_vs_extort2.gif)")
    parser.add_argument("--players", default="tft,extort2",
                        help="player_0,player_1 as zoo names (default tft,extort2)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the episode, the env's max_cycles (30)")
    parser.add_argument("--seed", type=int, default=6, help="seed of the env and the players' generators (6)")
    parser.add_argument("--frame-ms", type=int, default=300, help="milliseconds per round (300)")
    parser.add_argument("--hold-ms", type=int, default=3000, help="milliseconds the last frame stays (3000)")
    arguments = parser.parse_args(argv)
    arguments.players = [name.strip() for name in arguments.players.split(",")]
    if len(arguments.players) != 2 or not all(arguments.players):
        parser.error(f"--players needs two zoo names separated by a comma, got {','.join(arguments.players)!r}")
    for name in arguments.players:
        try:
            canonical_name(name)
        except ValueError as error:
            parser.error(f"--players: {error}")
    for option in ("rounds", "frame_ms", "hold_ms"):
        if getattr(arguments, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be a positive integer, got {getattr(arguments, option)}")
    return arguments


def main(argv: Optional[Sequence[str]] = None) -> dict:
    arguments = parse_arguments(argv)
    written = write_animation(arguments.out, arguments.players, arguments.rounds, arguments.seed, arguments.frame_ms,
                              arguments.hold_ms)
    print(f"{arguments.out}: {written['frames']} frames, {written['bytes'] / 1024:.0f} KB; totals "
          f"player_0 {written['totals'][0]:g}, player_1 {written['totals'][1]:g}")
    return written


if __name__ == "__main__":
    main()
