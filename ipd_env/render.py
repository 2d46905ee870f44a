"""The ``rgb_array`` picture of a game so far, shared by the PettingZoo and the Gymnasium env.

One image ``[height, width, 3]`` uint8 (numpy only, no drawing library):

```
 round 1 2 3 ...                     max_cycles
 +-------------------------------------------+
 | C D C C . . . . . . . . . . . . . . . . . |   player 0 (row 0): one cell per round
 | C C D C . . . . . . . . . . . . . . . . . |   player 1 (row 1)
 |      ####|                                |   player 0's running total (bar)
 |      |########                            |   player 1's running total (bar)
 +-------------------------------------------+
```

* A played round is a cell in the player's colour for the action: :data:`COOPERATE_COLOR`
  (green) or :data:`DEFECT_COLOR` (red); rounds not played yet are :data:`EMPTY_COLOR`
  (light grey) on a white background.
* Each player's running total is a horizontal bar from the zero line (a dark vertical
  line, :data:`AXIS_COLOR`) to the total, on a scale from the lowest to the highest total
  the game allows (``max_cycles`` times the smallest and the largest payoff, with 0
  always on the scale): right of the line for a positive total, left for a negative one.
  Player 0's bar is :data:`PLAYER_0_BAR_COLOR` (blue), player 1's :data:`PLAYER_1_BAR_COLOR`
  (orange).

Cells are ``600 // max_cycles`` pixels wide, clamped to 1..24 (6 for the default 100
rounds: 616 pixels wide, 82 high); height and width are even, as video encoders require.
:class:`GameLayout` gives the pixel position of every cell and bar, for tests and for
anyone annotating frames.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np

from ipd_env.game import GameRecord, format_round

COOPERATE_COLOR = (44, 160, 44)
DEFECT_COLOR = (214, 39, 40)
EMPTY_COLOR = (225, 225, 225)
BACKGROUND_COLOR = (255, 255, 255)
AXIS_COLOR = (40, 40, 40)
PLAYER_0_BAR_COLOR = (31, 119, 180)
PLAYER_1_BAR_COLOR = (255, 127, 14)

_MARGIN = 8
_CELL_HEIGHT = 20
_ROW_GAP = 2
_BAR_GAP = 6
_BAR_HEIGHT = 8
_TARGET_WIDTH = 600


@dataclass(frozen=True)
class GameLayout:
    """Pixel geometry of the picture of a ``max_cycles``-round game.

    Args:
        max_cycles: rounds per episode (columns).
        lowest_total, highest_total: the range of the total bars (``lowest_total <= 0 <= highest_total``).
    """

    max_cycles: int
    lowest_total: float
    highest_total: float

    @property
    def cell_width(self) -> int:
        """Pixels per round, 1 to 24."""
        return max(1, min(24, _TARGET_WIDTH // self.max_cycles))

    @property
    def width(self) -> int:
        """Image width in pixels (even)."""
        width = 2 * _MARGIN + self.max_cycles * self.cell_width
        return width + width % 2

    @property
    def height(self) -> int:
        """Image height in pixels (even)."""
        height = 2 * _MARGIN + 2 * _CELL_HEIGHT + _ROW_GAP + _BAR_GAP + 2 * _BAR_HEIGHT + _ROW_GAP
        return height + height % 2

    def cell(self, round_index: int, player: int) -> tuple[slice, slice]:
        """``(rows, columns)`` of round ``round_index`` (0-based) of ``player`` (0 or 1)."""
        top = _MARGIN + player * (_CELL_HEIGHT + _ROW_GAP)
        left = _MARGIN + round_index * self.cell_width
        # A one-pixel white gap between rounds once cells are wide enough to spare it.
        right = left + self.cell_width - (1 if self.cell_width >= 4 else 0)
        return slice(top, top + _CELL_HEIGHT), slice(left, right)

    def bar_rows(self, player: int) -> slice:
        """Image rows of ``player``'s total bar."""
        top = _MARGIN + 2 * _CELL_HEIGHT + _ROW_GAP + _BAR_GAP + player * (_BAR_HEIGHT + _ROW_GAP)
        return slice(top, top + _BAR_HEIGHT)

    def total_column(self, total: float) -> int:
        """Image column of a running total on the bar scale (the zero line for 0)."""
        span = self.highest_total - self.lowest_total
        clipped = min(max(total, self.lowest_total), self.highest_total)
        fraction = 0.0 if span == 0 else (clipped - self.lowest_total) / span
        return _MARGIN + int(round(fraction * self.max_cycles * self.cell_width))


