"""``--resume`` across experiments: step2 reuses a finished step1 folder; a missing --out folder is an error."""
import functools

import pytest

from agents.harness import summary
from agents.harness.runner import run_experiment, run_unit, unit_dir


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """The summaries without their figures (drawing them is most of these tests' time)."""
    monkeypatch.setattr(summary, "aggregate", functools.partial(summary.aggregate, plots=False))


def files(directory):
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*"))
            if path.is_file()}


def test_step2_resume_reuses_the_finished_step1_of_a_step1_run(tmp_path):
    run_experiment("step1", "a2c", "test", seeds=1, out=tmp_path, progress=False)
    step1 = unit_dir(tmp_path, "step1", 0)
    before = files(step1)
    with pytest.raises(ValueError, match="step1/seed_0 already holds a run; pass --resume"):
        run_experiment("step2", "a2c", "test", seeds=1, out=tmp_path, progress=False)
    summary = run_experiment("step2", "a2c", "test", seeds=1, out=tmp_path, progress=False, resume=True)
    assert files(step1) == before  # reused as it was: not retrained, not rewritten
    assert summary["conditions"]["step2"]["complete_seeds"] == [0]
    assert summary["experiment"] == "step2"  # named after the experiment that covers both conditions
    assert (unit_dir(tmp_path, "step2", 0) / "eval.json").is_file()


def test_step2_resume_still_refuses_a_step1_trained_with_other_settings(tmp_path):
    run_unit("a2c", "step1", "step1", 0, "test", tmp_path, progress=False)
    with pytest.raises(ValueError, match="hyperparameters.learning_rate: folder has 0.005, requested 0.001"):
        run_experiment("step2", "a2c", "test", seeds=1, out=tmp_path, progress=False, resume=True,
                       overrides={"learning_rate": 1e-3})


def test_resume_into_a_folder_that_does_not_exist_is_an_error(tmp_path):
    missing = tmp_path / "mistyped"
    with pytest.raises(ValueError, match=f"^nothing to resume: the output folder {missing} does not exist; "
                                         "leave out --resume to start a new run there$"):
        run_experiment("step1", "a2c", "test", seeds=1, out=missing, progress=False, resume=True)
    assert not missing.exists()


def test_ray_backend_resume_into_a_folder_that_does_not_exist_is_an_error(tmp_path):
    from agents.harness.ray_backend import run_experiment_on_ray

    missing = tmp_path / "mistyped"
    with pytest.raises(ValueError, match="^nothing to resume: the output folder .* does not exist"):
        run_experiment_on_ray("step1", "a2c", "test", seeds=1, out=missing, resume=True)
    assert not missing.exists()
