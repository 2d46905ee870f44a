"""Files written before the co-player had one name: their keys, read as today's.

Files written before the package settled on one spelling of "co-player" say ``coplayer``: the
``metrics.csv`` columns ``learner_vs_frozen/coplayer_reward`` and ``.../coplayer_cooperation``
(and the checkpoints' history of them), the ``eval.json`` / ``summary.json`` keys
``coplayer_reward``, ``coplayer_cooperation``, their ``_per_round`` curves and the pool's
``num_coplayers``, and the PPI data set's ``coplayer_kind`` array.
Today each is spelled ``co_player``. Every reader of those files passes the keys it reads
through :func:`current_name`, the one place that knows the old spelling, so an old run or
sweep folder summarises, plots, evaluates and resumes like a new one.

A resumed old run folder keeps appending to ``metrics.csv`` under its own header (the
runner writes its new rows in the folder's spelling: one file, one set of column names);
files written whole (``eval.json``, ``summary.json``) are written with today's names.
"""
from __future__ import annotations

OLD_SPELLING = "coplayer"
SPELLING = "co_player"


def current_name(name: str) -> str:
    """``name`` as this version spells it: ``coplayer_reward`` -> ``co_player_reward``; any other name as it is."""
    return name.replace(OLD_SPELLING, SPELLING)


def with_current_names(data):
    """JSON-like ``data`` (dicts, lists, scalars) with every dict key passed through :func:`current_name`,
    at any depth; values, strings included, are kept as they are."""
    if isinstance(data, dict):
        return {current_name(key) if isinstance(key, str) else key: with_current_names(value)
                for key, value in data.items()}
    if isinstance(data, list):
        return [with_current_names(item) for item in data]
    return data
