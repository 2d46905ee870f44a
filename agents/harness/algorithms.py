"""The algorithms the harness runs, by name: one line per algorithm, whose record lives in its own module."""
from __future__ import annotations

from agents import a2c, ppi
from agents.algorithm import Algorithm

#: Algorithm name -> its :class:`agents.algorithm.Algorithm` record.
ALGORITHMS = {algorithm.name: algorithm for algorithm in (a2c.ALGORITHM, ppi.ALGORITHM)}


def get_algorithm(name: str) -> Algorithm:
    """The algorithm registered as ``name``; raises ``ValueError`` listing the known names."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; known algorithms: {', '.join(ALGORITHMS)}")
    return ALGORITHMS[name]
