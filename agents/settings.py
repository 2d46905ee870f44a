"""Hyperparameters declared once (type and range), checked when a config is made.

An algorithm's config is a dataclass. Each field's annotation gives its type and, for
numbers, :func:`setting` gives its range, so a new field is validated by declaring it::

    @dataclass
    class A2CConfig:
        learning_rate: float = setting(1e-3, above=0)
        gamma: float = setting(0.99, at_least=0, at_most=1)
        num_iterations: int = setting(1000, at_least=1)
        advantage_centring: bool = True

        def __post_init__(self):
            check_settings(self, "a2c")

The dataclass's ``__post_init__`` runs :func:`check_settings`, so ``--set`` overrides,
presets, sweeps, ``config.json`` read back and the Python API all pass the same check.
What the annotation means:

* ``int``: an integer (``3``; not ``3.0``, not ``True``); numpy integers too;
* ``float``: a finite number (ints accepted, stored as float); NaN, inf, ``1e400`` (JSON
  reads it as inf) and anything beyond float32's range (``1e39``: training computes in
  float32) refused;
* ``bool``: ``True`` or ``False`` only (not ``1``, ``"true"``, ``"maybe"``);
* ``str``: a string; which strings is the config's own check;
* anything else (lists such as ``payoffs``): the config's own check.

``Optional[X]`` also accepts None. Values are stored back as plain Python (numpy scalars
become ``int`` / ``float`` / ``bool``), so ``config.json`` stays JSON. An error is one line
naming the setting, the value and what is accepted, e.g.
``a2c setting learning_rate must be a finite number > 0, got inf``.

:class:`NonFiniteTrainingError` is what a run raises when its losses or weights stop
being finite: the settings were valid but too large for the run (see :func:`diverged`);
:func:`first_non_finite` finds where in a model's or trainer's state that happened.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from typing import Optional

import numpy as np
import torch

_RANGE = "ipd_env_range"
#: Largest float32: training computes in float32, so a larger setting is infinite there.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def setting(default=dataclasses.MISSING, *, default_factory=dataclasses.MISSING, at_least=None, above=None,
            at_most=None, below=None):
    """A dataclass field whose number must lie in the given range (each bound optional).

    ``at_least`` / ``at_most`` are inclusive bounds, ``above`` / ``below`` exclusive ones.
    """
    if at_least is not None and above is not None or at_most is not None and below is not None:
        raise TypeError("give at most one lower bound (at_least or above) and one upper bound (at_most or below)")
    bounds = {"at_least": at_least, "above": above, "at_most": at_most, "below": below}
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={_RANGE: {key: value for key, value in bounds.items() if value is not None}})


def declared_range(config_field: dataclasses.Field) -> Optional[dict]:
    """The bounds a field was declared with (``{"at_least": 0, ...}``), or None if it declares none."""
    return config_field.metadata.get(_RANGE)


def describe_range(bounds: dict) -> str:
    """``{"at_least": 0, "at_most": 1}`` -> ``"in [0, 1]"``; ``{"above": 0}`` -> ``"> 0"``."""
    low = ("[", bounds["at_least"]) if "at_least" in bounds else ("(", bounds["above"]) if "above" in bounds else None
    high = ("]", bounds["at_most"]) if "at_most" in bounds else (")", bounds["below"]) if "below" in bounds else None
    if low and high:
        return f"in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
    if low:
        return f"{'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f"{'<=' if high[0] == ']' else '<'} {high[1]:g}"
    return ""


def _in_range(value, bounds: dict) -> bool:
    return (value >= bounds.get("at_least", -math.inf) and value > bounds.get("above", -math.inf)
            and value <= bounds.get("at_most", math.inf) and value < bounds.get("below", math.inf))


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_value(name: str, value, kind, bounds: Optional[dict] = None, label: str = ""):
    """``value`` as the plain Python ``kind`` (int, float, bool, str), or ``ValueError`` naming ``name``.

    ``bounds`` as in :func:`setting`; ``label`` (e.g. ``"a2c"``) prefixes the message.
    """
    bounds, original = bounds or {}, value
    prefix = f"{label} setting " if label else "setting "
    where = describe_range(bounds)
    if kind is bool:
        if not _is_bool(value):
            raise ValueError(f"{prefix}{name} must be true or false, got {value!r}")
        return bool(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{prefix}{name} must be a string, got {value!r}")
        return value
    if kind is int:
        if _is_bool(value) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{prefix}{name} must be an integer{' ' + where if where else ''}, got {value!r}")
        value = int(value)
    elif kind is float:
        if _is_bool(value) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{prefix}{name} must be a finite number{' ' + where if where else ''}, got {value!r}")
        value = float(value)
        if abs(value) > FLOAT32_MAX:
            raise ValueError(f"{prefix}{name} must be a finite number{' ' + where if where else ''} within float32's "
                             f"range (training computes in float32: |value| <= {FLOAT32_MAX:.3g}), got {original!r}")
    else:
        return value
    if not _in_range(value, bounds):
        noun = "an integer" if kind is int else "a finite number"
        raise ValueError(f"{prefix}{name} must be {noun} {where}, got {original!r}")
    return value


def _kind_of(annotation):
    """``(kind, optional)`` of an annotation: ``Optional[float]`` -> ``(float, True)``."""
    if typing.get_origin(annotation) is typing.Union:
        arguments = [argument for argument in typing.get_args(annotation) if argument is not type(None)]
        optional = len(arguments) < len(typing.get_args(annotation))
        return (arguments[0] if len(arguments) == 1 else None), optional
    return annotation, False


def check_settings(config, label: str = "") -> None:
    """Check every field of the dataclass ``config`` by its annotation and declared range (module docstring).

    Stores each checked value back as plain Python. Raises ``ValueError`` on the first bad setting.
    """
    hints = typing.get_type_hints(type(config))
    for config_field in dataclasses.fields(config):
        kind, optional = _kind_of(hints.get(config_field.name))
        value = getattr(config, config_field.name)
        if optional and value is None or kind not in (int, float, bool, str):
            continue
        checked = check_value(config_field.name, value, kind, declared_range(config_field), label)
        if checked is not value:
            object.__setattr__(config, config_field.name, checked)


def numeric_settings(config_class) -> dict:
    """``{name: (kind, bounds or None)}`` of the int and float fields of a config dataclass."""
    hints = typing.get_type_hints(config_class)
    result = {}
    for config_field in dataclasses.fields(config_class):
        kind, _ = _kind_of(hints.get(config_field.name))
        if kind in (int, float):
            result[config_field.name] = (kind, declared_range(config_field))
    return result


class NonFiniteTrainingError(ValueError):
    """Training produced a NaN or infinite loss or weight; the run stopped before writing that state.

    Attributes:
        unit: the 0-based training unit (iteration or phase) where it happened.
    """

    def __init__(self, message: str, unit: Optional[int] = None):
        super().__init__(message)
        self.unit = unit


def diverged(config, unit_name: str, unit: int, what: str) -> NonFiniteTrainingError:
    """The error for a run that stopped being finite in ``unit`` (0-based); ``what`` says how
    (``"loss/policy is nan"``).

    Names the settings to lower: ``config.DIVERGENCE_SETTINGS`` (e.g. ``("learning_rate",
    "reward_scale")``) with their current values, or the learning rate when the config has none.
    """
    names = getattr(config, "DIVERGENCE_SETTINGS", ("learning_rate",))
    current = " or ".join(f"{name} (now {getattr(config, name)!r})" if hasattr(config, name) else name
                          for name in names)
    return NonFiniteTrainingError(f"training diverged in {unit_name} {unit + 1} (1-based): {what}; "
                                  f"lower {current} and train again into a new output folder", unit)


def first_non_finite(state, prefix: str = "") -> Optional[str]:
    """Where the first NaN or infinite value in a (nested) state is, e.g. ``"models.0.policy_head.weight"``.

    Looks into dicts, lists and tuples, floating-point tensors and Python floats; None when all are finite.
    """
    if isinstance(state, torch.Tensor):
        return prefix if state.is_floating_point() and not bool(torch.isfinite(state).all()) else None
    if isinstance(state, float):
        return prefix if not math.isfinite(state) else None
    if isinstance(state, dict):
        items = state.items()
    elif isinstance(state, (list, tuple)):
        items = enumerate(state)
    else:
        return None
    for key, value in items:
        found = first_non_finite(value, f"{prefix}.{key}" if prefix else str(key))
        if found is not None:
            return found
    return None
