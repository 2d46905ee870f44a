"""rgb_array rendering: one picture of the game so far, the same in the PettingZoo and the Gymnasium env."""
import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import render_test

import ipd_env
from ipd_env.render import (
    AXIS_COLOR,
    BACKGROUND_COLOR,
    COOPERATE_COLOR,
    DEFECT_COLOR,
    EMPTY_COLOR,
    PLAYER_0_BAR_COLOR,
    PLAYER_1_BAR_COLOR,
    GameLayout,
    render_game,
    total_range,
)

C, D = 0, 1


def _color(image, rows, columns):
    """The single colour of an image region (fails if the region is not uniform)."""
    region = image[rows, columns].reshape(-1, 3)
    assert (region == region[0]).all(), f"region is not one colour: {np.unique(region, axis=0)}"
    return tuple(int(value) for value in region[0])


def _play(env, moves):
    env.reset(seed=0)
    for action_0, action_1 in moves:
        env.step({"player_0": action_0, "player_1": action_1})
    return env.render()


def test_default_picture_is_616_by_82_uint8_with_six_pixel_rounds():
    image = _play(ipd_env.parallel_env(render_mode="rgb_array"), [])
    assert image.shape == (82, 616, 3) and image.dtype == np.uint8
    layout = GameLayout(100, -100.0, 200.0)
    assert (layout.height, layout.width, layout.cell_width) == (82, 616, 6)


@pytest.mark.parametrize("max_cycles, cell_width", [(1, 24), (3, 24), (7, 24), (100, 6), (301, 1), (1000, 1)])
def test_width_and_height_are_even_for_any_number_of_rounds(max_cycles, cell_width):
    layout = GameLayout(max_cycles, -1.0, 1.0)
    image = render_game([], (0.0, 0.0), layout)
    assert layout.cell_width == cell_width
    assert image.shape == (layout.height, layout.width, 3) and image.shape[0] % 2 == 0 and image.shape[1] % 2 == 0


def test_known_rounds_give_known_cell_colours_in_the_pettingzoo_env():
    env = ipd_env.parallel_env(render_mode="rgb_array")
    image = _play(env, [(C, C), (C, D), (D, C), (D, D)])
    layout = GameLayout(100, *total_range(env.payoff_table, 100))
    expected_rows = {0: [COOPERATE_COLOR, COOPERATE_COLOR, DEFECT_COLOR, DEFECT_COLOR],
                     1: [COOPERATE_COLOR, DEFECT_COLOR, COOPERATE_COLOR, DEFECT_COLOR]}
    for player, colors in expected_rows.items():
        for round_index, color in enumerate(colors):
            assert _color(image, *layout.cell(round_index, player)) == color
        for round_index in (4, 50, 99):  # not played yet
            assert _color(image, *layout.cell(round_index, player)) == EMPTY_COLOR
    # Cell 0 spans columns 8..12 and column 13 is the white gap before round 2.
    assert layout.cell(0, 0) == (slice(8, 28), slice(8, 13))
    assert tuple(image[10, 13]) == BACKGROUND_COLOR


def test_running_totals_are_bars_from_the_zero_line():
    # AllD against AllC for 100 rounds: player 0 earns 2 x 100 = 200 (the top of the scale),
    # player 1 earns -1 x 100 = -100 (the bottom). The scale [-100, 200] puts zero a third
    # of the way along the 600 round pixels: column 8 + 200 = 208.
    env = ipd_env.parallel_env(render_mode="rgb_array")
    image = _play(env, [(D, C)] * 100)
    layout = GameLayout(100, -100.0, 200.0)
    assert env.total_rewards() == (200.0, -100.0)
    assert layout.total_column(0.0) == 208 and layout.total_column(200.0) == 608 and layout.total_column(-100.0) == 8
    bar_0, bar_1 = layout.bar_rows(0), layout.bar_rows(1)
    assert _color(image, bar_0, slice(209, 608)) == PLAYER_0_BAR_COLOR
    assert _color(image, bar_0, slice(8, 208)) == BACKGROUND_COLOR
    assert _color(image, bar_1, slice(8, 208)) == PLAYER_1_BAR_COLOR
    assert _color(image, bar_1, slice(209, 608)) == BACKGROUND_COLOR
    assert _color(image, slice(bar_0.start, bar_1.stop), slice(208, 209)) == AXIS_COLOR


def test_gymnasium_env_draws_the_learner_on_top_and_its_totals():
    env = gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player="allc", render_mode="rgb_array")
    env.reset(seed=0)
    for action in (D, C, D):
        env.step(action)
    image = env.render()
    layout = GameLayout(100, -100.0, 200.0)
    assert image.shape == (82, 616, 3) and image.dtype == np.uint8
    assert [_color(image, *layout.cell(t, 0)) for t in range(4)] == [DEFECT_COLOR, COOPERATE_COLOR, DEFECT_COLOR,
                                                                      EMPTY_COLOR]
    assert [_color(image, *layout.cell(t, 1)) for t in range(3)] == [COOPERATE_COLOR] * 3
    # Learner 2 + 1 + 2 = 5 -> column 8 + round(105 / 300 * 600) = 218; AllC 1 - 1 - 1 = -1 -> 8 + 198 = 206.
    assert _color(image, layout.bar_rows(0), slice(209, 218)) == PLAYER_0_BAR_COLOR
    assert _color(image, layout.bar_rows(1), slice(206, 208)) == PLAYER_1_BAR_COLOR
    env.reset(seed=1)  # a new episode starts from an empty picture
    assert _color(env.render(), *layout.cell(0, 0)) == EMPTY_COLOR


def test_pettingzoo_render_test_and_gymnasium_check_env_accept_rgb_array():
    render_test(ipd_env.env, custom_tests={"rgb_array": lambda image: image.shape == (82, 616, 3)})
    check_env(gymnasium.make("ipd_env/IPDvsCoPlayer-v0", render_mode="rgb_array").unwrapped)
    assert ipd_env.parallel_env().metadata["render_fps"] == 10
    assert gymnasium.make("ipd_env/IPDvsCoPlayer-v0").metadata["render_fps"] == 10


def test_more_rounds_than_columns_is_an_error():
    with pytest.raises(ValueError, match="3 rounds played but the picture has 2 columns"):
        render_game([0, 1, 2], (0.0, 0.0), GameLayout(2, -2.0, 4.0))
