"""The documentation site builds with ``mkdocs build --strict``: a broken link, nav entry or API reference fails.

MkDocs counts warnings for ``--strict`` only when it logs them, and ``--quiet`` stops the
logging: with it, a dead link built with exit status 0 (issue 19.2). The build runs without
``--quiet``, and :func:`test_a_broken_link_fails_the_build` proves on a temporary copy of the
docs that the same command fails on one warning.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs", reason="needs the [docs] extra: pip install -e '.[docs]'")
pytest.importorskip("material", reason="needs the [docs] extra (mkdocs-material): pip install -e '.[docs]'")
pytest.importorskip("mkdocstrings_handlers.python",
                    reason="needs the [docs] extra (mkdocstrings[python]): pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]


def build(config: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site``: exit status 1 on any warning."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=600)


def test_a_broken_link_fails_the_build(tmp_path):
    """The check can fail: a copy of the docs with one dead link does not build."""
    copy = tmp_path / "repository"
    shutil.copytree(ROOT / "docs", copy / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", copy / "README.md")  # the pages include sections of it
    for package in ("ipd_env", "baselines", "agents"):  # the API pages' sources, as they are
        (copy / package).symlink_to(ROOT / package)
    index = copy / "docs" / "index.md"
    index.write_text(index.read_text() + "\nSee [a page that does not exist](no-such-page.md).\n")
    result = build(copy / "docs" / "mkdocs.yml", tmp_path / "site", tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "'no-such-page.md', but the target is not found among documentation files" in output
    assert "Aborted with" in output and "in strict mode" in output


def test_site_builds_strictly_with_every_page_the_env_doc_the_api_and_the_figures(tmp_path):
    site = tmp_path / "site"
    # From another directory than the repository root: the build may not depend on the cwd.
    result = build(ROOT / "docs" / "mkdocs.yml", site, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "WARNING" not in output, output

    env_page = (site / "env" / "index.html").read_text()
    assert "Iterated Prisoner" in env_page and "Version History" in env_page  # the module docstring is the page
    animation = 'src="../figures/env_tft_vs_extort2.gif"'  # the page opens with a rendered game (issue 19.3)
    assert env_page.index(animation) < env_page.index('<h1 id="iterated-prisoners-dilemma"')
    assert (site / "figures" / "env_tft_vs_extort2.gif").is_file()
    assert 'id="ipd_env.ipd.IPDParallelEnv"' in env_page  # mkdocstrings rendered the API reference
    cli_page = (site / "cli" / "index.html").read_text()
    assert "usage: ipd-coop reproduce" in cli_page  # generated from argparse at build time
    reproduce_page = (site / "reproduce" / "index.html").read_text()
    # The README's results (between its [start:results] and [end:results] markers) are included, table and all.
    start, end = reproduce_page.index('id="status-of-the-reproduction"'), reproduce_page.index('id="figures"')
    status = reproduce_page[start:end]
    assert "<table>" in status and "--8&lt;--" not in status
    shown = set(re.findall(r'src="\.\./figures/([\w.-]+\.png)"', reproduce_page))
    assert len(shown) >= 9 and all((site / "figures" / name).is_file() for name in shown)  # A2C and PPI figures
    assert not (site / "mkdocs.yml").exists() and not (site / "hooks").exists()
