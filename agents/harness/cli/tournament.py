"""``ipd-coop tournament``: an Axelrod round robin over our players and Axelrod's, a ranked table and a bar plot."""
from __future__ import annotations

from pathlib import Path

from agents.harness.cli.arguments import PLAYER_HELP, check_output, positive_int, seed_int


def add_parser(commands) -> None:
    tournament = commands.add_parser("tournament", help="Axelrod round robin over our and Axelrod's players",
                                     description="Round-robin tournament (axelrod.Tournament) with a ranked table "
                                                 "and a bar plot. Without PLAYERS: our classic zoo plus Axelrod's "
                                                 "first-tournament strategies.")
    tournament.add_argument("players", nargs="*", help=PLAYER_HELP)
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


def tournament_player(spec: str, payoffs, num_rounds: int):
    """An ``axelrod.Player`` for a player spec: Axelrod strategies natively, ours wrapped."""
    from agents.harness.player_specs import AXELROD_PREFIX, resolve_player, run_folder_of
    from baselines.axelrod_adapter import IPDStrategy, axelrod_strategy

    if spec.lower().startswith(AXELROD_PREFIX):
        return axelrod_strategy(spec[len(AXELROD_PREFIX):])()
    name, player = resolve_player(spec, payoffs, "cpu", num_rounds)
    if "@" in name:  # a trained learner: it observes the rewards of the game it was trained on
        from agents.algorithm import saved_record
        from agents.harness.checkpoint import read_json

        path_text = spec.rpartition("@")[0] if "@" in spec and Path(spec.rpartition("@")[0]).exists() else spec
        config = read_json(run_folder_of(path_text) / "config.json")
        trained_payoffs = saved_record(config).get("settings", {}).get("payoffs", "paper")
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
