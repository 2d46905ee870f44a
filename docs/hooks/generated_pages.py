"""MkDocs hook: parts of pages generated from the code at build time, so they cannot go stale.

A page asks for generated text with a marker on a line of its own:

* ``<!-- module-docstring: ipd_env.ipd -->`` is replaced by that module's docstring, read
  from its source without importing it. As in PettingZoo's classic envs, the PettingZoo
  env's module docstring *is* its documentation page.
* ``<!-- cli-reference -->`` is replaced by the reference of ``ipd-coop``: every
  subcommand's one-line summary, then its ``--help`` text, from the argparse parser that the
  command itself uses (``agents.harness.cli.build_parser``), formatted at a fixed width.

An unknown module or marker fails the build with an error that names it.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- (?P<kind>module-docstring|cli-reference)(?:: (?P<argument>[\w.]+))? -->$", re.MULTILINE)
HELP_WIDTH = 74  # columns of the generated --help text (fits the page), independent of the terminal that builds


def module_docstring(module_name: str) -> str:
    """The docstring of ``module_name``, read from its source file (no import, no side effects)."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        raise PluginError(f"module-docstring: no Python source for module {module_name!r}")
    docstring = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8")))
    if not docstring:
        raise PluginError(f"module-docstring: module {module_name!r} has no docstring")
    return docstring


def cli_reference() -> str:
    """Markdown for ``ipd-coop``: a table of subcommands, then each one's ``--help`` text."""
    import argparse

    from agents.harness.cli import build_parser

    previous_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(HELP_WIDTH)  # argparse wraps help text at the terminal width
    try:
        parser = build_parser()
        subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
        summaries = {choice.dest: choice.help for choice in subparsers._choices_actions}
        lines = ["| command | what it does |", "|---|---|"]
        lines += [f"| [`ipd-coop {name}`](#ipd-coop-{name}) | {summaries.get(name, '')} |"
                  for name in subparsers.choices]
        lines += ["", "```text", parser.format_help().rstrip(), "```"]
        for name, subparser in subparsers.choices.items():
            lines += ["", f"## `ipd-coop {name}` {{ #ipd-coop-{name} }}", "",
                      "```text", subparser.format_help().rstrip(), "```"]
    finally:
        if previous_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous_columns
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    def generate(match: re.Match) -> str:
        if match["kind"] == "module-docstring":
            if not match["argument"]:
                raise PluginError(f"{page.file.src_uri}: module-docstring needs a module name")
            return module_docstring(match["argument"])
        return cli_reference()

    return MARKER.sub(generate, markdown)
