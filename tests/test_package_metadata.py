"""Issue 19.3: what a researcher expects beside the code: a licence, a citation, a changelog,
type information, and the paper the package reproduces, linked."""
import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ipd_env", "baselines", "agents")


def test_the_license_is_the_mit_licence_setup_cfg_declares():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["metadata"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the ipd-env authors\n")
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text


def test_the_citation_names_the_package_and_the_paper_it_reproduces():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    import ipd_env

    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["version"] == ipd_env.__version__ and citation["license"] == "MIT"
    (paper,) = citation["references"]
    assert paper["title"] == "Multi-agent cooperation through in-context co-player inference"
    assert [author["family-names"] for author in paper["authors"]] == [
        "Weis", "Wołczyk", "Nasser", "Saurous", "Agüera y Arcas", "Sacramento", "Meulemans"]
    assert paper["year"] == 2026 and paper["url"] == "https://arxiv.org/abs/2602.16301"


def test_the_changelog_keeps_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)" in text
    assert re.search(r"^## \[Unreleased\]$", text, re.MULTILINE)
    assert {"### Added", "### Changed", "### Fixed"} <= set(re.findall(r"^### \w+", text, re.MULTILINE))


def test_every_package_ships_its_type_information():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file()
        assert setup["options.package_data"][package].strip() == "py.typed"


def test_the_readme_links_the_paper():
    assert "[arXiv 2602.16301](https://arxiv.org/abs/2602.16301)" in (ROOT / "README.md").read_text()
