"""Round robin of the co-player zoo, played in the PettingZoo parallel env.

Every pair of zoo members (each with itself too) plays ``--episodes`` episodes of
``--rounds`` rounds through ``ipd_env.parallel_env``, one game loop per pairing. The
players act through the player interface (``reset`` / ``act``) on PettingZoo's numpy
observations turned into torch ``[1, 5]`` rows. Beside each simulated per-round reward the
table prints the exact expectation from the Markov chain (``baselines.analytic``); Grim
trigger is not memory-1, so its pairings are simulated only.

    python examples/round_robin.py --episodes 20 --rounds 100 --seed 0 --plot round_robin.png

Same seed, same table: each pairing seeds its players' generators from
``(seed, pairing, player)``.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

import ipd_env
from baselines.analytic import finite_horizon_values
from baselines.tabular import ZOO_NAMES, canonical_name, make_player, named_probabilities
from ipd_env.player import play_parallel


@dataclass
class Pairing:
    """One pairing's per-round means (player_0 first); ``exact_*`` is None for Grim."""

    names: tuple[str, str]
    simulated_rewards: tuple[float, float]
    simulated_standard_errors: tuple[float, float]  # over episodes
    simulated_cooperation: tuple[float, float]
    exact_rewards: Optional[tuple[float, float]]
    exact_cooperation: Optional[tuple[float, float]]


def parse_payoffs(text: str):
    """A preset name (``paper``, ``axelrod``, ``lola``) or four numbers ``R,S,T,P``."""
    if "," in text:
        return tuple(float(value) for value in text.split(","))
    return text


def seeded_generator(seed: int, pairing_index: int, player_index: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, pairing_index, player_index]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(state))


def play_pairing(players, env, episodes: int, generators) -> tuple[np.ndarray, np.ndarray]:
    """Play ``episodes`` episodes in the parallel env.

    Returns:
        per-episode mean reward ``[episodes, 2]`` and cooperation rate ``[episodes, 2]``.
    """
    rewards = np.zeros((episodes, 2))
    cooperation = np.zeros((episodes, 2))
    for episode in range(episodes):
        played = play_parallel(env, players, generators=generators)
        rewards[episode] = played["rewards"].mean(axis=0)
        cooperation[episode] = (played["actions"] == 0).mean(axis=0)
    return rewards, cooperation


def round_robin(names: Sequence[str], episodes: int, rounds: int, payoffs="paper", seed: int = 0) -> list[Pairing]:
    """Every pair ``(names[i], names[j])`` with ``i <= j``, played and evaluated exactly."""
    names = [canonical_name(name) for name in names]
    env = ipd_env.parallel_env(payoffs=payoffs, max_cycles=rounds)
    results = []
    pairing_index = 0
    for first_index, first in enumerate(names):
        for second in names[first_index:]:
            players = (make_player(first, payoffs), make_player(second, payoffs))
            generators = [seeded_generator(seed, pairing_index, player) for player in (0, 1)]
            rewards, cooperation = play_pairing(players, env, episodes, generators)
            exact_rewards = exact_cooperation = None
            if "grim" not in (first, second):
                exact = finite_horizon_values(
                    named_probabilities(first, payoffs), named_probabilities(second, payoffs), rounds, payoffs
                )
                exact_rewards = tuple(exact.rewards.tolist())
                exact_cooperation = tuple(exact.cooperation_rates.tolist())
            standard_errors = rewards.std(axis=0, ddof=1) / math.sqrt(episodes) if episodes > 1 else np.full(2, np.nan)
            results.append(
                Pairing(
                    names=(first, second),
                    simulated_rewards=tuple(rewards.mean(axis=0).tolist()),
                    simulated_standard_errors=tuple(standard_errors.tolist()),
                    simulated_cooperation=tuple(cooperation.mean(axis=0).tolist()),
                    exact_rewards=exact_rewards,
                    exact_cooperation=exact_cooperation,
                )
            )
            pairing_index += 1
    env.close()
    return results


def format_table(results: list[Pairing]) -> str:
    """A markdown table: per-round reward (simulated ± s.e., exact) and cooperation of both players."""

    def pair(values, digits=3):
        return "-" if values is None else " / ".join(f"{value:.{digits}f}" for value in values)

    lines = [
        "| player_0 | player_1 | simulated reward (± s.e.) | exact reward "
        "| simulated cooperation | exact cooperation |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        simulated = " / ".join(
            f"{mean:.3f} ± {error:.3f}" if not math.isnan(error) else f"{mean:.3f}"
            for mean, error in zip(result.simulated_rewards, result.simulated_standard_errors)
        )
        lines.append(
            f"| {result.names[0]} | {result.names[1]} | {simulated} | {pair(result.exact_rewards)} | "
            f"{pair(result.simulated_cooperation, 2)} | {pair(result.exact_cooperation, 2)} |"
        )
    return "\n".join(lines)


