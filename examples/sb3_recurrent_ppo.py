"""RecurrentPPO (sb3-contrib) against the tabular pool, a zoo member, or the mixed pool.

``--co-player pool``: a fresh uniform memory-1 agent every episode (the paper's Step 1);
``--co-player mixed``: half the episodes against such an agent, half against a frozen copy
of the learner refreshed every ``--refresh-every`` rollouts (the paper's mixed pool, with
one learner); or any zoo name (``allc``, ``tft``, ...). The LSTM policy is evaluated
like A2C and PPI::

    pip install -e '.[sb3]'
    python examples/sb3_recurrent_ppo.py --co-player mixed --timesteps 200000
"""
import argparse
import sys

from baselines.optional import MissingExtraError

try:  # without SB3: one line naming the extra [sb3], not a traceback
    from baselines.sb3 import evaluate_sb3, evaluation_table, format_evaluation_table, train_recurrent_ppo
except MissingExtraError as error:
    print(f"sb3_recurrent_ppo.py: error: {error}", file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--co-player", default="pool", help="pool, mixed, or a zoo name (default pool)")
    parser.add_argument("--timesteps", type=int, default=200_000, help="learner steps (rounds) of training")
    parser.add_argument("--num-envs", type=int, default=4, help="Gymnasium envs stepped together")
    parser.add_argument("--refresh-every", type=int, default=5, help="mixed pool: rollouts between refreshes")
    parser.add_argument("--seed", type=int, default=0, help="seeds torch, numpy and the envs")
    parser.add_argument("--games", type=int, default=256, help="evaluation games per co-player")
    # Why 1: on a 2-core machine RecurrentPPO swung between 39 and 607 steps/s with 2 threads, 612-647 with 1.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, measured fastest)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    model = train_recurrent_ppo(args.timesteps, co_player=args.co_player, seed=args.seed, num_envs=args.num_envs,
                                refresh_every_rollouts=args.refresh_every, threads=args.threads)
    rows = evaluation_table(evaluate_sb3(model, seed=args.seed, num_games=args.games, threads=args.threads))
    print(f"RecurrentPPO vs {args.co_player}, {args.timesteps} steps, seed {args.seed}")
    if args.co_player == "mixed":
        print(f"co-players drawn: {model.mixed_co_player.counts}, frozen copy refreshed "
              f"{model.refresh_callback.refreshes} times")
    print(format_evaluation_table(rows))
    return rows


if __name__ == "__main__":
    main()
