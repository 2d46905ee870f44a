"""A trained agent in a tournament of Axelrod's classic strategies (extra ``[axelrod]``).

The agent comes from a finished run folder (``--run runs/.../step1/seed_0``, ``@1`` for
learner 1), or, without ``--run``, is trained here: A2C against the tabular pool (the
paper's Step 1, the in-context learner), for ``--iterations`` iterations. It enters an
``axelrod.Tournament`` with the first tournament's entrants and Axelrod's basic
strategies, next to our TFT and Extort-2, and the ranked table is printed::

    pip install -e '.[axelrod]'
    python examples/axelrod_tournament.py                       # trains ~1-2 min on a CPU
    python examples/axelrod_tournament.py --run runs/step1-a2c-cpu-quick/step1/seed_0

The tournament scores with Axelrod's game (3, 0, 5, 1); the agent observes the rewards of
the game it was trained on (the paper's (1, -1, 2, 0)), as in training.
"""
import argparse
import sys
import tempfile

import torch

from agents.harness.player_specs import load_run_players, run_folder_of
from agents.harness.runner import run_unit, unit_dir
from baselines.optional import MissingExtraError

try:  # without Axelrod: one line naming the extra [axelrod], not a traceback
    from baselines.axelrod_adapter import (
        IPDStrategy,
        axelrod_game,
        classic_tournament_strategies,
        format_ranked_table,
        ranked_table,
        zoo_strategies,
    )
except MissingExtraError as error:
    print(f"axelrod_tournament.py: error: {error}", file=sys.stderr)
    sys.exit(2)
import axelrod as axl  # (after baselines.axelrod_adapter, which names the extra when it is missing)


def trained_agent(args):
    if args.run:
        path, _, index = args.run.rpartition("@") if "@" in args.run else (args.run, "", "0")
        folder = run_folder_of(path)
        return IPDStrategy(load_run_players(folder)[int(index)], name=f"a2c-step1 ({folder.parent.name}/{folder.name})",
                           reward_payoffs="paper")
    out = args.out or tempfile.mkdtemp(prefix="axelrod_tournament_")
    run_unit("a2c", "step1", "step1", args.seed, args.preset, out,
             overrides={"num_iterations": args.iterations} if args.iterations else None, progress=not args.quiet)
    player = load_run_players(unit_dir(out, "step1", args.seed))[0]
    return IPDStrategy(player, name="a2c-step1 (trained here)", reward_payoffs="paper")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="finished run folder of the agent (RUN@k for learner k); default: train one")
    parser.add_argument("--preset", default="cpu-quick", help="A2C preset when training here (default cpu-quick)")
    parser.add_argument("--iterations", type=int, default=60, help="A2C iterations when training here (default 60)")
    parser.add_argument("--turns", type=int, default=100, help="rounds per match (default 100)")
    parser.add_argument("--repetitions", type=int, default=5, help="matches per pair (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of training and tournament")
    parser.add_argument("--out", help="folder for the run trained here (default: a new temporary folder)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    # Why 1: on a small or shared CPU, more torch threads than free cores slowed our runs 2x to 50x (README, Speed).
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, measured fastest)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    torch.set_num_threads(args.threads)
    players = [trained_agent(args)] + zoo_strategies(("tft", "extort2"), payoffs="axelrod")
    players += classic_tournament_strategies()
    tournament = axl.Tournament(players, game=axelrod_game("axelrod"), turns=args.turns,
                                repetitions=args.repetitions, seed=args.seed)
    rows = ranked_table(tournament.play(progress_bar=not args.quiet))
    print(format_ranked_table(rows))
    return rows


if __name__ == "__main__":
    main()