def reward_matrices(results: list[Pairing], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``[n, n]`` per-round reward of the row player against the column player (simulated, exact; NaN: none)."""
    names = [canonical_name(name) for name in names]
    simulated = np.full((len(names), len(names)), np.nan)
    exact = np.full_like(simulated, np.nan)
    for result in results:
        row, column = (names.index(name) for name in result.names)
        simulated[row, column], simulated[column, row] = result.simulated_rewards[0], result.simulated_rewards[1]
        if result.exact_rewards is not None:
            exact[row, column], exact[column, row] = result.exact_rewards[0], result.exact_rewards[1]
    return simulated, exact


def plot_heatmaps(results: list[Pairing], names: Sequence[str], path: str, title: str) -> None:
    """Two heatmaps (simulated, exact) of the row player's per-round reward, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [canonical_name(name) for name in names]
    simulated, exact = reward_matrices(results, names)
    low, high = np.nanmin([simulated, exact]), np.nanmax([simulated, exact])
    figure, axes = plt.subplots(1, 2, figsize=(3 + 1.2 * len(names), 1.5 + 0.6 * len(names)), constrained_layout=True)
    labels = ("simulated in the PettingZoo env", "exact (Markov chain; blank: not memory-1)")
    for axis, matrix, label in zip(axes, (simulated, exact), labels):
        image = axis.imshow(matrix, cmap="viridis", vmin=low, vmax=high)
        axis.set_xticks(range(len(names)), names, rotation=60)
        axis.set_yticks(range(len(names)), names)
        axis.set_xlabel("co-player")
        axis.set_ylabel("player (row: its reward)")
        axis.set_title(label)
        for (row, column), value in np.ndenumerate(matrix):
            if not np.isnan(value):
                bright = (value - low) > 0.6 * (high - low)
                axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                          color="black" if bright else "white")
    figure.colorbar(image, ax=axes, label="per-round reward")
    figure.suptitle(title)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def parse_arguments(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=20, help="episodes per pairing (default 20)")
    parser.add_argument(
        "--rounds", type=int, default=100, help="rounds per episode, the env's max_cycles (default 100)"
    )
    parser.add_argument(
        "--payoffs", type=parse_payoffs, default="paper",
        help="preset (paper, axelrod, lola) or R,S,T,P (default paper)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the players' random generators (default 0)")
    parser.add_argument(
        "--players", default=",".join(ZOO_NAMES),
        help=f"comma-separated zoo names (default: all: {','.join(ZOO_NAMES)})",
    )
    parser.add_argument(
        "--plot", metavar="PATH", help="save heatmaps of the per-round rewards as a PNG (needs matplotlib)"
    )
    # Why 1: the players' torch ops are [1, 5] rows; more threads only add synchronisation.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    arguments = parser.parse_args(argv)
    if arguments.threads < 1:
        parser.error(f"--threads must be a positive integer, got {arguments.threads}")
    if arguments.episodes < 1:
        parser.error(f"--episodes must be a positive integer, got {arguments.episodes}")
    if arguments.rounds < 1:
        parser.error(f"--rounds must be a positive integer, got {arguments.rounds}")
    return arguments


def main(argv: Optional[Sequence[str]] = None) -> list[Pairing]:
    arguments = parse_arguments(argv)
    torch.set_num_threads(arguments.threads)
    names = [name.strip() for name in arguments.players.split(",") if name.strip()]
    try:
        results = round_robin(names, arguments.episodes, arguments.rounds, arguments.payoffs, arguments.seed)
    except ValueError as error:  # unknown player, bad payoffs, GTFT/ZD in a game that has none
        raise SystemExit(f"round_robin.py: error: {error}") from error
    print(
        f"Round robin in ipd_env.parallel_env: payoffs {arguments.payoffs}, {arguments.rounds} rounds, "
        f"{arguments.episodes} episodes per pairing, seed {arguments.seed}. Per-round means, player_0 / player_1."
    )
    print(format_table(results))
    if arguments.plot:
        try:
            plot_heatmaps(results, names, arguments.plot, f"per-round reward, payoffs {arguments.payoffs}")
        except ImportError:
            print("--plot needs matplotlib: pip install 'ipd-env[plot]'")
        else:
            print(f"heatmaps saved to {arguments.plot}")
    return results


if __name__ == "__main__":
    main()
