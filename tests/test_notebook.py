"""examples/getting_started.ipynb runs as written: every code cell, in order, in one namespace.

nbclient / ipykernel are not dependencies of the package, so the cells run here with
``exec`` (in a temporary working directory, matplotlib on Agg): what a kernel would do for
plain Python cells. The notebook must hold no magics (``%``, ``!``), which only a kernel
runs, and no stored outputs, so the file in git is the code alone. A failing cell fails
the test naming the cell's number and its first line.
"""
from __future__ import annotations

import json
import re
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "getting_started.ipynb"


def load_notebook(path: Path) -> dict:
    """The notebook's JSON, checked to be nbformat 4.5 (the fields Jupyter requires) with no stored outputs."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook.get("nbformat") == 4 and isinstance(notebook.get("cells"), list), f"{path} is not nbformat 4"
    assert isinstance(notebook.get("metadata"), dict) and notebook.get("nbformat_minor", 0) >= 5
    ids = [cell.get("id", "") for cell in notebook["cells"]]  # nbformat 4.5: every cell has a unique id
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", cell_id) for cell_id in ids)
    for number, cell in enumerate(notebook["cells"], start=1):
        assert cell["cell_type"] in ("markdown", "code", "raw") and isinstance(cell["source"], list), number
        assert isinstance(cell["metadata"], dict), number
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"cell {number} has stored outputs"
    return notebook


def code_cells(notebook: dict) -> list:
    """``[(number, source)]`` of the code cells, numbered as a reader counts all cells, from 1."""
    return [(number, "".join(cell["source"])) for number, cell in enumerate(notebook["cells"], start=1)
            if cell["cell_type"] == "code"]


def run_cells(cells: list, name: str) -> dict:
    """Run ``cells`` in order in one namespace; a failure is ``pytest.fail`` naming the cell."""
    namespace = {"__name__": "__main__"}
    for number, source in cells:
        try:
            exec(compile(source, f"{name} cell {number}", "exec"), namespace)
        except Exception:
            first_line = source.strip().splitlines()[0] if source.strip() else ""
            pytest.fail(f"{name}: cell {number} ({first_line!r}) failed:\n{traceback.format_exc()}", pytrace=False)
    return namespace


@pytest.fixture
def notebook_workdir(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the notebook draws: needs the [plot] extra: pip install -e '.[plot]'")
    import matplotlib

    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # the training run's folder lands in tmp_path too
    yield tmp_path
    import matplotlib.pyplot as plt

    plt.close("all")


def test_the_getting_started_notebook_runs_top_to_bottom(notebook_workdir, capsys):
    notebook = load_notebook(NOTEBOOK)
    cells = code_cells(notebook)
    assert len(cells) >= 6 and not any(line.lstrip().startswith(("%", "!"))
                                       for _, source in cells for line in source.splitlines())
    namespace = run_cells(cells, NOTEBOOK.name)
    printed = capsys.readouterr().out
    assert "always-defect against TFT over 100 rounds: 2" in printed  # the quickstart
    assert abs(namespace["simulated"] - namespace["exact"]).max() < 0.2  # the round robin: simulated near exact
    assert namespace["exact"][1, 0] == 2.0 and namespace["exact"][2, 3] == 1.0  # AllD vs AllC: T; TFT vs WSLS: R
    assert "| step1 |" in printed  # the run's summary.md
    assert namespace["curves"].shape == (2, namespace["summary"]["conditions"]["step1"]["num_units"])
    assert (namespace["low"] <= namespace["centre"]).all() and (namespace["centre"] <= namespace["high"]).all()
    assert namespace["centre"][-1] < namespace["centre"][0] - 0.1  # Step 1's start: cooperation falls (0.46 -> 0.12)
    assert Path(namespace["out"]).is_relative_to(notebook_workdir)


def test_a_failing_cell_is_named_by_its_number(tmp_path):
    cells = [(2, "value = 1"), (4, "value = value / 0  # breaks"), (5, "never = True")]
    with pytest.raises(pytest.fail.Exception, match=r"^demo: cell 4 \('value = value / 0  # breaks'\) failed:\n"
                                                    r"(.|\n)*ZeroDivisionError"):
        run_cells(cells, "demo")
