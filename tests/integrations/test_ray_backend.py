"""The Ray backend: a tiny sweep on a local Ray with 2 workers gives the local backend's summary."""
import json

import pytest

ray = pytest.importorskip("ray", reason="needs the [ray] extra: pip install -e '.[ray]'")

from agents.harness.ray_backend import check_reachable, run_experiment_on_ray  # noqa: E402  (after importorskip, which skips the module without its extra)
from agents.harness.runner import run_experiment  # noqa: E402  (after importorskip, which skips the module without its extra)

SWEEP = dict(experiment="step2", algo="a2c", preset="test", seeds=2)


def comparable(summary):
    """The summary without what legitimately differs between two runs: times and plot paths."""
    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items()
                    if key not in ("wall_time_s", "plots", "started")}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value
    return strip(summary)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_sweep_matches_local_sweep(local_ray, tmp_path, one_thread):
    local = run_experiment(out=tmp_path / "local", progress=False, **SWEEP)  # one thread, as each Ray task
    on_ray = run_experiment_on_ray(out=tmp_path / "ray", plots=False, **SWEEP)
    # step2 runs step1 first (its prerequisite) in the same folder: 2 conditions x 2 seeds.
    for condition in ("step1", "step2"):
        for seed in (0, 1):
            assert (tmp_path / "ray" / condition / f"seed_{seed}" / "eval.json").is_file()
    assert "provenance" in on_ray and "provenance" in local
    assert comparable(on_ray) == comparable(local)
    written = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert written["conditions"]["step2"]["complete_seeds"] == [0, 1]


def test_unreachable_address_is_a_clear_error():
    # Port 9 (discard) on localhost: nothing listens there in a test environment.
    with pytest.raises(ConnectionError, match="cannot reach the Ray cluster at 'ray://127.0.0.1:9'"):
        check_reachable("ray://127.0.0.1:9", timeout_s=2.0)


def test_bad_names_fail_before_ray_starts(tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'fig9'"):
        run_experiment_on_ray("fig9", out=tmp_path, address="ray://127.0.0.1:9")
