"""The data set's CO_PLAYER_KINDS decodes the codes the pool and the collector write (issue 10)."""
from agents.pool import KIND_FROZEN, KIND_LEARNER, KIND_NAMES, KIND_TABULAR
from agents.ppi.collect import KIND_RANDOM
from agents.ppi.dataset import CO_PLAYER_KINDS


def test_co_player_kinds_are_indexed_by_their_codes():
    decoded = {code: CO_PLAYER_KINDS[code] for code in (KIND_LEARNER, KIND_TABULAR, KIND_FROZEN, KIND_RANDOM)}
    assert decoded == {0: "learner", 1: "tabular", 2: "frozen", 3: "random"}
    assert CO_PLAYER_KINDS[:len(KIND_NAMES)] == KIND_NAMES
