"""The documentation site builds with ``mkdocs build --strict``: a broken link, nav entry or API reference fails."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="needs the [docs] extra: pip install -e '.[docs]'")
pytest.importorskip("material", reason="needs the [docs] extra (mkdocs-material): pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings_handlers.python", reason="needs the [docs] extra (mkdocstrings[python]): pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]


def test_site_builds_strictly_with_every_page_the_env_doc_the_api_and_the_figures(tmp_path):
    site = tmp_path / "site"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    # From another directory than the repository root: the build may not depend on the cwd.
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--config-file", str(ROOT / "docs" / "mkdocs.yml"), "--site-dir", str(site)],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr

    env_page = (site / "env" / "index.html").read_text()
    assert "Iterated Prisoner" in env_page and "Version History" in env_page  # the module docstring is the page
    assert 'id="ipd_env.ipd.IPDParallelEnv"' in env_page  # mkdocstrings rendered the API reference
    cli_page = (site / "cli" / "index.html").read_text()
    assert "usage: ipd-coop reproduce" in cli_page  # generated from argparse at build time
    reproduce_page = (site / "reproduce" / "index.html").read_text()
    # The README's results (between its [start:results] and [end:results] markers) are included, table and all.
    status = reproduce_page[reproduce_page.index('id="status-of-the-reproduction"'):reproduce_page.index('id="figures"')]
    assert "<table>" in status and "--8&lt;--" not in status
    shown = set(re.findall(r'src="\.\./figures/([\w.-]+\.png)"', reproduce_page))
    assert len(shown) >= 9 and all((site / "figures" / name).is_file() for name in shown)  # A2C and PPI figures
    assert not (site / "mkdocs.yml").exists() and not (site / "hooks").exists()
