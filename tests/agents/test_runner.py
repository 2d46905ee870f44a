"""Run folders: checkpoints, exact resume, and clear errors that leave written files intact."""
import csv
import dataclasses
import importlib.util
import json
import pickle

import pytest
import torch

from agents import a2c
from agents.algorithm import RUN_SETTINGS, Algorithm, TrainedRun
from agents.harness.algorithms import ALGORITHMS
from agents.harness.checkpoint import read_metrics
from agents.harness.experiments import get_experiment
from agents.harness.player_specs import load_run_players
from agents.harness.runner import make_unit, read_trained_run, run_experiment, run_unit, unit_dir
from agents.harness.summary import aggregate
from baselines.tabular import make_player
from ipd_env.player import play_match

TINY = {"num_iterations": 4}


def snapshot(directory):
    """Every file under ``directory`` with its bytes (to show nothing was changed)."""
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*"))
            if path.is_file() and "tb" not in path.parts}


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    full = tmp_path / "full"
    run_unit("a2c", "fig1", "mixed", 0, "test", full, overrides=TINY, progress=False)
    parts = tmp_path / "parts"
    assert run_unit("a2c", "fig1", "mixed", 0, "test", parts, overrides=TINY, progress=False, stop_after=2) is None
    run_unit("a2c", "fig1", "mixed", 0, "test", parts, overrides=TINY, progress=False, resume=True)
    full_rows = read_metrics(unit_dir(full, "mixed", 0) / "metrics.csv")
    part_rows = read_metrics(unit_dir(parts, "mixed", 0) / "metrics.csv")
    assert len(full_rows) == len(part_rows) == 4
    for full_row, part_row in zip(full_rows, part_rows):
        full_row.pop("wall_time_s"), part_row.pop("wall_time_s")
        assert full_row == part_row
    full_models = a2c.trained_models(read_trained_run(unit_dir(full, "mixed", 0))[1])
    part_models = a2c.trained_models(read_trained_run(unit_dir(parts, "mixed", 0))[1])
    for full_model, part_model in zip(full_models, part_models):
        for key, value in full_model.state_dict().items():
            assert torch.equal(value, part_model.state_dict()[key]), key


def test_checkpoint_round_trip_plays_identical_actions(tmp_path):
    condition = get_experiment("step1").condition("step1")
    config, settings = a2c.ALGORITHM.make_run("test", condition.paper_step, TINY)
    trainer = a2c.A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=condition.num_learners,
                             seed=0)
    for unit in range(2):
        trainer.train_unit(unit)
    state = trainer.state_dict()
    torch.save(state, tmp_path / "state.pt")
    restored = a2c.A2CTrainer(config, settings, pool_mode=condition.pool_mode, num_learners=condition.num_learners,
                              seed=5)
    restored.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    games = [play_match(player, make_player("tft"), 64, torch.Generator().manual_seed(1), 10)["actions"]
             for player in (trainer.players()[0], restored.players()[0])]
    assert torch.equal(games[0], games[1])
    # ... and the restored trainer continues exactly like the original.
    assert trainer.train_unit(2) == restored.train_unit(2)


def test_a_trainer_builds_on_a_trained_run_given_as_data_not_a_folder():
    step1 = a2c.A2CTrainer(*a2c.ALGORITHM.make_run("test", paper_step=1), pool_mode="tabular-only", num_learners=1,
                           seed=0)
    step1.train_unit(0)
    run = TrainedRun(config=step1.config, settings=step1.settings, pool_mode="tabular-only", num_learners=1,
                     state=step1.state_dict())
    step2 = a2c.A2CTrainer(*a2c.ALGORITHM.make_run("test", paper_step=2), pool_mode="vs-frozen", num_learners=2, seed=0,
                           frozen_from=run)
    (frozen,) = step2.frozen_players()
    assert frozen.name == "fixed-icl" and frozen.model is not step1.models[0]
    assert torch.equal(frozen.model.policy_head.weight, step1.models[0].policy_head.weight)
    step3 = a2c.A2CTrainer(*a2c.ALGORITHM.make_run("test", paper_step=3), pool_mode="learners-only", num_learners=2,
                           seed=0, init_from=TrainedRun(step2.config, step2.settings, "vs-frozen", 2,
                                                        step2.state_dict()))
    assert all(torch.equal(start.policy_head.bias, trained.policy_head.bias)
               for start, trained in zip(step3.models, step2.models))


def test_finished_folder_loads_as_players_and_summarises(tmp_path):
    summary = run_experiment("step2", "a2c", "test", seeds=2, out=tmp_path, progress=False)
    assert list(summary["conditions"]) == ["step1", "step2"]
    step2 = summary["conditions"]["step2"]
    assert step2["complete_seeds"] == [0, 1]
    assert set(step2["evaluation"]) == {"allc", "alld", "tft", "wsls", "extort2", "pool", "learner", "frozen"}
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "plots" / "training_curves.png").stat().st_size > 1000
        assert (tmp_path / "plots" / "within_episode_step2.png").is_file()
    else:  # without the [plot] extra the summary is written and says how to get plots
        assert not (tmp_path / "plots").exists() and "pip install 'ipd-env[plot]'" in summary["plots"]
    players = load_run_players(unit_dir(tmp_path, "step2", 1))
    assert len(players) == 2
    # The final evaluation vs AllC matches a fresh evaluation of the loaded players.
    evaluation = json.loads((unit_dir(tmp_path, "step2", 1) / "eval.json").read_text())
    assert 0.0 <= evaluation["learners"][0]["opponents"]["allc"]["cooperation"] <= 1.0
    assert aggregate(tmp_path, plots=False)["conditions"]["step2"]["seeds"] == [0, 1]


