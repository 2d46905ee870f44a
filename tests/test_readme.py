"""The README's Python snippets run as written (the long SB3 training calls excepted)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
# Blocks that train for 100,000 steps are documentation of the SB3 API, run by tests/integrations.
QUICK_BLOCKS = [block for block in BLOCKS if "100_000" not in block]


def test_readme_has_python_snippets():
    assert len(QUICK_BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(QUICK_BLOCKS)))
def test_readme_snippet_runs(index, capsys):
    namespace = {"__name__": f"readme_snippet_{index}"}
    exec(compile(QUICK_BLOCKS[index], f"README.md python block {index}", "exec"), namespace)
    assert capsys.readouterr().out.strip(), "every README snippet prints what its comments describe"
