"""``ipd-coop sweep``: a 2x1 grid at the test preset, locally and on Ray Tune; bad grids; a killed sweep resumes."""
import json
import shutil
from pathlib import Path

import pytest

from agents.harness import runner
from agents.harness.cli import main
from agents.harness.sweep import grid_points, parse_grid, run_sweep

#: Two values of one axis times one value of another: two points, each one step1 seed at the test preset.
GRID = {"entropy_coef": [0.0, 0.1], "learning_rate": [0.005]}
SWEEP = dict(experiment="step1", grid=GRID, algo="a2c", preset="test", seeds=1, progress=False)
FIRST, SECOND = "entropy_coef=0.0,learning_rate=0.005", "entropy_coef=0.1,learning_rate=0.005"
CLI_SWEEP = ["sweep", "step1", "--algo", "A2C", "--preset", "test", "--grid", "entropy_coef=0.0,0.1",
             "--grid", "learning_rate=0.005", "--seeds", "1", "--quiet"]


def without_wall_times(metrics: dict) -> dict:
    return {name: entry for name, entry in metrics.items() if "wall_time_s" not in name}


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "local"
    return out, run_sweep(out=out, **SWEEP)


def test_grid_values_are_read_like_set_and_may_hold_commas():
    assert parse_grid(["entropy_coef=0.01,0.1", "pool=uniform;beta:0.5,0.5", "payoffs=[1,-1,2,0];",
                       "advantage_centring=true,false"]) == {
        "entropy_coef": [0.01, 0.1], "pool": ["uniform", "beta:0.5,0.5"], "payoffs": [[1, -1, 2, 0]],
        "advantage_centring": [True, False]}
    names = [point.name for point in grid_points(parse_grid(["pool=uniform;beta:0.5,0.5", "entropy_coef=0.1"]))]
    assert names == ["pool=uniform,entropy_coef=0.1", "pool=beta_0.5_0.5,entropy_coef=0.1"]
    # "a:b" and "a_b" would share a folder name: both get a hash of their settings appended.
    clashing = [point.name for point in grid_points({"pool": ["a:b", "a_b"]})]
    assert clashing[0].startswith("pool=a_b~") and clashing[1].startswith("pool=a_b~") and len(set(clashing)) == 2


def test_local_sweep_writes_both_points(local_sweep):
    out, sweep = local_sweep
    written = read(out / "sweep.json")
    assert written == sweep
    assert [point["name"] for point in written["points"]] == [FIRST, SECOND]
    assert [point["settings"] for point in written["points"]] == [{"entropy_coef": 0.0, "learning_rate": 0.005},
                                                                   {"entropy_coef": 0.1, "learning_rate": 0.005}]
    for point in written["points"]:
        summary = read(out / point["name"] / "summary.json")  # each point is a whole experiment folder
        assert (out / point["name"] / "step1" / "seed_0" / "eval.json").is_file()
        tft = summary["conditions"]["step1"]["evaluation"]["tft"]["late_reward"]
        assert point["metrics"]["step1/evaluation/tft/late_reward"] == {"mean": tft["mean"], "std": 0.0,
                                                                         "values": tft["values"]}
        assert point["complete_seeds"] == 1
    assert "step1/evaluation/tft/late_reward" in written["metrics"]
    gain = "step1/evaluation/pool/gain_fraction"  # the default ranking when the summary has the pool's gain
    assert written["sort_metric"] == (gain if gain in written["metrics"] else "step1/evaluation/tft/late_reward")
    ranked = [written["points"][index]["metrics"][written["sort_metric"]]["mean"] for index in (0, 1)]
    rows = [line for line in (out / "sweep.md").read_text().splitlines() if line.startswith("| 0.")]
    assert len(rows) == 2 and rows[0].startswith(f"| {0.0 if ranked[0] >= ranked[1] else 0.1} | 0.005 |")
    pytest.importorskip("matplotlib")
    # Named after the two default metrics (the first only when the summary has the pool's gain).
    assert Path(written["heatmap"]).is_file()
    assert Path(written["heatmap"]).name in ("sweep_pool-gain_fraction_tft-late_reward.png",
                                             "sweep_tft-late_reward.png")


