"""``ipd-coop play``: watch two players in the PettingZoo env, round by round (its ansi render)."""
from __future__ import annotations

from agents.harness.cli.arguments import PLAYER_HELP, positive_int, seed_int


def add_parser(commands) -> None:
    play = commands.add_parser("play", help="watch two players in the PettingZoo env, round by round",
                               description="Play one game in the PettingZoo parallel env and print its ansi render.")
    play.add_argument("player_0", help=PLAYER_HELP)
    play.add_argument("player_1", help="the other player, same forms")
    play.add_argument("--rounds", type=positive_int, default=10, help="rounds to play (default 10)")
    play.add_argument("--payoffs", default="paper", help="payoff preset (default paper)")
    play.add_argument("--seed", type=seed_int, default=0, help="seed of both players' randomness (default 0)")
    play.set_defaults(handler=command_play)


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
