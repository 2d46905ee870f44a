"""reproduce --batch-seeds writes the same run folders as seeds run one by one (A2C, CPU)."""
import csv

import pytest

from agents.harness.runner import make_unit, run_experiment, train_seed_batch


def rows(path):
    with open(path) as handle:
        return [{key: value for key, value in row.items() if key != "wall_time_s"} for row in csv.DictReader(handle)]


def test_batched_seeds_write_what_separate_runs_write(tmp_path):
    options = dict(algo="a2c", preset="test", seeds=2, progress=False, overrides={"num_iterations": 4})
    run_experiment("step3", out=tmp_path / "separate", **options)
    run_experiment("step3", out=tmp_path / "batched", batch_seeds=True, **options)
    for condition in ("step1", "step2", "step3"):
        for seed in (0, 1):
            unit = f"{condition}/seed_{seed}"
            for name in ("metrics.csv", "eval_metrics.csv"):
                batched, separate = tmp_path / "batched" / unit / name, tmp_path / "separate" / unit / name
                assert rows(batched) == rows(separate), (unit, name)
            assert (tmp_path / "batched" / unit / "eval.json").exists()


def test_batched_seeds_resume_where_they_stopped(tmp_path):
    units = [make_unit("a2c", "step1", "step1", seed, "test", {"num_iterations": 4}) for seed in (0, 1)]
    assert train_seed_batch(units, tmp_path / "stopped", progress=False, stop_after=2) == [None, None]
    resumed = train_seed_batch(units, tmp_path / "stopped", resume=True, progress=False)
    train_seed_batch(units, tmp_path / "straight", progress=False)
    for seed in (0, 1):
        assert rows(tmp_path / "stopped" / f"step1/seed_{seed}/metrics.csv") == \
            rows(tmp_path / "straight" / f"step1/seed_{seed}/metrics.csv")
    assert [result["num_units"] for result in resumed] == [4, 4]


def test_batched_seeds_are_refused_where_they_do_not_apply(tmp_path):
    with pytest.raises(ValueError, match="--batch-seeds is an A2C option; ppi trains its seeds one by one"):
        run_experiment("step1", algo="ppi", preset="test", seeds=2, out=tmp_path / "p", batch_seeds=True)
    with pytest.raises(ValueError, match="leave out --workers"):
        run_experiment("step1", preset="test", seeds=2, out=tmp_path / "w", batch_seeds=True, workers=2)
