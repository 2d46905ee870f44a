"""ipd-coop's subcommands agree on their defaults, and every preset is listed where presets are."""
import argparse

import pytest

from agents.harness.algorithms import ALGORITHMS
from agents.harness.cli import build_parser


def _subcommands():
    parser = build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return commands.choices


def _option(subparser, flag):
    matches = [action for action in subparser._actions if flag in action.option_strings]
    return matches[0] if matches else None


def test_payoffs_default_to_the_paper_game_except_tournament_whose_help_says_why():
    defaults = {name: _option(sub, "--payoffs").default for name, sub in _subcommands().items()
                if _option(sub, "--payoffs") is not None}
    assert defaults.pop("tournament") == "axelrod"
    assert defaults and set(defaults.values()) == {"paper"}, defaults
    help_text = _option(_subcommands()["tournament"], "--payoffs").help
    assert "unlike the other commands' paper game" in help_text and "published tournament scores" in help_text


@pytest.mark.parametrize("command", ["reproduce", "sweep"])
def test_preset_help_lists_every_preset_of_every_algorithm(command):
    help_text = _option(_subcommands()[command], "--preset").help
    presets = {name for algorithm in ALGORITHMS.values() for name in algorithm.presets}
    assert presets == {"test", "cpu-quick", "cpu", "paper", "cpu-mechanism"}
    for name in presets:
        assert name in help_text, f"--preset help of {command} does not list {name!r}: {help_text}"
