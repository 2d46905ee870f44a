"""Every numeric and boolean setting of A2C, PPI and the run settings is checked once, when its config is made.

The table is built from the configs' own declarations (type annotation + ``setting(...)``
range), so a field added later is in it without editing this file. Each bad value must be
refused by the Python API, and representative ones also through ``--set``, a preset, a
sweep grid and a ``config.json`` read back, with one line naming the setting, the value
and what is accepted.
"""
import dataclasses
import json
import math

import numpy as np
import pytest

from agents import a2c
from agents.a2c import A2CConfig
from agents.algorithm import RunSettings
from agents.harness.cli import parse_overrides
from agents.harness.experiments import get_experiment
from agents.harness.runner import make_unit, read_trained_run
from agents.harness.sweep import parse_grid, run_sweep
from agents.ppi.config import PPIConfig
from agents.settings import FLOAT32_MAX, describe_range, numeric_settings

CONFIGS = {"a2c": A2CConfig, "ppi": PPIConfig, "run": RunSettings}


def bad_values(kind, bounds: dict) -> list:
    """``(value, what it is)`` pairs that a setting of this kind and range must refuse."""
    cases = [(math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"), (json.loads("1e400"), "1e400 (JSON: inf)"),
             ("0.5", "a string"), (True, "a boolean"), (None, "None"), ([1], "a list")]
    if kind is int:
        cases += [(1.5, "a fraction"), (3.0, "a float")]
    else:
        cases += [(1e39, "beyond float32"), (-1e39, "below float32")]
    step = 1 if kind is int else 0.5
    if "at_least" in bounds:
        cases.append((bounds["at_least"] - step, "below the range"))
    if "above" in bounds:
        cases += [(kind(bounds["above"]), "at the open bound"), (kind(bounds["above"] - 1), "below the range")]
    if "at_most" in bounds:
        cases.append((bounds["at_most"] + step, "above the range"))
    if "below" in bounds:
        cases.append((kind(bounds["below"]), "at the open bound"))
    return cases


def _table():
    rows = []
    for algo, config_class in CONFIGS.items():
        for name, (kind, bounds) in numeric_settings(config_class).items():
            for value, what in bad_values(kind, bounds or {}):
                rows.append(pytest.param(algo, name, value, bounds or {}, id=f"{algo}-{name}-{what}"))
        for config_field in dataclasses.fields(config_class):
            if config_field.type in (bool, "bool"):
                for value in ("maybe", "true", 2, 1, 0, 1.0, None):
                    rows.append(pytest.param(algo, config_field.name, value, {},
                                             id=f"{algo}-{config_field.name}-{value!r}"))
    return rows


TABLE = _table()


def test_the_table_covers_every_numeric_and_boolean_setting():
    # 14 numeric + 1 boolean A2C settings, 12 numeric + 2 boolean PPI settings and 5 numeric run settings
    # at the time of writing.
    names = {(row.values[0], row.values[1]) for row in TABLE}
    assert len(names) >= 34
    assert ("a2c", "advantage_centring") in names and ("ppi", "reinitialise") in names
    assert ("a2c", "learning_rate") in names and ("ppi", "beta") in names
    assert ("run", "num_rounds") in names and ("run", "eval_every") in names
    assert len(TABLE) >= 350


@pytest.mark.parametrize("algo", sorted(CONFIGS))
def test_every_numeric_setting_declares_its_range(algo):
    # A new int/float field is validated by declaring it: `name: float = setting(default, at_least=0)`.
    undeclared = [name for name, (_, bounds) in numeric_settings(CONFIGS[algo]).items() if bounds is None]
    assert undeclared == [], f"declare a range with agents.settings.setting(...) for {undeclared}"


@pytest.mark.parametrize("algo, name, value, bounds", TABLE)
def test_bad_value_is_refused_in_one_line_naming_setting_value_and_range(algo, name, value, bounds):
    with pytest.raises(ValueError) as caught:
        CONFIGS[algo](**{name: value})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{algo} setting {name} must be ")
    assert message.endswith(f"got {value!r}")
    assert describe_range(bounds) in message
    if isinstance(CONFIGS[algo]().__dict__[name], bool):
        assert "must be true or false" in message


@pytest.mark.parametrize("overrides, message", [
    (["learning_rate=Infinity"], "a2c setting learning_rate must be a finite number > 0, got inf"),
    (["learning_rate=1e400"], "a2c setting learning_rate must be a finite number > 0, got inf"),
    (["entropy_coef=NaN"], "a2c setting entropy_coef must be a finite number >= 0, got nan"),
    (["reward_scale=-Infinity"], "a2c setting reward_scale must be a finite number > 0, got -inf"),
    (["advantage_centring=maybe"], "a2c setting advantage_centring must be true or false, got 'maybe'"),
    (["advantage_centring=2"], "a2c setting advantage_centring must be true or false, got 2"),
    (["num_iterations=1e3"], "a2c setting num_iterations must be an integer >= 1, got 1000.0"),
])
def test_set_overrides_go_through_the_same_check(overrides, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        make_unit("a2c", "step1", "step1", 0, "test", parse_overrides(overrides))


def test_ppi_set_overrides_go_through_the_same_check():
    for text, message in [("beta=Infinity", "ppi setting beta must be a finite number >= 0, got inf"),
                          ("learning_rate=1e400", "ppi setting learning_rate must be a finite number > 0, got inf"),
                          ("reinitialise=maybe", "ppi setting reinitialise must be true or false, got 'maybe'"),
                          ("adam_betas=[0.9, NaN]", "ppi setting adam_betas[1] must be a finite number in [0, 1), "
                                                    "got nan")]:
        with pytest.raises(ValueError) as caught:
            make_unit("ppi", "fig1", "mixed", 0, "test", parse_overrides([text]))
        assert str(caught.value) == message


def test_a_preset_with_a_bad_value_is_refused(monkeypatch):
    monkeypatch.setitem(a2c.PRESETS["test"], 1, {**a2c.PRESETS["test"][1], "gae_lambda": math.nan})
    with pytest.raises(ValueError, match=r"^a2c setting gae_lambda must be a finite number in \[0, 1\], got nan$"):
        a2c.ALGORITHM.make_config("test", get_experiment("step1").condition("step1").paper_step)


def test_a_sweep_grid_point_with_a_bad_value_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(ValueError, match="entropy_coef must be a finite number >= 0, got inf"):
        run_sweep("step1", parse_grid(["entropy_coef=0.01,Infinity"]), algo="a2c", preset="test", seeds=1, out=out,
                  progress=False, plots=False)
    assert not out.exists() or not any(out.iterdir())


def test_the_python_api_and_a_config_json_read_back_are_checked(tmp_path):
    config = dataclasses.asdict(a2c.ALGORITHM.make_config("test", paper_step=1))
    with pytest.raises(ValueError, match="a2c setting learning_rate must be a finite number > 0, got inf"):
        A2CConfig(**{**config, "learning_rate": math.inf})
    # An edited config.json ("maybe" stored by an older version) is refused when the run is loaded.
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"algo": "a2c", "pool_mode": "tabular-only",
                                                    "hyperparameters": {**config, "advantage_centring": "maybe"}}))
    with pytest.raises(ValueError, match="advantage_centring must be true or false, got 'maybe'"):
        read_trained_run(folder)


