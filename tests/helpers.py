"""Helpers that several test modules share (``from helpers import ...``: pytest puts ``tests/`` on the path)."""
import importlib.util
import sys
from pathlib import Path

#: The repository's root folder (examples/, benchmarks/, docs/ lie under it).
ROOT = Path(__file__).resolve().parents[1]


def load_script(path, name: str):
    """Import the script at ``path`` (an example, a benchmark, a docs figure script) as module ``name``.

    The module is registered in ``sys.modules`` under ``name`` before it runs: dataclasses look
    their module up there.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