@pytest.mark.parametrize("call, message", [
    (dict(experiment="fig9"), "known experiments: fig1, step1, step2, step3"),
    (dict(condition="nope"), "its conditions: mixed, opponent-id, no-tabular"),
    (dict(preset="huge"), "known presets"),
    (dict(algo="dqn"), "known algorithms: a2c, ppi"),
    (dict(overrides={"learning_rate": -1.0}), "learning_rate must be a finite number > 0"),
    (dict(overrides={"gae_lambda": 1.5}), r"gae_lambda must be a finite number in \[0, 1\], got 1.5"),
    (dict(overrides={"games_per_learner": 33}), "choose a multiple of 2"),
    (dict(overrides={"learing_rate": 1e-3}), "unknown a2c hyperparameter 'learing_rate'"),
])
def test_bad_names_and_values_are_rejected_before_writing(tmp_path, call, message):
    arguments = dict(algo="a2c", experiment="fig1", condition="mixed", seed=0, preset="test", out=tmp_path / "out")
    arguments.update(call)
    with pytest.raises(ValueError, match=message):
        run_unit(progress=False, **arguments)
    assert not (tmp_path / "out").exists()


def test_resume_errors_leave_the_folder_untouched(tmp_path):
    run_unit("a2c", "fig1", "no-tabular", 0, "test", tmp_path, overrides=TINY, progress=False, stop_after=2)
    directory = unit_dir(tmp_path, "no-tabular", 0)
    before = snapshot(directory)
    with pytest.raises(ValueError, match="already holds a run"):
        run_unit("a2c", "fig1", "no-tabular", 0, "test", tmp_path, overrides=TINY, progress=False)
    with pytest.raises(ValueError, match="learning_rate: folder has 0.001, requested 0.002"):
        run_unit("a2c", "fig1", "no-tabular", 0, "test", tmp_path, overrides={**TINY, "learning_rate": 2e-3},
                 progress=False, resume=True)
    assert snapshot(directory) == before
    last = directory / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:100])  # a truncated checkpoint
    corrupt = snapshot(directory)
    with pytest.raises(ValueError, match=r"last.pt is damaged: its last line is not the 'ipd-env checkpoint 3' "
                                         r"checksum line \(truncated or appended to\)$"):
        run_unit("a2c", "fig1", "no-tabular", 0, "test", tmp_path, overrides=TINY, progress=False, resume=True)
    assert snapshot(directory) == corrupt
    last.unlink()
    with pytest.raises(ValueError, match="checkpoint .* is\n? ?missing"):
        run_unit("a2c", "fig1", "no-tabular", 0, "test", tmp_path, overrides=TINY, progress=False, resume=True)
    assert (directory / "metrics.csv").read_bytes() == corrupt["metrics.csv"]


def test_a_later_step_needs_its_prerequisite(tmp_path):
    with pytest.raises(ValueError, match="needs the finished 'step1' run of seed 0"):
        run_unit("a2c", "step2", "step2", 0, "test", tmp_path, progress=False)


@pytest.mark.parametrize("algo", ["a2c", "ppi"])
def test_a_unit_survives_pickling_as_a_process_pool_sends_it(algo):
    # --workers > 1 pickles every job; the Algorithm record holds lambdas that pickle cannot name.
    unit = make_unit(algo, "step3", "step2", 1, "test", {"learning_rate": 0.002})
    copy = pickle.loads(pickle.dumps(unit))
    assert copy == unit and copy.algorithm is ALGORITHMS[algo]
    assert copy.config.learning_rate == 0.002 and copy.condition.name == "step2" and copy.seed == 1
    # a unit not made by make_unit (here: its config changed afterwards) arrives as it was sent, not remade
    changed = dataclasses.replace(unit, config=dataclasses.replace(unit.config, learning_rate=0.5))
    assert pickle.loads(pickle.dumps(changed)).config.learning_rate == 0.5


def test_every_registered_algorithm_is_a_record_that_makes_configs_and_trainers():
    assert list(ALGORITHMS) == ["a2c", "ppi"]
    for name, algorithm in ALGORITHMS.items():
        assert isinstance(algorithm, Algorithm) and algorithm.name == name
        assert {"test", "cpu-quick", "cpu", "paper"} <= set(algorithm.presets)
        config, settings = algorithm.make_run("test", paper_step=1, overrides={"num_rounds": 7})
        assert isinstance(config, algorithm.config_class) and settings.num_rounds == 7
        assert not {item.name for item in dataclasses.fields(config)} & set(RUN_SETTINGS)  # declared once
        with pytest.raises(ValueError, match="num_rounds: run settings .*not .* hyperparameters"):
            algorithm.make_config("test", paper_step=1, overrides={"num_rounds": 7})
        trainer = algorithm.make_trainer(config, settings, pool_mode="tabular-only", num_learners=1, seed=0)
        assert trainer.config is config and trainer.num_units >= 1 and len(trainer.players()) == 1


def test_a_process_pool_trains_the_same_runs_as_one_process(tmp_path, one_thread):
    """--workers 2 sends each unit to a worker process (pickled): same metrics as training inline (both on one
    torch thread: another thread count sums in another order)."""
    run_experiment("step2", "a2c", "test", seeds=2, out=tmp_path / "inline", progress=False)
    run_experiment("step2", "a2c", "test", seeds=2, out=tmp_path / "pool", progress=False, workers=2,
                   threads_per_worker=1)
    for condition in ("step1", "step2"):
        for seed in (0, 1):
            rows = [[{key: value for key, value in row.items() if key != "wall_time_s"}
                     for row in csv.DictReader(
                         (unit_dir(tmp_path / kind, condition, seed) / "metrics.csv").read_text().splitlines())]
                    for kind in ("inline", "pool")]
            assert rows[0] == rows[1] and len(rows[0]) == 3, (condition, seed)
