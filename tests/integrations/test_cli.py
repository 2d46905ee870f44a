"""The ipd-coop command: every subcommand, its --help, and its errors."""
import argparse
import importlib.util
import json

import pytest

from agents.harness.cli import build_parser, main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out


def fails(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_every_flag_of_every_subcommand_has_help():
    parser = build_parser()
    subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"reproduce", "evaluate", "play", "tournament", "sweep", "pool-stats", "plan"}
    for name, subparser in subparsers.choices.items():
        for action in subparser._actions:
            assert action.help, f"{name}: {action.dest} has no help text"
        assert "--help" in subparser.format_help()


def test_play_prints_the_ansi_render_round_by_round(capsys):
    status, out = run(capsys, "play", "tft", "alld", "--rounds", "3")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0] == "player_0 = tft, player_1 = alld, 3 rounds, payoffs paper"
    # TFT vs AllD: (C, D) then (D, D): rewards -1/2, then 0/0.
    assert lines[1].startswith("round 1/3: player_0 C, player_1 D | rewards -1, 2")
    assert lines[3].startswith("round 3/3: player_0 D, player_1 D | rewards 0, 0 | totals player_0 -1, player_1 2")


def test_evaluate_zoo_player_table_and_heatmap(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="needs the [plot] extra: pip install -e '.[plot]'")
    plot = tmp_path / "heat.png"
    curves = tmp_path / "curves.json"
    status, out = run(capsys, "evaluate", "alld", "--against", "allc,tft", "--games", "4", "--rounds", "10",
                      "--plot", str(plot), "--json", str(curves))
    assert status == 0
    assert "| allc | 2.000 | 0.000 | -1.000 | 1.000 |" in out
    # AllD vs TFT over 10 rounds: 2 in round 1, then 0: 0.2 per round; TFT cooperates once.
    assert "| tft | 0.200 | 0.000 | -0.100 | 0.100 |" in out
    assert plot.stat().st_size > 0
    assert json.loads(curves.read_text())["results"]["tft"]["reward_per_round"][:2] == [2.0, 0.0]


def test_bad_names_are_clear_errors(capsys, tmp_path):
    assert "unknown player 'foo': not a zoo member" in fails(capsys, "evaluate", "foo", "--no-plot")
    # Without the [axelrod] extra the same spec fails earlier, and the error says how to install it.
    axelrod_error = ("unknown Axelrod strategy 'Tit For Tatt'" if importlib.util.find_spec("axelrod")
                     else "pip install 'ipd-env[axelrod]'")
    assert axelrod_error in fails(capsys, "play", "tft", "axelrod:Tit For Tatt")
    assert "not a run folder: no config.json" in fails(capsys, "evaluate", str(tmp_path), "--no-plot")
    assert "unknown preset 'nope' for a2c" in fails(capsys, "reproduce", "fig1", "--preset", "nope",
                                                    "--out", str(tmp_path / "x"))
    assert "--set expects NAME=VALUE, got 'num_iterations'" in fails(capsys, "reproduce", "fig1", "--preset", "test",
                                                                   "--set", "num_iterations", "--out", str(tmp_path))
    assert "--address needs --backend ray" in fails(capsys, "reproduce", "fig1", "--preset", "test", "--address",
                                                    "ray://127.0.0.1:9", "--out", str(tmp_path / "y"))
    pytest.importorskip("ray", reason="needs the [ray] extra: pip install -e '.[ray]'")
    assert "cannot reach the Ray cluster at 'ray://127.0.0.1:9'" in fails(
        capsys, "reproduce", "fig1", "--preset", "test", "--backend", "ray", "--address", "ray://127.0.0.1:9",
        "--out", str(tmp_path / "z"))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_run")
    assert main(["reproduce", "step2", "--preset", "test", "--seeds", "1", "--out", str(out), "--quiet",
                 "--set", "num_iterations=2"]) == 0
    return out


def test_reproduce_writes_summary_table_and_plots(trained_run):
    table = (trained_run / "summary.md").read_text()
    assert table.startswith("step2 | a2c | preset test | seeds [0]")
    assert "| step2 | vs frozen (evaluation) |" in table
    summary = json.loads((trained_run / "summary.json").read_text())
    assert summary["conditions"]["step2"]["complete_seeds"] == [0]
    assert summary["conditions"]["step2"]["num_units"] == 2  # --set num_iterations=2
    config = json.loads((trained_run / "step2" / "seed_0" / "config.json").read_text())
    assert config["overrides"] == {"num_iterations": 2}
    # Plots are drawn exactly when the [plot] extra (matplotlib) is installed.
    assert (trained_run / "plots").is_dir() == (importlib.util.find_spec("matplotlib") is not None)


def test_evaluate_and_tournament_with_trained_learners(capsys, trained_run):
    run_folder = trained_run / "step2" / "seed_0"
    status, out = run(capsys, "evaluate", f"{run_folder}@1", "--against", "allc", "--games", "4", "--rounds",
                      "10", "--no-plot")
    assert status == 0 and out.startswith("step2/seed_0@1: 4 games of 10 rounds")
    status, out = run(capsys, "evaluate", str(run_folder / "checkpoints" / "final.pt"), "--against", "alld",
                      "--games", "4", "--rounds", "10", "--no-plot")
    assert status == 0 and out.startswith("step2/seed_0@0")
    assert "the run has learners 0..1, got @2" in fails(capsys, "evaluate", f"{run_folder}@2", "--no-plot")


def test_tournament_with_a_trained_learner(capsys, trained_run):
    pytest.importorskip("axelrod", reason="needs the [axelrod] extra: pip install -e '.[axelrod]'")
    run_folder = trained_run / "step2" / "seed_0"
    status, out = run(capsys, "tournament", str(run_folder), "alld", "axelrod:Grudger", "--turns", "10",
                      "--repetitions", "1", "--quiet", "--no-plot")
    lines = out.strip().splitlines()
    assert status == 0 and len(lines) == 4  # header + 3 players
    assert {line.split()[1] for line in lines[1:]} == {"step2/seed_0@0", "ipd:alld", "Grudger"}


def test_checkpoint_of_wrong_shape_or_algorithm_is_refused(capsys, trained_run, tmp_path):
    import shutil

    for change, expected in ((("hyperparameters", "hidden_size", 7), "does not match its config's model shape"),
                             (("algo", None, "ppi"), "does not fit the ppi model")):
        folder = tmp_path / f"copy_{change[0]}"
        shutil.copytree(trained_run / "step1" / "seed_0", folder)
        config = json.loads((folder / "config.json").read_text())
        if change[1] is None:
            config[change[0]] = change[2]
        else:
            config[change[0]][change[1]] = change[2]
        (folder / "config.json").write_text(json.dumps(config))
        assert expected in fails(capsys, "evaluate", str(folder), "--no-plot")


def test_plan_prints_the_cost_and_refuses_bad_input_in_one_line(capsys):
    assert main(["plan", "step1", "--preset", "test", "--seeds", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "total: 2 runs" in printed and "estimate:" in printed
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "step1", "--preset", "nosuch"])
    assert exit_info.value.code == 2 and capsys.readouterr().err.count("\n") == 1
