"""``ipd-coop``: the package's one command (installed by ``pip install ipd-env``).

::

    ipd-coop reproduce fig1                       # the paper's Fig. 1, quick CPU preset, ./runs/...
    ipd-coop reproduce step3 --algo ppi --preset cpu --seeds 5 --backend ray
    ipd-coop evaluate runs/fig1-a2c-cpu-quick/mixed/seed_0 --against allc,alld,tft,wsls,axelrod:Grudger
    ipd-coop play tft axelrod:Alternator --rounds 8
    ipd-coop tournament tft wsls extort2 runs/.../mixed/seed_0 --classics
    ipd-coop pool-stats sharpened:3                # what knowing the co-player is worth

Players are named as in :mod:`agents.harness.player_specs` (zoo names, ``axelrod:<strategy>``,
run folders). Every subcommand explains its flags with ``--help``. Bad input ends with a
one-line ``ipd-coop <command>: error: ...`` and exit status 2, never a traceback: counts,
seeds and devices are checked by the argument types below, output paths before any work
starts, and :func:`main` turns every error a user can cause (bad values, missing extras,
unreachable clusters, unwritable or missing files) into that one line.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from baselines.optional import MissingExtraError

DEFAULT_COPLAYERS = "allc,alld,tft,wsls"
MAX_SEED = 2**32 - 1
DEVICE_TYPES = ("cpu", "cuda", "mps")


# ---------------------------------------------------------------------------- argument types
def _integer(text: str, low: int, high: Optional[int], expected: str, expected_in_range: str) -> int:
    """``text`` as an integer in ``[low, high]`` (``high`` None: no upper bound), else the
    argparse error "expected ..., got ..." (``expected`` for non-integer text,
    ``expected_in_range`` for an integer out of range)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {expected_in_range}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts: seeds, games, rounds, turns, repetitions, workers, threads)."""
    return _integer(text, 1, None, "a positive integer", "a positive integer (>= 1)")


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32 - 1]."""
    expected = f"an integer seed in [0, {MAX_SEED}]"
    return _integer(text, 0, MAX_SEED, expected, expected)


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (e.g. GPUs per unit, fractions allowed)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def torch_device(text: str) -> str:
    """argparse type: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``, and only one this machine has."""
    if text == "cpu":
        return text  # the default: no torch import at parse time
    device_type, _, index_text = text.partition(":")
    if (device_type not in DEVICE_TYPES or (index_text and not index_text.isdigit())
            or (index_text and device_type != "cuda")):
        raise argparse.ArgumentTypeError(f"expected one of cpu, cuda, cuda:N, mps, got {text!r}")
    import torch

    if device_type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise argparse.ArgumentTypeError(f"{text!r} asked for, but torch sees no CUDA GPU here; use --device cpu")
        if index_text and int(index_text) >= count:
            raise argparse.ArgumentTypeError(
                f"{text!r} asked for, but torch sees {count} CUDA GPU(s): cuda:0..cuda:{count - 1}")
    if device_type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(
            "'mps' asked for, but this machine has no usable Apple MPS device; use --device cpu")
    return text


# ---------------------------------------------------------------------------- output paths
def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``.`` for a relative path with none)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_output(path, argument: str, folder: bool) -> Path:
    """Refuse, before any work, an output path that cannot be written.

    Args:
        path: the folder (``folder=True``) or file to be written; missing parents are fine.
        argument: the flag it came from, named in the error (e.g. ``"--out"``).

    Raises:
        ValueError: the path is a file where a folder is needed or the reverse, lies under
            a file (or a device such as /dev/null), or its nearest existing folder is not
            writable. Paths the kernel refuses later (e.g. under /proc) still fail with an
            OSError, which :func:`main` reports in one line naming ``argument``.
    """
    if not str(path).strip():
        raise ValueError(f"{argument} is empty; give a {'folder' if folder else 'file'} path")
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise ValueError(f"{argument} {path}: exists and is not a folder; choose a folder path")
        if not folder and path.is_dir():
            raise ValueError(f"{argument} {path}: is a folder; give a file name")
    existing = _nearest_existing(path if folder else path.parent)
    if not existing.is_dir():
        raise ValueError(f"{argument} {path}: {existing} is not a folder, so nothing can be created under it")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{argument} {path}: the folder {existing} is not writable")
    return path


