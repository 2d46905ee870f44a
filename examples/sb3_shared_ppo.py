"""Parameter-shared PPO (Stable-Baselines3) on the PettingZoo IPD env through SuperSuit.

Both players are one MLP policy on the one-hot first-person observation; the trained
policy is then evaluated against AllC, AllD, TFT, WSLS and itself with the same code as
the A2C and PPI agents (``agents.harness.evaluation``)::

    pip install -e '.[sb3]'
    python examples/sb3_shared_ppo.py --timesteps 100000 --seed 0
"""
import argparse
import sys

from baselines.optional import MissingExtraError

try:  # without SB3: one line naming the extra [sb3], not a traceback
    from baselines.sb3 import evaluate_sb3, evaluation_table, format_evaluation_table, train_shared_ppo
except MissingExtraError as error:
    print(f"sb3_shared_ppo.py: error: {error}", file=sys.stderr)
    sys.exit(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=100_000, help="agent-steps of training (2 per round)")
    parser.add_argument("--num-envs", type=int, default=4, help="PettingZoo envs in the SuperSuit vec env")
    parser.add_argument("--seed", type=int, default=0, help="seeds torch, numpy and the env")
    parser.add_argument("--games", type=int, default=256, help="evaluation games per co-player")
    # Why 1: a small MLP gains nothing from more threads; on 2 cores RecurrentPPO swung 39-607 steps/s with 2.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, measured fastest)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    model = train_shared_ppo(args.timesteps, seed=args.seed, num_envs=args.num_envs, threads=args.threads)
    rows = evaluation_table(evaluate_sb3(model, seed=args.seed, num_games=args.games, threads=args.threads))
    print(f"shared PPO, {args.timesteps} agent-steps, seed {args.seed}")
    print(format_evaluation_table(rows))
    return rows


if __name__ == "__main__":
    main()
