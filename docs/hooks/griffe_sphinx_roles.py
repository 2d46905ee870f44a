"""Griffe extension: the docstrings' Sphinx roles become links in the MkDocs site.

The package's docstrings cross-reference with Sphinx roles (``:class:`ipd_env.player.Player```,
``:func:`~agents.harness.runner.run_unit```) and end a paragraph before a code block with ``::``;
mkdocstrings renders docstrings as Markdown, where both would show up verbatim. This
extension rewrites, on every loaded object:

* a role into an *optional* autorefs link: a link where the target is documented in the
  site, plain code otherwise (so a reference to an undocumented helper is no build error).
  A name without a package prefix is looked up next to the object that mentions it
  (``IPDVectorEnv.step`` in ``ipd_env.vector`` means ``ipd_env.vector.IPDVectorEnv.step``);
  ``~`` shows the last component only, as in Sphinx;
* a paragraph-ending ``::`` into ``:`` (the indented block after it is already a Markdown
  code block).
"""
from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const):"
                  r"`(?P<tilde>~?)(?P<target>[\w.]+)(?:\(\))?`")
LITERAL_BLOCK_MARKER = re.compile(r"(?<=\S)::$", flags=re.MULTILINE)
TOP_LEVEL_PACKAGES = ("ipd_env", "baselines", "agents")


def resolve(target: str, obj: griffe.Object) -> str:
    """The full dotted path of ``target`` as written in a docstring of ``obj``."""
    if target.split(".")[0] in TOP_LEVEL_PACKAGES:
        return target
    if isinstance(obj, griffe.Module):
        return f"{obj.path}.{target}"
    return f"{obj.module.path}.{target}"


def convert(text: str, obj: griffe.Object) -> str:
    """``text`` with Sphinx roles as optional autorefs links and ``::`` as ``:``."""
    def link(match: re.Match) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        return f'<autoref identifier="{resolve(target, obj)}" optional><code>{shown}</code></autoref>'

    return LITERAL_BLOCK_MARKER.sub(":", ROLE.sub(link, text))


class SphinxRolesToAutorefs(griffe.Extension):
    """Rewrites each docstring once the whole object tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value, obj)