def _argument_of(args, filename: Optional[str]) -> Optional[str]:
    """``"--out DIR"`` (or ``--plot``, ``--json``) when ``filename`` is that output path or under it, else None."""
    if filename is None:
        return None
    target = os.path.abspath(filename)
    for flag in ("out", "plot", "json"):
        value = getattr(args, flag, None)
        if value:
            root = os.path.abspath(value)
            if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
                return f"--{flag} {value}"
    return None


def one_line(message: str, max_parts: int = 4) -> str:
    """Collapse a multi-line error (e.g. a resume's config differences) into one line, at most ``max_parts`` parts."""
    parts = [part.strip() for part in str(message).splitlines() if part.strip()]
    if len(parts) > max_parts:
        parts = parts[:max_parts] + [f"... and {len(parts) - max_parts} more"]
    text = parts[0] if parts else ""
    for previous, part in zip(parts, parts[1:]):
        text += (" " if previous.endswith(":") else "; ") + part
    return text


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``<prog>: error: <message> (see <prog> --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- reproduce
def split_names(text: str, argument: str) -> list:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; ``ValueError`` naming ``argument`` for an empty list or an
    empty name in it (``"tft,,alld"``), which would otherwise be dropped or taken as "all"."""
    names = [name.strip() for name in str(text).split(",")]
    if not any(names):
        raise ValueError(f"{argument} is empty; give one or more comma-separated names")
    if "" in names:
        raise ValueError(f"{argument} {text!r} has an empty name (position {names.index('') + 1}); "
                         f"separate names by single commas")
    return names


def parse_overrides(items) -> dict:
    """``["learning_rate=1e-3", "num_iterations=50"]`` -> ``{name: value}``, values parsed as JSON when they are.

    A name given twice is refused (the last one would win silently)."""
    overrides = {}
    for item in items or []:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        if key in overrides:
            raise ValueError(
                f"--set {key} is given twice ({key}={json.dumps(overrides[key])} and {item}); give it once")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def command_reproduce(args) -> int:
    from agents.harness.plan import print_plan_header
    from agents.harness.runner import run_experiment
    from agents.harness.summary import format_summary

    conditions = split_names(args.conditions, "--conditions") if args.conditions is not None else None
    out = check_output(args.out if args.out is not None else f"runs/{args.experiment}-{args.algo}-{args.preset}",
                       "--out", folder=True)
    common = dict(experiment=args.experiment, algo=args.algo, preset=args.preset, seeds=args.seeds, out=out,
                  device=args.device, resume=args.resume, conditions=conditions,
                  overrides=parse_overrides(args.set))
    # The plan is printed once every check has passed: a refused command prints only its error.
    plan = None if args.no_plan else functools.partial(print_plan_header, args)
    if args.backend == "ray":
        if args.batch_seeds:
            raise ValueError("--batch-seeds needs the local backend (Ray runs each seed as its own task)")
        summary = _reproduce_on_ray(args, common, plan)
    else:
        if args.address:
            raise ValueError("--address needs --backend ray")
        summary = run_experiment(progress=not args.quiet, workers=args.workers, threads_per_worker=args.threads,
                                 on_checked=plan, batch_seeds=args.batch_seeds, **common)
    # The runner's aggregate step wrote summary.md (with the paper's value beside each number).
    table = format_summary(summary)
    (out / "summary.md").write_text(table + "\n")
    print(table)
    print(f"\nsummary: {out / 'summary.json'} (table: {out / 'summary.md'})")
    plots = summary.get("plots")
    print(f"plots:   {out / 'plots'}" if isinstance(plots, list) else f"plots:   {plots}")
    return 0


def _reproduce_on_ray(args, common: dict, on_checked=None) -> dict:
    """``reproduce --backend ray``: checked as the local backend checks, then run while this process holds
    the folder's lock (the Ray tasks write it for this process)."""
    from agents.harness.ray_backend import run_experiment_on_ray
    from agents.harness.run_folder import locked
    from agents.harness.runner import check_experiment_folder, check_resume_target, check_units_fit, make_units

    out, experiment, algo, resume = common["out"], common["experiment"], common["algo"], common["resume"]
    units = make_units(experiment, algo, common["preset"], common["seeds"], common["overrides"],
                       common["conditions"]).values()
    check_units_fit(units, common["device"])
    check_resume_target(out, resume)
    check_experiment_folder(out, experiment, algo, units, resume)
    if on_checked is not None:
        on_checked()
    with locked(out):
        check_experiment_folder(out, experiment, algo, units, resume, record=True)
        # run_experiment_on_ray records the provenance and returns summary.json with it, as run_experiment does.
        return run_experiment_on_ray(address=args.address, num_cpus=args.num_cpus,
                                     gpus_per_unit=args.gpus_per_unit, cpus_per_unit=args.threads or 1, **common)


# ---------------------------------------------------------------------------- evaluate
def trained_payoffs_note(spec: str, payoffs) -> Optional[str]:
    """A note when ``spec`` is a trained learner whose run used other payoffs than ``payoffs``, else None."""
    import numpy as np

    from agents.harness.checkpoint import read_json
    from agents.harness.player_specs import AXELROD_PREFIX, run_folder_of
    from ipd_env.game import PAYOFF_PRESETS, make_payoff_table

    path_text = spec.rpartition("@")[0] if "@" in spec else spec
    if spec.lower().startswith(AXELROD_PREFIX) or not Path(path_text).exists():
        return None
    config_path = run_folder_of(path_text) / "config.json"
    if not config_path.is_file():
        return None
    trained = read_json(config_path).get("hyperparameters", {}).get("payoffs", "paper")
    table = make_payoff_table(trained)
    if np.array_equal(table, make_payoff_table(payoffs)):
        return None
    preset = next((name for name in PAYOFF_PRESETS if np.array_equal(make_payoff_table(name), table)), None)
    shown = f"{preset} {tuple(PAYOFF_PRESETS[preset])}" if preset else str(trained)
    advice = (f"pass --payoffs {preset} to evaluate it in its own game" if preset
              else "no preset is its game")
    return f"note: {spec} was trained with payoffs {shown}; here it plays, and observes the rewards of, " \
           f"payoffs {payoffs} ({advice})"


def command_evaluate(args) -> int:
    from agents.harness.evaluation import evaluate_against
    from agents.harness.player_specs import resolve_player, split_specs

    if args.json:
        check_output(args.json, "--json", folder=False)
    if not args.no_plot:
        check_output(args.plot, "--plot", folder=False)
    specs = split_specs(",".join(split_names(args.against, "--against")))
    name, player = resolve_player(args.player, args.payoffs, args.device, args.rounds)
    coplayers = dict(resolve_player(spec, args.payoffs, args.device, args.rounds) for spec in specs)
    notes = [note for note in (trained_payoffs_note(spec, args.payoffs) for spec in [args.player, *specs]) if note]
    results = evaluate_against(player, coplayers, args.games, args.rounds, args.payoffs, args.seed, args.device)
    print(f"{name}: {args.games} games of {args.rounds} rounds per co-player "
          f"(payoffs {args.payoffs}, seed {args.seed})")
    for note in notes:
        print(note)
    print("| co-player | reward / round | cooperation | co-player reward | co-player cooperation |")
    print("|---|---|---|---|---|")
    for coplayer, values in results.items():
        print(f"| {coplayer} | {values['reward']:.3f} | {values['cooperation']:.3f} | "
              f"{values['coplayer_reward']:.3f} | {values['coplayer_cooperation']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"player": name, "results": results}, indent=1))
        print(f"per-round curves: {args.json}")
    if not args.no_plot:
        from agents.harness.plots import plot_evaluation_heatmap

        print(f"heatmap: {plot_evaluation_heatmap(Path(args.plot), name, results)}")
    return 0


# ---------------------------------------------------------------------------- play
def command_play(args) -> int:
    import ipd_env
    from agents.harness.player_specs import resolve_player
    from ipd_env.player import play_parallel

    players = [resolve_player(spec, args.payoffs, "cpu", args.rounds) for spec in (args.player_0, args.player_1)]
    env = ipd_env.parallel_env(payoffs=args.payoffs, max_cycles=args.rounds, render_mode="ansi")
    print(f"player_0 = {players[0][0]}, player_1 = {players[1][0]}, {args.rounds} rounds, payoffs {args.payoffs}")
    play_parallel(env, [player for _, player in players], seed=args.seed,
                  on_round=lambda actions, rewards: print(env.render()))
    env.close()
    return 0


# ---------------------------------------------------------------------------- tournament
def tournament_player(spec: str, payoffs, num_rounds: int):
    """An ``axelrod.Player`` for a player spec: Axelrod strategies natively, ours wrapped."""
    from agents.harness.player_specs import AXELROD_PREFIX, resolve_player, run_folder_of
    from baselines.axelrod_adapter import IPDStrategy, axelrod_strategy

    if spec.lower().startswith(AXELROD_PREFIX):
        return axelrod_strategy(spec[len(AXELROD_PREFIX):])()
    name, player = resolve_player(spec, payoffs, "cpu", num_rounds)
    if "@" in name:  # a trained learner: it observes the rewards of the game it was trained on
        from agents.harness.checkpoint import read_json

        path_text = spec.rpartition("@")[0] if "@" in spec and Path(spec.rpartition("@")[0]).exists() else spec
        config = read_json(run_folder_of(path_text) / "config.json")
        trained_payoffs = config.get("hyperparameters", {}).get("payoffs", "paper")
        return IPDStrategy(player, name=name, reward_payoffs=trained_payoffs)
    return IPDStrategy(player, name=f"ipd:{name}")


def command_tournament(args) -> int:
    from baselines.optional import import_optional

    axl = import_optional("axelrod", "axelrod", "ipd-coop tournament")
    if not args.no_plot:
        check_output(args.plot, "--plot", folder=False)
    from baselines.axelrod_adapter import axelrod_game, classic_tournament_strategies, format_ranked_table, ranked_table

    specs = list(args.players) or ["allc", "alld", "tft", "wsls", "extort2", "gtft"]
    players = [tournament_player(spec, args.payoffs, args.turns) for spec in specs]
    if args.classics or not args.players:
        players += classic_tournament_strategies()
    if len(players) < 2:
        raise ValueError("a tournament needs at least two players (add more, or --classics)")
    tournament = axl.Tournament(players, game=axelrod_game(args.payoffs), turns=args.turns,
                                repetitions=args.repetitions, seed=args.seed)
    rows = ranked_table(tournament.play(progress_bar=not args.quiet))
    print(format_ranked_table(rows))
    if not args.no_plot:
        from agents.harness.plots import plot_tournament

        print(f"plot: {plot_tournament(Path(args.plot), rows)}")
    return 0


# ---------------------------------------------------------------------------- sweep
def command_sweep(args) -> int:
    from agents.harness.plan import print_plan_header
    from agents.harness.sweep import run_sweep

    out = check_output(args.out if args.out is not None else f"sweeps/{args.experiment}-{args.algo}-{args.preset}",
                       "--out", folder=True)
    heatmap = split_names(args.heatmap, "--heatmap") if args.heatmap is not None else None
    if args.sort is not None and not args.sort.strip():
        raise ValueError("--sort is empty; give a metric name such as tft/late_reward")
    plan = None if args.no_plan else functools.partial(print_plan_header, args)  # once every check has passed
    sweep = run_sweep(args.experiment, args.grid, algo=args.algo, preset=args.preset, seeds=args.seeds, out=out,
                      overrides=parse_overrides(args.set), backend=args.backend, resume=args.resume,
                      workers=args.workers, threads=args.threads, device=args.device, sort=args.sort,
                      heatmap=heatmap, progress=not args.quiet,
                      plots=not args.no_plot, address=args.address, num_cpus=args.num_cpus,
                      gpus_per_point=args.gpus_per_point, on_checked=plan)
    print(Path(sweep["table"]).read_text(), end="")
    print(f"\nsweep:   {out / 'sweep.json'} (table: {out / 'sweep.md'})")
    if "heatmap" in sweep:
        drawn = not sweep["heatmap"].startswith("not drawn")
        print(f"heatmap: {out / Path(sweep['heatmap']).name if drawn else sweep['heatmap']}")
    return 0


# ---------------------------------------------------------------------------- pool-stats
def command_pool_stats(args) -> int:
    from baselines.incontext import PAYING_MARGIN, pool_stats
    from ipd_env.sizes import check_fits

    if args.json not in (None, "-"):
        check_output(args.json, "--json", folder=False)
    # The evaluation set [size, 5] and the exact rewards of the 32 deterministic replies [32, size], float64.
    check_fits(args.size * (5 + 32) * 8, f"--size {args.size} co-players", "cpu", hint="give a smaller --size")
    stats = pool_stats(args.pool, args.rounds, args.payoffs, args.size, args.seed)
    if args.json == "-":
        print(json.dumps(stats, indent=1))
        return 0
    reference = stats["reference_rewards"]
    rows = [("always defect (AllD)", stats["alld_reward"]),
            ("oracle: best memory-1 reply, chosen per co-player", stats["oracle_reward"]),
            ("exact optimum per co-player (dynamic programming)", stats["dp_reward"]),
            (f"best single memory-1 reply ({stats['best_fixed_reply']['moves']})", stats["best_fixed_reply"]["reward"])]
    rows += [(name, reference[key]) for key, name in (("allc", "AllC"), ("tft", "TFT"), ("wsls", "WSLS"),
                                                      ("extort2", "Extort-2"))]
    print(f"pool {stats['pool']}: {stats['size']} co-players (seed {stats['seed']}), {stats['num_rounds']} rounds, "
          f"payoffs {args.payoffs}; exact expected rewards")
    print("| player | reward / round |\n|---|---|")
    for name, reward in rows:
        print(f"| {name} | {reward:.3f} |")
    print(f"prize (oracle - AllD): {stats['prize']:.3f} per round; knowing the co-player pays more than "
          f"{PAYING_MARGIN:g} per round against {stats['share_paying']:.1%} of co-players; AllD is already the best "
          f"reply to {stats['share_alld_best']:.1%}; the 10% most reciprocal hold "
          f"{stats['oracle_top_decile_gain_share']:.0%} of the oracle's gain")
    if args.json:
        Path(args.json).write_text(json.dumps(stats, indent=1))
        print(f"json: {args.json}")
    return 0


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from agents.harness.algorithms import ALGORITHMS
    from agents.harness.experiments import EXPERIMENTS, PRESET_NAMES
    from agents.harness.plan import add_plan_arguments, command_plan

    parser = CommandParser(prog="ipd-coop", description=(
        "Iterated Prisoner's Dilemma: reproduce arXiv 2602.16301, evaluate and watch players, run tournaments."))
    parser.add_argument("--version", action="version", version=f"ipd-coop (ipd-env) {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    player_help = ("zoo name (allc, alld, tft, stft, gtft, wsls, random, grim, extort2, generous2), "
                   "axelrod:<strategy> (e.g. 'axelrod:Tit For Tat'), or a run folder / checkpoint "
                   "(RUN@1 for its learner 1)")

    reproduce = commands.add_parser("reproduce",
                                    help="train an experiment (conditions x seeds), then summary and plots",
                                    description="Train every condition x seed of an experiment into --out, then "
                                                "write summary.json, summary.md and plots/.")
    reproduce.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which figure: fig1 (mixed pool and "
                           "ablations) or step1/step2/step3 (the mechanism; later steps run earlier ones first)")
    reproduce.add_argument("--algo", default="a2c", choices=sorted(ALGORITHMS), help="learning algorithm (default a2c)")
    reproduce.add_argument("--preset", default="cpu-quick", help=f"budget: {', '.join(PRESET_NAMES)} "
                           "(default cpu-quick: minutes on a laptop; test: seconds, tiny models, to check a set-up; "
                           "paper: the paper's scale, for a GPU); a2c also has cpu-mechanism: the CPU regime where the "
                           "paper's mechanism appears, with named departures from the paper (docs/mechanism.md)")
    reproduce.add_argument("--seeds", type=positive_int, default=3,
                           help="number of seeds, run as seeds 0..N-1 (default 3)")
    reproduce.add_argument("--conditions", help="comma-separated subset of the experiment's conditions "
                           "(prerequisites are added); default: all")
    reproduce.add_argument("--device", default="cpu", type=torch_device,
                           help="torch device for training: cpu or cuda (default cpu)")
    reproduce.add_argument("--backend", default="local", choices=("local", "ray"),
                           help="local: one unit after another in this process; ray: units as Ray tasks")
    reproduce.add_argument("--address", help="Ray cluster address (ray://HEAD:10001 or HEAD:6379); default: "
                           "start a local Ray. Needs --backend ray")
    reproduce.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one hyperparameter of "
                           "the preset (repeatable), e.g. --set num_iterations=50; unknown names are refused")
    reproduce.add_argument("--workers", type=positive_int, default=1,
                           help="local backend: units run in this many parallel processes (default 1)")
    reproduce.add_argument("--threads", type=positive_int, help="torch threads per unit "
                           "(local default: 1 with --workers > 1; Ray: CPUs reserved per task, default 1)")
    reproduce.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray (default: all of this machine)")
    reproduce.add_argument("--gpus-per-unit", type=non_negative_float, default=0.0,
                           help="Ray backend: GPUs reserved per (condition, seed) task, fractions allowed "
                           "(e.g. 0.25 with --device cuda); default 0")
    reproduce.add_argument("--out", help="output folder (default runs/<experiment>-<algo>-<preset>)")
    reproduce.add_argument("--resume", action="store_true", help="continue the runs in --out from their last "
                           "checkpoints (finished units are kept; a different config is refused)")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars")
    reproduce.add_argument("--batch-seeds", action="store_true",
                           help="A2C: train each condition's seeds as one batched computation (each seed's numbers "
                                "as if run alone; for a GPU: on a CPU it is 0.75-0.97x the speed of separate runs)")
    reproduce.add_argument("--no-plan", action="store_true",
                        help="skip the cost plan printed first (it times a few training units: seconds at "
                             "cpu-quick, a minute or two at the paper preset)")
    reproduce.set_defaults(handler=command_reproduce)

    evaluate = commands.add_parser("evaluate", help="a player against co-players: table and heatmap",
                                   description="Play a player against each co-player in the batched env and "
                                               "report per-round reward and cooperation.")
    evaluate.add_argument("player", help=player_help)
    evaluate.add_argument("--against", default=DEFAULT_COPLAYERS,
                          help=f"comma-separated co-players, same forms as PLAYER (default {DEFAULT_COPLAYERS})")
    evaluate.add_argument("--games", type=positive_int, default=256, help="games per co-player (default 256)")
    evaluate.add_argument("--rounds", type=positive_int, default=100, help="rounds per game (default 100)")
    evaluate.add_argument("--payoffs", default="paper", help="payoff preset: paper, axelrod, lola (default paper)")
    evaluate.add_argument("--seed", type=seed_int, default=0, help="seed of the games (default 0)")
    evaluate.add_argument("--device", default="cpu", type=torch_device, help="torch device (default cpu)")
    evaluate.add_argument("--plot", default="evaluation.png", help="heatmap PNG path (default evaluation.png)")
    evaluate.add_argument("--no-plot", action="store_true", help="skip the heatmap (no matplotlib needed)")
    evaluate.add_argument("--json", help="also write the per-round curves to this JSON file")
    evaluate.set_defaults(handler=command_evaluate)

    play = commands.add_parser("play", help="watch two players in the PettingZoo env, round by round",
                               description="Play one game in the PettingZoo parallel env and print its ansi render.")
    play.add_argument("player_0", help=player_help)
    play.add_argument("player_1", help="the other player, same forms")
    play.add_argument("--rounds", type=positive_int, default=10, help="rounds to play (default 10)")
    play.add_argument("--payoffs", default="paper", help="payoff preset (default paper)")
    play.add_argument("--seed", type=seed_int, default=0, help="seed of both players' randomness (default 0)")
    play.set_defaults(handler=command_play)

    tournament = commands.add_parser("tournament", help="Axelrod round robin over our and Axelrod's players",
                                     description="Round-robin tournament (axelrod.Tournament) with a ranked table "
                                                 "and a bar plot. Without PLAYERS: our classic zoo plus Axelrod's "
                                                 "first-tournament strategies.")
    tournament.add_argument("players", nargs="*", help=player_help)
    tournament.add_argument("--classics", action="store_true",
                            help="add Axelrod's first-tournament and basic strategies (default when no PLAYERS)")
    tournament.add_argument("--turns", type=positive_int, default=100, help="rounds per match (default 100)")
    tournament.add_argument("--repetitions", type=positive_int, default=3, help="matches per pair (default 3)")
    tournament.add_argument("--payoffs", default="axelrod",
                            help="the tournament's game (default axelrod = 3, 0, 5, 1, unlike the other commands' "
                                 "paper game: Axelrod's strategies and published tournament scores use it, so ranks "
                                 "compare with theirs; trained learners still observe the rewards of the game they "
                                 "were trained on)")
    tournament.add_argument("--seed", type=seed_int, default=0, help="tournament seed (default 0)")
    tournament.add_argument("--plot", default="tournament.png", help="bar plot PNG path (default tournament.png)")
    tournament.add_argument("--no-plot", action="store_true", help="skip the plot")
    tournament.add_argument("--quiet", action="store_true", help="no progress bar")
    tournament.set_defaults(handler=command_tournament)

    sweep = commands.add_parser("sweep", help="an experiment at every point of a hyperparameter grid: table, heatmaps",
                                description="Run the experiment that reproduce runs once per grid point (one "
                                            "experiment folder per point under --out), then write sweep.json, "
                                            "sweep.md and heatmaps (docs/sweeps.md).")
    sweep.add_argument("experiment", choices=sorted(EXPERIMENTS), help="which experiment every point runs "
                       "(as in reproduce)")
    sweep.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                       help="a hyperparameter and its values (repeatable: the points are all combinations); values "
                            "are read like --set (JSON when they parse); separate them by ';' when they hold commas, "
                            "e.g. --grid 'pool=uniform;beta:0.5,0.5'")
    sweep.add_argument("--algo", default="a2c", type=str.lower, choices=sorted(ALGORITHMS),
                       help="learning algorithm, any case (default a2c)")
    sweep.add_argument("--preset", default="cpu-quick", help=f"budget of every point: {', '.join(PRESET_NAMES)} "
                       "(default cpu-quick; a2c also cpu-mechanism)")
    sweep.add_argument("--seeds", type=positive_int, default=3, help="seeds per point, run as 0..N-1 (default 3)")
    sweep.add_argument("--set", action="append", metavar="NAME=VALUE", help="a hyperparameter fixed for every "
                       "point (repeatable; not also in --grid)")
    sweep.add_argument("--out", help="sweep folder (default sweeps/<experiment>-<algo>-<preset>)")
    sweep.add_argument("--backend", default="local", choices=("local", "ray"),
                       help="local: a process pool over the units of all points; ray: one Ray Tune trial per point")
    sweep.add_argument("--resume", action="store_true", help="continue the sweep in --out: finished points are "
                       "kept, unfinished units continue from their last checkpoint "
                       "(also re-tabulates a finished sweep)")
    sweep.add_argument("--workers", type=positive_int, default=1, help="local backend: parallel processes (default 1)")
    sweep.add_argument("--threads", type=positive_int, default=1,
                       help="torch threads per run; Ray: CPUs per trial (default 1)")
    sweep.add_argument("--sort", metavar="METRIC", help="rank sweep.md by this metric, a full name from sweep.json "
                       "or its end (e.g. tft/late_reward); default: pool/gain_fraction if present, else "
                       "tft/late_reward, of the last condition")
    sweep.add_argument("--heatmap", metavar="METRIC_A,METRIC_B", help="the two metrics drawn over the first two "
                       "grid axes (default: the two of --sort's default)")
    sweep.add_argument("--device", default="cpu", type=torch_device, help="torch device for training (default cpu)")
    sweep.add_argument("--address", help="Ray cluster address (needs --backend ray); default: a local Ray")
    sweep.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray (default: all of this machine)")
    sweep.add_argument("--gpus-per-point", type=non_negative_float, default=0.0, help="Ray backend: GPUs each "
                       "point's trial reserves, fractions allowed (e.g. 0.5 with --device cuda); default 0")
    sweep.add_argument("--no-plot", action="store_true", help="no per-point plots and no heatmaps")
    sweep.add_argument("--quiet", action="store_true", help="no progress bars")
    sweep.add_argument("--no-plan", action="store_true",
                        help="skip the cost plan printed first (it times a few training units: seconds at "
                             "cpu-quick, a minute or two at the paper preset)")
    sweep.set_defaults(handler=command_sweep)

    plan = commands.add_parser("plan", help="what an experiment costs before it runs: runs, iterations, agent-steps "
                               "and the estimated wall time on this device",
                               description="Time a few units of the real trainer on this device and print the cost "
                                           "plan of a reproduce command with the same arguments; trains nothing.")
    add_plan_arguments(plan)
    plan.set_defaults(handler=command_plan)

    pool_stats = commands.add_parser(
        "pool-stats", help="what knowing the co-player is worth against a pool (exact, no training)",
        description="For a pool of memory-1 co-players, exact per-round rewards over its seeded evaluation set: "
                    "always-defect, the oracle (best memory-1 reply chosen knowing the co-player), the exact "
                    "optimum, the best single reply, AllC, TFT, WSLS and Extort-2; and the share of co-players "
                    "where knowing them pays.")
    pool_stats.add_argument("pool", help="uniform (the paper's), beta:A,B, sharpened:K, pure or zoo")
    pool_stats.add_argument("--rounds", type=positive_int, default=100, help="rounds per episode (default 100)")
    pool_stats.add_argument("--payoffs", default="paper", help="payoff preset: paper, axelrod, lola (default paper)")
    pool_stats.add_argument("--size", type=positive_int, default=1024,
                            help="co-players in the evaluation set (default 1024, as in training)")
    pool_stats.add_argument("--seed", type=seed_int, default=0, help="seed of the evaluation set (default 0)")
    pool_stats.add_argument("--json", nargs="?", const="-", metavar="PATH",
                            help="also write the numbers as JSON to PATH; without PATH print only the JSON")
    pool_stats.set_defaults(handler=command_pool_stats)
    return parser


