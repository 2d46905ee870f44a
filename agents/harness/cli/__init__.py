"""``ipd-coop``: the package's one command (installed by ``pip install ipd-env``).

::

    ipd-coop reproduce fig1                       # the paper's Fig. 1, quick CPU preset, ./runs/...
    ipd-coop reproduce step3 --algo ppi --preset cpu --seeds 5 --backend ray
    ipd-coop evaluate runs/fig1-a2c-cpu-quick/mixed/seed_0 --against allc,alld,tft,wsls,axelrod:Grudger
    ipd-coop play tft axelrod:Alternator --rounds 8
    ipd-coop tournament tft wsls extort2 runs/.../mixed/seed_0 --classics
    ipd-coop pool-stats sharpened:3                # what knowing the co-player is worth

Players are named as in :mod:`agents.harness.player_specs` (zoo names, ``axelrod:<strategy>``,
run folders). Every subcommand explains its flags with ``--help``. Bad input ends with a
one-line ``ipd-coop <command>: error: ...`` and exit status 2, never a traceback: counts,
seeds and devices are checked by the argument types of :mod:`agents.harness.cli.arguments`,
output paths before any work starts, and :func:`main` turns every error a user can cause
(bad values, missing extras, unreachable clusters, unwritable or missing files) into that
one line.

One module per command (``reproduce``, ``evaluate``, ``play``, ``tournament``, ``sweep``,
``plan``, ``pool_stats``), each with ``add_parser(commands)`` and its ``command_*`` handler;
this module assembles them (:func:`build_parser`) and runs one (:func:`main`).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Optional

from agents.harness.allocator import keep_freed_memory
from agents.harness.cli import evaluate, plan, play, pool_stats, reproduce, sweep, tournament
from agents.harness.cli.arguments import (
    DEVICE_TYPES,
    MAX_RANDOMSTATE_SEED,
    CommandParser,
    argument_of,
    check_output,
    non_negative_float,
    one_line,
    parse_overrides,
    positive_int,
    seed_int,
    split_names,
    torch_device,
)
from agents.harness.cli.evaluate import DEFAULT_CO_PLAYERS, command_evaluate, trained_payoffs_note
from agents.harness.cli.plan import command_plan
from agents.harness.cli.play import command_play
from agents.harness.cli.pool_stats import command_pool_stats
from agents.harness.cli.reproduce import command_reproduce
from agents.harness.cli.sweep import command_sweep
from agents.harness.cli.tournament import command_tournament, tournament_player
from baselines.optional import MissingExtraError

__all__ = [
    "BROKEN_PIPE", "COMMANDS", "DEFAULT_CO_PLAYERS", "DEVICE_TYPES", "INTERRUPTED", "MAX_RANDOMSTATE_SEED",
    "CommandParser", "build_parser", "check_output", "command_evaluate", "command_play", "command_plan",
    "command_pool_stats", "command_reproduce", "command_sweep", "command_tournament", "main", "non_negative_float",
    "one_line", "parse_overrides", "positive_int", "seed_int", "split_names", "torch_device", "tournament_player",
    "trained_payoffs_note",
]

#: The subcommands' modules, in the order ``ipd-coop --help`` lists them.
COMMANDS = (reproduce, evaluate, play, tournament, sweep, plan, pool_stats)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="ipd-coop", description=(
        "Iterated Prisoner's Dilemma: reproduce arXiv 2602.16301, evaluate and watch players, run tournaments."))
    parser.add_argument("--version", action="version", version=f"ipd-coop (ipd-env) {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _version() -> str:
    from agents.harness.run_folder import _package_version

    return _package_version()


#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: Exit status when the reader of our output went away (128 + SIGPIPE), as ``yes | head`` ends.
BROKEN_PIPE = 141


def _out_of_memory(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, MemoryError) or "out of memory" in text or "can't allocate memory" in text


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``ipd-coop``; returns the exit status.

    Besides the one-line errors (module docstring): warnings print as one line
    ``ipd-coop <command>: warning: ...``; Ctrl-C ends with one line and status 130 (a run
    folder keeps its last checkpoints and loses no temporary file: ``--resume`` continues
    it exactly); an allocation that fails (``MemoryError``, torch's out-of-memory) is one
    line; output into a closed pipe (``ipd-coop play ... | head -2``) ends quietly with 141.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"ipd-coop {args.command}"

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"{prefix}: warning: {one_line(str(message))}", file=sys.stderr if file is None else file)

    from agents.harness.run_folder import command_line

    with warnings.catch_warnings(), command_line(["ipd-coop", *(sys.argv[1:] if argv is None else argv)]):
        warnings.showwarning = show_warning
        return _run(parser, args, prefix)


def _run(parser, args, prefix: str) -> int:
    try:
        keep_freed_memory()  # before any worker starts, so that a bad IPD_ENV_MALLOC_TUNING is one line here
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return BROKEN_PIPE
    except KeyboardInterrupt:
        folder = getattr(args, "out", None) or "the output folder"
        kept = (f"; {folder} keeps its last checkpoints: run the same command with --resume to continue"
                if args.command in ("reproduce", "sweep") else "")
        print(f"{prefix}: interrupted{kept}", file=sys.stderr)
        return INTERRUPTED
    except (MemoryError, RuntimeError) as error:
        if not _out_of_memory(error):
            raise
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        parser.exit(2, f"{prefix}: error: out of memory ({first_line[:200]}); use fewer games, rounds, seeds "
                       f"or --workers\n")
    except OSError as error:  # unwritable, missing or special output paths, caught by kind
        filename = None if error.filename is None else os.fsdecode(error.filename)
        argument = argument_of(args, filename)
        if filename is None:
            message = str(error)  # e.g. ConnectionError: its text says what was unreachable
        elif argument is None:
            message = f"{filename}: {error.strerror or error}"
        else:
            message = f"{argument}: cannot write {filename} ({error.strerror or error})"
        parser.exit(2, f"{prefix}: error: {one_line(message)}\n")
    except (ValueError, TypeError, MissingExtraError) as error:
        parser.exit(2, f"{prefix}: error: {one_line(error)}\n")