@pytest.mark.parametrize("grid, message", [
    (["nonsense=1,2"], r"grid point nonsense=1 \(condition step1\): unknown a2c hyperparameter 'nonsense'"),
    (["entropy_coef=0.1,-1"], r"grid point entropy_coef=-1 \(condition step1\): .*entropy_coef must be .*>= 0"),
    (["learning_rate=0.1,abc"], r"grid point learning_rate=abc \(condition step1\)"),
    (["entropy_coef="], r"--grid entropy_coef= has no values"),
    (["entropy_coef"], r"--grid expects NAME=V1,V2,.*, got 'entropy_coef'"),
    (["=0.1,0.2"], r"--grid expects NAME=V1,V2"),
    (["entropy_coef=0.1,,0.2"], r"has an empty value"),
    (["entropy_coef=0.1", "entropy_coef=0.2"], r"--grid entropy_coef is given twice"),
    ({"entropy_coef": []}, r"grid 'entropy_coef' has no values"),
])
def test_bad_grids_are_refused_before_anything_is_written(tmp_path, grid, message):
    out = tmp_path / "sweep"
    with pytest.raises(ValueError, match=message):
        run_sweep("step1", grid, preset="test", seeds=1, out=out, progress=False)
    assert not out.exists()


def test_bad_sweep_arguments_are_refused_before_anything_is_written(tmp_path, local_sweep):
    out = tmp_path / "sweep"
    cases = [(dict(overrides={"entropy_coef": 0.2}), "entropy_coef given both as --grid and as --set"),
             (dict(backend="spark"), "unknown sweep backend 'spark'"),
             (dict(workers=0), "workers must be a positive integer, got 0"),
             (dict(heatmap=["a", "b", "c"]), "--heatmap takes one or two metrics"),
             (dict(algo="dqn"), "unknown algorithm 'dqn'"),
             (dict(seeds=0), "number of seeds must be >= 1"),
             (dict(resume=True), "nothing to resume: the sweep folder .* does not exist"),
             (dict(backend="ray", device="cuda"), "--device cuda on Ray needs GPUs reserved per trial")]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            run_sweep(out=out, **{**SWEEP, **change})
        assert not out.exists()
    existing, _ = local_sweep
    with pytest.raises(ValueError, match="is not empty; pass --resume"):
        run_sweep(out=existing, **SWEEP)
    with pytest.raises(ValueError, match="cannot resume the sweep .* other settings"):
        run_sweep(out=existing, resume=True, **{**SWEEP, "grid": {"entropy_coef": [0.5]}})


class Killed(Exception):
    """Stands for the process being killed in the middle of a unit."""


def test_killed_sweep_resumes_only_the_unfinished_point(tmp_path, monkeypatch, local_sweep):
    out = tmp_path / "killed"
    real_train = runner.train

    def killed_in_second_point(**kwargs):
        if Path(kwargs["out"]).name == SECOND:
            real_train(**{**kwargs, "stop_after": 1})  # one of its 3 iterations, checkpointed
            raise Killed
        return real_train(**kwargs)

    monkeypatch.setattr(runner, "train", killed_in_second_point)
    with pytest.raises(Killed):
        run_sweep(out=out, **SWEEP)
    assert not (out / "sweep.json").exists()
    assert (out / FIRST / "summary.json").is_file()  # a point is summarised as soon as it is done
    assert len((out / SECOND / "step1" / "seed_0" / "metrics.csv").read_text().splitlines()) == 1 + 1  # header, 1 row
    first_files = {path: path.stat().st_mtime_ns for path in (out / FIRST).rglob("*") if path.is_file()}

    units_run = []

    def recording(**kwargs):
        unit = kwargs["unit"]
        units_run.append((Path(kwargs["out"]).name, unit.condition.name, unit.seed, kwargs["resume"]))
        return real_train(**kwargs)

    monkeypatch.setattr(runner, "train", recording)
    sweep = run_sweep(out=out, resume=True, **SWEEP)
    assert units_run == [(SECOND, "step1", 0, True)]
    assert {path: path.stat().st_mtime_ns for path in (out / FIRST).rglob("*") if path.is_file()} == first_files
    assert [point["name"] for point in sweep["points"]] == [FIRST, SECOND]
    # The resumed point equals the uninterrupted one (resume continues the same random streams).
    _, uninterrupted = local_sweep
    for resumed, whole in zip(sweep["points"], uninterrupted["points"]):
        assert without_wall_times(resumed["metrics"]) == without_wall_times(whole["metrics"])


