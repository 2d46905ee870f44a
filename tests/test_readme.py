"""The Python snippets of the README and of the documentation pages run as written.

Every ```python block of README.md and docs/*.md runs, in a fresh namespace and a
temporary working directory, and must print something (what its comments describe).
Not run: blocks fenced as ```py (shown, too long to run here), blocks that train for
100,000 steps (documentation of the SB3 API, run by tests/integrations), and the pages in
NOT_RUN. A block that imports an optional library skips without it, naming the extra
that installs it.
"""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Pages whose Python blocks are illustrations of a user's own run, not self-contained, and why.
NOT_RUN = {"diagnostics.md": "its example reads a run folder the reader trained, with pandas"}
DOCUMENTS = [ROOT / "README.md", *sorted(page for page in (ROOT / "docs").glob("*.md") if page.name not in NOT_RUN)]
# Top-level modules that only an extra installs -> the extra (setup.cfg).
EXTRA_OF_MODULE = {"stable_baselines3": "sb3", "sb3_contrib": "sb3", "supersuit": "sb3", "axelrod": "axelrod",
                   "ray": "rllib", "matplotlib": "plot", "tensorboard": "plot"}
IMPORTED = re.compile(r"^\s*(?:import|from)\s+([\w]+)", flags=re.MULTILINE)


def python_blocks():
    blocks = []
    for document in DOCUMENTS:
        found = re.findall(r"^```python\n(.*?)^```", document.read_text(), flags=re.DOTALL | re.MULTILINE)
        blocks += [(f"{document.relative_to(ROOT)}:{index}", block) for index, block in enumerate(found)
                   if "100_000" not in block]
    return blocks


BLOCKS = python_blocks()


def test_readme_and_docs_have_python_snippets():
    readme_blocks = [name for name, _ in BLOCKS if name.startswith("README.md:")]
    assert len(readme_blocks) >= 1 and len(BLOCKS) >= 6


@pytest.mark.parametrize("name, block", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_snippet_runs(name, block, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # what a snippet writes (run folders, plots) lands in a temporary folder
    for module in IMPORTED.findall(block):
        if module in EXTRA_OF_MODULE and importlib.util.find_spec(module) is None:
            extra = EXTRA_OF_MODULE[module]
            pytest.skip(f"{name} imports {module}: needs the [{extra}] extra: pip install -e '.[{extra}]'")
    namespace = {"__name__": f"snippet_{name}"}
    exec(compile(block, name, "exec"), namespace)
    assert capsys.readouterr().out.strip(), "every snippet prints what its comments describe"