def total_range(payoff_table: np.ndarray, max_cycles: int) -> tuple[float, float]:
    """``(lowest, highest)`` total any player can reach in ``max_cycles`` rounds, with 0 included.

    Args:
        payoff_table: ``[2, 2, 2]`` float, ``table[a0, a1, player]`` (as ``ipd_env.game.make_payoff_table``).
        max_cycles: rounds per episode.
    """
    return min(0.0, float(np.min(payoff_table)) * max_cycles), max(0.0, float(np.max(payoff_table)) * max_cycles)


def render_game(joint_actions: Sequence[int], totals: Sequence[float], layout: GameLayout) -> np.ndarray:
    """The picture of a game so far: ``[layout.height, layout.width, 3]`` uint8.

    Args:
        joint_actions: one ``2 * a0 + a1`` per round played, in order (0 = CC, 1 = CD,
            2 = DC, 3 = DD from player 0's side); at most ``layout.max_cycles`` of them.
        totals: ``(total of player 0, total of player 1)``, summed rewards so far.
        layout: the geometry (:class:`GameLayout`).
    """
    if len(joint_actions) > layout.max_cycles:
        raise ValueError(f"{len(joint_actions)} rounds played but the picture has {layout.max_cycles} columns")
    image = np.empty((layout.height, layout.width, 3), dtype=np.uint8)
    image[:] = BACKGROUND_COLOR
    colors = np.array([COOPERATE_COLOR, DEFECT_COLOR], dtype=np.uint8)
    joint = np.asarray(joint_actions, dtype=np.int64)
    for player, actions in enumerate((joint // 2, joint % 2)):
        rows, _ = layout.cell(0, player)
        # Paint the whole row as "not played", then every played round in its action's colour.
        strip = np.empty((layout.max_cycles, layout.cell_width, 3), dtype=np.uint8)
        strip[:] = EMPTY_COLOR
        strip[:len(actions)] = colors[actions][:, None, :]
        if layout.cell_width >= 4:
            strip[:, -1] = BACKGROUND_COLOR
        image[rows, _MARGIN:_MARGIN + layout.max_cycles * layout.cell_width] = strip.reshape(1, -1, 3)
    zero = layout.total_column(0.0)
    for player, (total, color) in enumerate(zip(totals, (PLAYER_0_BAR_COLOR, PLAYER_1_BAR_COLOR))):
        end = layout.total_column(float(total))
        image[layout.bar_rows(player), min(zero, end):max(zero, end)] = color
    bars_top = layout.bar_rows(0).start
    image[bars_top:layout.bar_rows(1).stop, zero] = AXIS_COLOR
    return image


def render_frame(render_mode, game: GameRecord, payoff_table, num_rounds: int, names):
    """What an env's ``render()`` gives for ``render_mode``, the same for the PettingZoo and the Gymnasium env.

    ``"rgb_array"``: the picture of ``game`` so far (:func:`render_game`); ``"ansi"``: the
    one-line text of its last round (:func:`ipd_env.game.format_round`, with ``names`` for
    the players); ``"human"``: prints that line and returns None; ``None``: warns that no
    render mode was chosen and returns None.

    Args:
        game: the env's record of the game (:class:`ipd_env.game.GameRecord`).
        payoff_table: ``[2, 2, 2]``, the scale of the total bars.
        num_rounds: rounds per episode (the env's ``max_cycles``).
    """
    if render_mode is None:
        gymnasium.logger.warn(
            "render() called without a render_mode; create the env with render_mode='ansi', 'human' or 'rgb_array'"
        )
        return None
    if render_mode == "rgb_array":
        return render_game(game.joint_history, game.totals(),
                           GameLayout(num_rounds, *total_range(payoff_table, num_rounds)))
    text = format_round(game.round, num_rounds, game.last_joint, game.last_rewards, game.totals(), names)
    if render_mode == "human":
        print(text)
        return None
    return text