def test_ray_tune_sweep_writes_the_same_points(tmp_path, local_sweep):
    ray = pytest.importorskip("ray", reason="the Ray Tune backend needs the ray extra: pip install 'ipd-env[ray]'")
    pytest.importorskip("ray.tune", reason="the Ray Tune backend needs the ray extra: pip install 'ipd-env[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        sweep = run_sweep(out=tmp_path / "ray", backend="ray", plots=False, **SWEEP)
    finally:
        ray.shutdown()
    assert read(tmp_path / "ray" / "sweep.json")["backend"] == "ray"
    assert (tmp_path / "ray" / "tune" / "sweep" / "tuner.pkl").is_file()  # Tune's own state, for Tuner.restore
    _, local = local_sweep
    assert [point["name"] for point in sweep["points"]] == [FIRST, SECOND]
    for on_ray, here in zip(sweep["points"], local["points"]):  # one thread per run on both: same numbers
        assert (tmp_path / "ray" / on_ray["name"] / "step1" / "seed_0" / "eval.json").is_file()
        assert without_wall_times(on_ray["metrics"]) == without_wall_times(here["metrics"])


def test_cli_sweep_retabulates_a_finished_sweep(tmp_path, capsys, local_sweep):
    out = tmp_path / "copy"
    shutil.copytree(local_sweep[0], out)
    status = main(CLI_SWEEP + ["--out", str(out), "--resume", "--sort", "tft/late_cooperation",
                               "--heatmap", "tft/late_reward,alld/late_reward"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "sorted by step1/evaluation/tft/late_cooperation" in printed
    written = read(out / "sweep.json")
    assert written["sort_metric"] == "step1/evaluation/tft/late_cooperation"
    cooperation = [point["metrics"]["step1/evaluation/tft/late_cooperation"]["mean"] for point in written["points"]]
    best = written["points"][cooperation.index(max(cooperation))]["settings"]["entropy_coef"]
    rows = [line for line in (out / "sweep.md").read_text().splitlines() if line.startswith("| 0.")]
    assert rows[0].startswith(f"| {best} | 0.005 |")
    if "not drawn" not in written["heatmap"]:
        assert Path(written["heatmap"]).name == "sweep_tft-late_reward_alld-late_reward.png"


def fails(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    return error


def test_cli_sweep_errors_are_one_line(tmp_path, capsys, local_sweep):
    out = tmp_path / "new"
    base = ["sweep", "step1", "--preset", "test", "--seeds", "1", "--quiet", "--out", str(out)]
    assert fails(capsys, *base, "--grid", "nonsense=1").startswith(
        "ipd-coop sweep: error: grid point nonsense=1 (condition step1): unknown a2c hyperparameter 'nonsense'")
    assert fails(capsys, *base, "--grid", "entropy_coef").startswith(
        "ipd-coop sweep: error: --grid expects NAME=V1,V2,...")
    assert fails(capsys, *base, "--grid", "entropy_coef=").startswith(
        "ipd-coop sweep: error: --grid entropy_coef= has no values")
    assert fails(capsys, *base, "--grid", "entropy_coef=0.1", "--workers", "0").startswith(
        "ipd-coop sweep: error: argument --workers: expected a positive integer (>= 1), got 0")
    assert not out.exists()
    copy = tmp_path / "copy"
    shutil.copytree(local_sweep[0], copy)
    # A name no summary can hold is refused before anything runs (issue 19); one of the right
    # form that this sweep lacks (no condition plays a 'frozen' opponent) once the table is made.
    assert fails(capsys, *CLI_SWEEP, "--out", str(copy), "--resume", "--sort", "nope").startswith(
        "ipd-coop sweep: error: --sort 'nope' names no metric of this sweep; metrics are <condition>/evaluation/")
    assert fails(capsys, *CLI_SWEEP, "--out", str(copy), "--resume", "--sort", "frozen/late_reward").startswith(
        "ipd-coop sweep: error: no sweep metric 'frozen/late_reward'; known metrics: step1/")
