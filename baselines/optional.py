"""Import an optional dependency, or say which extra of ``ipd-env`` installs it.

The environment (``ipd_env``) needs only numpy, torch, gymnasium and pettingzoo; the package
adds tqdm and safetensors (the harness's progress bars and exported weights); the adapters to
other libraries live behind extras (``setup.cfg``): ``sb3`` (stable-baselines3, sb3-contrib,
supersuit, rich), ``rllib`` (ray[rllib]), ``ray`` (ray), ``axelrod`` (axelrod), ``plot``
(matplotlib, tensorboard).
"""
from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def import_optional(module_name: str, extra: str, purpose: str = "") -> ModuleType:
    """Import ``module_name`` or raise :class:`MissingExtraError` naming ``pip install ipd-env[extra]``.

    Args:
        module_name: e.g. ``"axelrod"`` or ``"sb3_contrib"``.
        extra: the extra of ``setup.cfg`` that installs it, e.g. ``"sb3"``.
        purpose: what needs it, for the message (``"the Axelrod adapters"``).
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        needed_by = f" for {purpose}" if purpose else ""
        raise MissingExtraError(
            f"{module_name!r} is not installed; it is needed{needed_by}. "
            f"Install it with: pip install 'ipd-env[{extra}]' (or pip install -e '.[{extra}]' from a checkout)"
        ) from error
