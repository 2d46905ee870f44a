"""``ipd-coop pool-stats``: what knowing the co-player is worth against a pool, exactly (no training)."""
from __future__ import annotations

import json
from pathlib import Path

from agents.harness.cli.arguments import check_output, positive_int, seed_int


def add_parser(commands) -> None:
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
