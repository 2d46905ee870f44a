"""A missing optional dependency names the extra that installs it."""
import importlib
import sys

import pytest

from baselines.optional import MissingExtraError, import_optional


def test_import_optional_names_the_extra():
    with pytest.raises(MissingExtraError, match=r"pip install 'ipd-env\[sb3\]'"):
        import_optional("no_such_module_for_ipd_env", "sb3", "a test")


@pytest.mark.parametrize("module, blocked, extra", [
    ("baselines.axelrod_adapter", "axelrod", "axelrod"),
    ("baselines.sb3", "stable_baselines3", "sb3"),
    ("baselines.rllib", "ray", "rllib"),
])
def test_adapters_without_their_library(monkeypatch, module, blocked, extra):
    monkeypatch.setitem(sys.modules, blocked, None)  # makes `import blocked` raise ImportError
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingExtraError, match=rf"'{blocked}' is not installed.*pip install 'ipd-env\[{extra}\]'"):
        importlib.import_module(module)
    monkeypatch.delitem(sys.modules, module, raising=False)


def test_ray_backend_without_ray(monkeypatch):
    from agents.harness.ray_backend import connect

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'ipd-env\[ray\]'"):
        connect()
