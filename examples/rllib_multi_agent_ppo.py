"""Multi-agent PPO (RLlib, new API stack) on the PettingZoo IPD env: two policies.

Without ``--co-player``: two independently learned policies, ``player_0`` and
``player_1``. With ``--co-player allc`` (any memory-1 zoo name): ``player_0`` learns
against that fixed policy, which RLlib never trains::

    pip install -e '.[rllib]'
    python examples/rllib_multi_agent_ppo.py --co-player allc --iterations 10 --max-cycles 10
    python examples/rllib_multi_agent_ppo.py --iterations 20
"""
import argparse
import sys

from baselines.optional import MissingExtraError

try:  # without Ray's RLlib: one line naming the extra [rllib], not a traceback (and before importing torch)
    from baselines.rllib import ppo_config, train
except MissingExtraError as error:
    print(f"rllib_multi_agent_ppo.py: error: {error}", file=sys.stderr)
    sys.exit(2)
import ray  # (after baselines.rllib, which names the extra when Ray is missing)
import torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--co-player", help="fixed memory-1 co-player for player_1 (default: a second learner)")
    parser.add_argument("--iterations", type=int, default=10, help="training iterations")
    parser.add_argument("--max-cycles", type=int, default=100, help="rounds per episode")
    parser.add_argument("--batch", type=int, default=2000, help="agent-steps per training batch")
    parser.add_argument("--seed", type=int, default=0, help="RLlib seed")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray")
    # Why 1: the learner here is a small MLP; Ray already gives its workers OMP_NUM_THREADS=1.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads of this process (default 1)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    torch.set_num_threads(args.threads)
    ray.init(num_cpus=args.num_cpus, include_dashboard=False, logging_level="ERROR", ignore_reinit_error=True)
    config = ppo_config(co_player=args.co_player, max_cycles=args.max_cycles, seed=args.seed,
                        train_batch_size=args.batch, minibatch_size=max(args.max_cycles, args.batch // 4))
    algorithm = config.build_algo()
    try:
        history = train(algorithm, args.iterations, verbose=True)
    finally:
        algorithm.stop()
    return history


if __name__ == "__main__":
    main()
