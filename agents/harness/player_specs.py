"""Name any player on the command line: a zoo member, an Axelrod strategy, or a trained run.

Grammar of a player spec (``ipd-coop evaluate/play/tournament``):

| spec                       | player                                                         |
|----------------------------|----------------------------------------------------------------|
| ``tft``, ``alld``, ...     | a zoo member (``baselines.tabular.ZOO_NAMES``, aliases allowed) |
| ``axelrod:Grudger``        | an Axelrod strategy (extra ``[axelrod]``), by name or class    |
| ``runs/fig1/mixed/seed_0`` | learner 0 of a finished run folder (A2C or PPI)                |
| ``RUN_FOLDER@1``           | learner 1 of that run                                          |
| ``.../checkpoints/final.pt`` | the same as its run folder                                   |

A run folder is recognised by its ``config.json`` (written by :mod:`agents.harness.runner`); its
``algo`` entry picks the algorithm whose ``trained_players`` builds the learners
(:class:`agents.algorithm.Algorithm`), so a checkpoint is never loaded into the wrong model.
Errors say which of the three kinds was meant and what is wrong.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

AXELROD_PREFIX = "axelrod:"


def run_folder_of(path) -> Path:
    """The run folder of ``path`` (a run folder or a checkpoint file inside its ``checkpoints/``)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".pt":
        path = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return path


def load_run_players(path, device="cpu", expected_algo: Optional[str] = None, num_rounds: Optional[int] = None) -> list:
    """The learners of a finished run folder, as players.

    Args:
        path: run folder ``<out>/<condition>/seed_<k>/`` or a ``.pt`` checkpoint in it.
        expected_algo: if given, the run must be of this algorithm.
        num_rounds: rounds per episode of the games they will play, if not those of
            training: players that plan to the episode's end (PPI's ``num_rounds``) are
            given it, so ``ipd-coop evaluate RUN --rounds 20`` plays 20 rounds with a run
            trained on 10 (A2C players do not depend on the horizon).

    Raises:
        ValueError: not a run folder, unfinished run, another algorithm than expected,
            or a checkpoint whose tensors do not fit the algorithm's model.
    """
    from agents.harness.checkpoint import read_json
    from agents.harness.runner import read_trained_run

    folder = run_folder_of(path)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{path} is not a run folder: no config.json in {folder} "
                         f"(expected <out>/<condition>/seed_<k>/ written by ipd-coop reproduce)")
    config = read_json(config_path)
    algo = config.get("algo")
    if expected_algo is not None and algo != expected_algo:
        raise ValueError(f"{folder} holds a {algo!r} run, not {expected_algo!r}")
    if not (folder / "checkpoints" / "final.pt").is_file():
        raise ValueError(f"{folder} has no checkpoints/final.pt: the run is unfinished "
                         f"(continue it with ipd-coop reproduce ... --resume)")
    try:
        algorithm, run = read_trained_run(folder, device=device)
        players = algorithm.trained_players(run, device=device)
    except (RuntimeError, KeyError, TypeError) as error:
        raise ValueError(f"the checkpoint in {folder} does not fit the {algo} model of its config.json "
                         f"(wrong algorithm or shape?): {error}") from error
    if num_rounds is not None:
        for player in players:
            if hasattr(player, "num_rounds"):  # a planner: its rollouts stop at the episode's end
                player.num_rounds = num_rounds
    return players


def resolve_player(spec: str, payoffs="paper", device="cpu", num_rounds: int = 100):
    """``(display name, player)`` for a player spec (see the module docstring).

    Raises:
        ValueError: the spec is none of the three kinds; the message lists them.
    """
    from baselines.tabular import ZOO_NAMES, canonical_name, make_player

    if spec.lower().startswith(AXELROD_PREFIX):
        from baselines.axelrod_adapter import AxelrodCoPlayer

        player = AxelrodCoPlayer(spec[len(AXELROD_PREFIX):], payoffs=payoffs, match_length=num_rounds)
        return f"axelrod:{player.name}", player
    path_text, _, index_text = spec.rpartition("@") if "@" in spec else (spec, "", "")
    if Path(path_text).exists():
        players = load_run_players(path_text, device=device, num_rounds=num_rounds)
        index = 0
        if index_text:
            if not index_text.isdigit() or int(index_text) >= len(players):
                raise ValueError(f"{spec!r}: the run has learners 0..{len(players) - 1}, got @{index_text}")
            index = int(index_text)
        folder = run_folder_of(path_text)
        return f"{folder.parent.name}/{folder.name}@{index}", players[index]
    try:
        name = canonical_name(spec)
    except ValueError:
        raise ValueError(
            f"unknown player {spec!r}: not a zoo member ({', '.join(ZOO_NAMES)}), not 'axelrod:<strategy>', "
            f"and no run folder or checkpoint exists at that path"
        ) from None
    return name, make_player(name, payoffs)


def split_specs(text: str) -> list:
    """``"tft, alld,axelrod:Tit For Tat"`` -> ``["tft", "alld", "axelrod:Tit For Tat"]``."""
    specs = [item.strip() for item in text.split(",") if item.strip()]
    if not specs:
        raise ValueError(f"expected a comma-separated list of players, got {text!r}")
    return specs
