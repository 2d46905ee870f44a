"""``ipd-coop evaluate``: a player against co-players in the batched env; a table, a heatmap, optional JSON."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from agents.harness.cli.arguments import PLAYER_HELP, check_output, positive_int, seed_int, split_names, torch_device

DEFAULT_CO_PLAYERS = "allc,alld,tft,wsls"


def add_parser(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="a player against co-players: table and heatmap",
                                   description="Play a player against each co-player in the batched env and "
                                               "report per-round reward and cooperation.")
    evaluate.add_argument("player", help=PLAYER_HELP)
    evaluate.add_argument("--against", default=DEFAULT_CO_PLAYERS,
                          help=f"comma-separated co-players, same forms as PLAYER (default {DEFAULT_CO_PLAYERS})")
    evaluate.add_argument("--games", type=positive_int, default=256, help="games per co-player (default 256)")
    evaluate.add_argument("--rounds", type=positive_int, default=100, help="rounds per game (default 100)")
    evaluate.add_argument("--payoffs", default="paper", help="payoff preset: paper, axelrod, lola (default paper)")
    evaluate.add_argument("--seed", type=seed_int, default=0, help="seed of the games (default 0)")
    evaluate.add_argument("--device", default="cpu", type=torch_device, help="torch device (default cpu)")
    evaluate.add_argument("--plot", default="evaluation.png", help="heatmap PNG path (default evaluation.png)")
    evaluate.add_argument("--no-plot", action="store_true", help="skip the heatmap (no matplotlib needed)")
    evaluate.add_argument("--json", help="also write the per-round curves to this JSON file")
    evaluate.set_defaults(handler=command_evaluate)


def trained_payoffs_note(spec: str, payoffs) -> Optional[str]:
    """A note when ``spec`` is a trained learner whose run used other payoffs than ``payoffs``, else None."""
    import numpy as np

    from agents.algorithm import saved_record
    from agents.harness.checkpoint import read_json
    from agents.harness.player_specs import AXELROD_PREFIX, run_folder_of
    from ipd_env.game import PAYOFF_PRESETS, make_payoff_table

    path_text = spec.rpartition("@")[0] if "@" in spec else spec
    if spec.lower().startswith(AXELROD_PREFIX) or not Path(path_text).exists():
        return None
    config_path = run_folder_of(path_text) / "config.json"
    if not config_path.is_file():
        return None
    trained = saved_record(read_json(config_path)).get("settings", {}).get("payoffs", "paper")
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
    co_players = dict(resolve_player(spec, args.payoffs, args.device, args.rounds) for spec in specs)
    notes = [note for note in (trained_payoffs_note(spec, args.payoffs) for spec in [args.player, *specs]) if note]
    results = evaluate_against(player, co_players, args.games, args.rounds, args.payoffs, args.seed, args.device)
    print(f"{name}: {args.games} games of {args.rounds} rounds per co-player "
          f"(payoffs {args.payoffs}, seed {args.seed})")
    for note in notes:
        print(note)
    print("| co-player | reward / round | cooperation | co-player reward | co-player cooperation |")
    print("|---|---|---|---|---|")
    for co_player, values in results.items():
        print(f"| {co_player} | {values['reward']:.3f} | {values['cooperation']:.3f} | "
              f"{values['co_player_reward']:.3f} | {values['co_player_cooperation']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"player": name, "results": results}, indent=1))
        print(f"per-round curves: {args.json}")
    if not args.no_plot:
        from agents.harness.plots import plot_evaluation_heatmap

        print(f"heatmap: {plot_evaluation_heatmap(Path(args.plot), name, results)}")
    return 0