def _version() -> str:
    from agents.harness.run_folder import _package_version

    return _package_version()


#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: Exit status when the reader of our output went away (128 + SIGPIPE), as ``yes | head`` ends.
BROKEN_PIPE = 141


def _out_of_memory(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, MemoryError) or "out of memory" in text or "can't allocate memory" in text


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``ipd-coop``; returns the exit status.

    Besides the one-line errors (module docstring): warnings print as one line
    ``ipd-coop <command>: warning: ...``; Ctrl-C ends with one line and status 130 (a run
    folder keeps its last checkpoints and loses no temporary file: ``--resume`` continues
    it exactly); an allocation that fails (``MemoryError``, torch's out-of-memory) is one
    line; output into a closed pipe (``ipd-coop play ... | head -2``) ends quietly with 141.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"ipd-coop {args.command}"

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{prefix}: warning: {one_line(str(message))}", file=sys.stderr if file is None else file)

    from agents.harness.run_folder import command_line

    with warnings.catch_warnings(), command_line(["ipd-coop", *(sys.argv[1:] if argv is None else argv)]):
        warnings.showwarning = show_warning
        return _run(parser, args, prefix)


def _run(parser, args, prefix: str) -> int:
    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return BROKEN_PIPE
    except KeyboardInterrupt:
        folder = getattr(args, "out", None) or "the output folder"
        kept = (f"; {folder} keeps its last checkpoints: run the same command with --resume to continue"
                if args.command in ("reproduce", "sweep") else "")
        print(f"{prefix}: interrupted{kept}", file=sys.stderr)
        return INTERRUPTED
    except (MemoryError, RuntimeError) as error:
        if not _out_of_memory(error):
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        parser.exit(2, f"{prefix}: error: out of memory ({first_line[:200]}); use fewer games, rounds, seeds "
                       f"or --workers\n")
    except OSError as error:  # unwritable, missing or special output paths, caught by kind
        filename = None if error.filename is None else os.fsdecode(error.filename)
        argument = _argument_of(args, filename)
        if filename is None:
            message = str(error)  # e.g. ConnectionError: its text says what was unreachable
        elif argument is None:
            message = f"{filename}: {error.strerror or error}"
        else:
            message = f"{argument}: cannot write {filename} ({error.strerror or error})"
        parser.exit(2, f"{prefix}: error: {one_line(message)}\n")
    except (ValueError, TypeError, MissingExtraError) as error:
        parser.exit(2, f"{prefix}: error: {one_line(error)}\n")


if __name__ == "__main__":
    sys.exit(main())
