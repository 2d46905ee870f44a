"""Record one game of the Gymnasium env as a video, PNG frames or a numpy array (``render_mode="rgb_array"``).

A memory-1 learner from the zoo (``--learner``, default TFT) plays one episode against
``--co-player`` (default: a fresh uniform memory-1 agent, the paper's pool). Every frame
is the game so far (``ipd_env.render``): rounds as columns, the learner's row on top,
cooperate green, defect red, running totals as bars::

    python examples/record_game.py --learner tft --co-player extort2 --out videos

``--format auto`` (default) writes an MP4 with Gymnasium's ``RecordVideo`` if moviepy is
installed (``pip install moviepy``), else one PNG per frame if matplotlib is installed,
else all frames in one ``frames.npy`` (``[rounds + 1, height, width, 3]`` uint8).
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import gymnasium
import numpy as np
import torch

import ipd_env  # noqa: F401  (registers ipd_env/IPDvsCoPlayer-v0)
from baselines.tabular import named_probabilities

FORMATS = ("auto", "video", "png", "npy")


def choose_format(requested: str) -> str:
    """The output format: ``requested``, or for ``"auto"`` the best one whose library is installed."""
    if requested != "auto":
        return requested
    if importlib.util.find_spec("moviepy") is not None:
        return "video"
    return "png" if importlib.util.find_spec("matplotlib") is not None else "npy"


def play(env: gymnasium.Env, learner: str, seed: int, on_frame) -> tuple[float, float]:
    """One episode with the memory-1 ``learner``; ``on_frame(image)`` after reset and every step.

    Returns the learner's and the co-player's total reward.
    """
    cooperation = named_probabilities(learner, env.unwrapped.payoffs)  # p(C | observation index) [5]
    random = np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    on_frame(env.render())
    totals, truncated = [0.0, 0.0], False
    while not truncated:
        action = int(random.random() >= cooperation[int(observation)])
        observation, reward, _, truncated, info = env.step(action)
        totals[0] += reward
        totals[1] += info["co_player_reward"]
        on_frame(env.render())
    return totals[0], totals[1]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learner", default="tft", help="memory-1 zoo name of the learner (default tft)")
    parser.add_argument("--co-player", default="pool", help="pool or a zoo name (default pool)")
    parser.add_argument("--rounds", type=int, default=100, help="rounds in the game (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the co-player draw and both players' moves")
    parser.add_argument("--format", choices=FORMATS, default="auto", help="video, png, npy or auto (default)")
    parser.add_argument("--out", default="game_frames", help="output folder (default game_frames)")
    # Why 1: the env's co-player draws are [1, 5] torch ops; more threads only add synchronisation.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    for name in ("rounds", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    torch.set_num_threads(args.threads)
    output_format = choose_format(args.format)
    out = Path(args.out)
    try:
        env = gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player=args.co_player, max_cycles=args.rounds,
                             obs_type="discrete", render_mode="rgb_array")
        named_probabilities(args.learner)  # an unknown or non-memory-1 learner fails before anything is written
    except ValueError as error:
        parser.error(str(error))
    frames = []
    if output_format == "video":
        # RecordVideo renders after reset and every step itself, at metadata["render_fps"] (10).
        env = gymnasium.wrappers.RecordVideo(env, str(out), episode_trigger=lambda episode: True,
                                             name_prefix=f"{args.learner}-vs-{args.co_player}")
    else:
        out.mkdir(parents=True, exist_ok=True)  # RecordVideo makes its own (and warns if it exists)
    totals = play(env, args.learner, args.seed, frames.append)
    env.close()
    if output_format == "png":
        import matplotlib.pyplot as plt

        for index, frame in enumerate(frames):
            plt.imsave(out / f"frame_{index:03d}.png", frame)
    elif output_format == "npy":
        np.save(out / "frames.npy", np.stack(frames))
    written = sorted(str(path) for path in out.iterdir())
    print(f"{args.learner} vs {args.co_player}, {args.rounds} rounds, seed {args.seed}: totals "
          f"{totals[0]:g} (learner), {totals[1]:g} (co-player); {len(frames)} frames as {output_format} in {out}")
    return {"format": output_format, "totals": totals, "frames": frames, "files": written}


if __name__ == "__main__":
    main()