def test_valid_edges_and_numpy_scalars_are_accepted_as_plain_python():
    config = A2CConfig(gamma=0, gae_lambda=1, entropy_coef=0, learning_rate=1, num_iterations=np.int64(7),
                       reward_scale=np.float32(0.25), advantage_centring=np.bool_(False))
    assert (config.gamma, config.gae_lambda, config.learning_rate) == (0.0, 1.0, 1.0)
    assert type(config.gamma) is float and type(config.learning_rate) is float
    assert config.num_iterations == 7 and type(config.num_iterations) is int
    assert config.reward_scale == 0.25 and type(config.reward_scale) is float
    assert config.advantage_centring is False
    json.dumps(dataclasses.asdict(config))  # config.json stays JSON
    assert A2CConfig(learning_rate=FLOAT32_MAX).learning_rate == FLOAT32_MAX
    ppi = PPIConfig(adam_betas=(0, np.float64(0.5)), discount=1, beta=0)
    assert ppi.adam_betas == [0.0, 0.5] and ppi.discount == 1.0


def test_cross_field_rules_stay():
    with pytest.raises(ValueError, match="pretraining_episodes must be even"):
        PPIConfig(pretraining_episodes=3)
    with pytest.raises(ValueError, match="adam_betas must be two numbers"):
        PPIConfig(adam_betas=[0.9])
    with pytest.raises(ValueError, match="unknown payoff preset"):
        RunSettings(payoffs="bogus")
