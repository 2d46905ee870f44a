"""MkDocs hook: the pages live in ``docs/`` beside ``docs/mkdocs.yml``; paths do not depend on the cwd.

The repository's top level is fixed (no ``mkdocs.yml`` there), so the config sits in
``docs/``. MkDocs refuses a ``docs_dir`` equal to the config's own folder while it
validates the config (so that ``mkdocs.yml`` is not published as a page), which is why
``mkdocs.yml`` names a child folder and this hook, run before every plugin, points
``docs_dir`` at ``docs/`` itself; ``exclude_docs`` in ``mkdocs.yml`` keeps the config and
the hooks out of the site, and ``site_dir`` must lie outside ``docs/`` so that a build
never publishes the previous one.

It also makes the snippets' ``base_path`` (``--8<-- "README.md:results"``) the repository
root, whatever directory ``mkdocs`` is started from (pymdownx resolves it against the cwd).
"""
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority


@event_priority(100)  # before every plugin, so that all of them see the final docs_dir
def on_config(config):
    docs_root = Path(config.config_file_path).resolve().parent
    site_dir = Path(config.site_dir).resolve()
    if docs_root == site_dir or docs_root in site_dir.parents:
        raise PluginError(f"site_dir {site_dir} lies inside {docs_root}: the next build would publish this one; "
                          f"choose a site_dir outside docs/")
    config.docs_dir = str(docs_root)
    config.mdx_configs.setdefault("pymdownx.snippets", {})["base_path"] = [str(docs_root.parent)]
    return config
