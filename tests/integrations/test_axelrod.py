"""Axelrod interoperation: our zoo plays Axelrod's moves; Axelrod strategies play in our envs."""
import pytest
import torch

axl = pytest.importorskip("axelrod", reason="needs the [axelrod] extra: pip install -e '.[axelrod]'")

from baselines.axelrod_adapter import (  # noqa: E402  (after importorskip, which skips the module without its extra)
    AxelrodCoPlayer,
    IPDStrategy,
    axelrod_strategy,
    classic_tournament_strategies,
    ranked_table,
    zoo_strategies,
)
from baselines.tabular import make_player, zero_determinant  # noqa: E402  (after importorskip, which skips the module without its extra)
from ipd_env.player import play_episodes, play_parallel  # noqa: E402  (after importorskip, which skips the module without its extra)

C, D = axl.Action.C, axl.Action.D
OPPONENTS = (
    axl.Cooperator, axl.Defector, axl.TitForTat, axl.Alternator, axl.Grudger, axl.SuspiciousTitForTat,
    axl.Random, axl.FirstByJoss, axl.WinStayLoseShift, axl.CyclerDC, axl.Bully, axl.TitFor2Tats,
    axl.GoByMajority, axl.ZDExtort2,
)
DETERMINISTIC_PAIRS = (("tft", axl.TitForTat), ("wsls", axl.WinStayLoseShift), ("allc", axl.Cooperator),
                       ("alld", axl.Defector))


def play(first, second, seed, turns=60):
    match = axl.Match((first, second), turns=turns, seed=seed, game=axl.Game())
    return match.play()


@pytest.mark.parametrize("ours, theirs", DETERMINISTIC_PAIRS)
def test_deterministic_zoo_members_play_axelrods_moves(ours, theirs):
    for opponent in OPPONENTS:
        for seed in (0, 1):
            expected = play(theirs(), opponent(), seed)
            got = play(IPDStrategy(make_player(ours, "axelrod")), opponent(), seed)
            assert got == expected, f"{ours} vs {opponent.name}, seed {seed}"


class _SharedUniforms:
    """Axelrod-side random source replaying the torch uniforms our memory-1 player draws.

    Our player (inside ``IPDStrategy``) seeds a torch generator from Axelrod's per-match seed
    and draws one uniform per round, cooperating when ``u < p``; Axelrod's memory-one player
    cooperates when ``random() < p``. Feeding Axelrod round ``t``'s uniform makes the two
    play the same moves exactly when their probabilities agree.
    """

    def __init__(self, seed, player):
        generator = torch.Generator()
        generator.manual_seed(int(axl.RandomGenerator(seed=seed).random_seed_int()) % (2**63 - 1))
        self.uniforms = [float(torch.rand(1, generator=generator)) for _ in range(200)]
        self.player = player

    def random(self):
        return self.uniforms[len(self.player.history)]

    def random_choice(self, p):
        return C if self.random() < p else D

    def random_seed_int(self):
        raise AssertionError("not used")


class FedZDExtort2(axl.ZDExtort2):
    name = "ZD-Extort-2"

    def set_seed(self, seed):
        super().set_seed(seed)
        self._random = _SharedUniforms(seed, self)


def test_extort2_has_axelrods_four_vector_on_axelrods_game():
    ours = zero_determinant(2.0, payoffs="axelrod")  # chi = 2, phi = half the maximum = 1/18
    theirs = axl.ZDExtort2()._four_vector
    assert ours[0] == 1.0
    assert list(ours[1:]) == pytest.approx([theirs[(C, C)], theirs[(C, D)], theirs[(D, C)], theirs[(D, D)]])
    assert list(ours[1:]) == pytest.approx([8 / 9, 1 / 2, 1 / 3, 0])


def test_extort2_plays_axelrods_moves_on_shared_random_draws():
    for opponent in OPPONENTS:
        for seed in (0, 1, 2):
            expected = play(FedZDExtort2(), opponent(), seed)
            got = play(IPDStrategy(make_player("extort2", "axelrod")), opponent(), seed)
            assert got == expected, f"extort2 vs {opponent.name}, seed {seed}"


def test_axelrod_strategy_as_co_player_in_batched_env_matches_axelrod_match():
    # Our TFT (player_0) against Axelrod's Alternator (player_1): C D C D ... for Alternator,
    # TFT copies it one round later.
    result = play_episodes((make_player("tft"), AxelrodCoPlayer("Alternator")), num_games=3, num_rounds=8, seed=0)
    expected = play(axl.TitForTat(), axl.Alternator(), seed=0, turns=8)
    for game in range(3):
        moves = [(C if a == 0 else D, C if b == 0 else D) for a, b in result["actions"][:, :, game].T.tolist()]
        assert moves == expected
    assert result["actions"][1, :, 0].tolist() == [0, 1, 0, 1, 0, 1, 0, 1]


def test_stochastic_axelrod_co_player_is_seeded_by_our_generator():
    def random_moves(seed):
        played = play_episodes((make_player("allc"), AxelrodCoPlayer(axl.Random)), 4, num_rounds=30, seed=seed)
        return played["actions"][1]

    assert torch.equal(random_moves(5), random_moves(5))
    assert not torch.equal(random_moves(5), random_moves(6))
    rate = random_moves(5).float().mean().item()
    assert 0.3 < rate < 0.7  # 120 fair coin flips


def test_grudger_co_player_remembers_per_game():
    # Grudger defects forever once the other defected; AllD triggers it after round 1.
    actions = play_episodes((make_player("alld"), AxelrodCoPlayer("Grudger")), 2, num_rounds=5, seed=0)["actions"]
    assert actions[1, :, 0].tolist() == [0, 1, 1, 1, 1]


def test_bad_axelrod_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="unknown Axelrod strategy 'Tit For Tatt'.*closest: Tit For Tat"):
        axelrod_strategy("Tit For Tatt")
    with pytest.raises(ValueError, match="manipulates_state|inspects_source"):
        AxelrodCoPlayer(axl.Darwin)
    with pytest.raises(TypeError, match="expected an axelrod.Player"):
        AxelrodCoPlayer(42)


def test_our_players_enter_tournament_and_moran_process():
    players = zoo_strategies(("tft", "alld", "allc"), payoffs="axelrod") + [axl.Grudger(), axl.Defector()]
    results = axl.Tournament(players, turns=20, repetitions=1, seed=3).play(progress_bar=False)
    rows = ranked_table(results)
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 5]
    allc = next(row for row in rows if row["name"] == "ipd:allc")
    assert allc["cooperation_rating"] == 1.0
    # AllC is exploited by both defectors: it cannot rank first.
    assert rows[0]["name"] != "ipd:allc"

    def moran(seed):
        population = [IPDStrategy(make_player("alld"), name="ipd:alld")] + [axl.Cooperator() for _ in range(3)]
        process = axl.MoranProcess(population, turns=10, seed=seed)
        process.play()
        return process.winning_strategy_name, len(process.populations)

    assert moran(0) == moran(0)
    assert moran(0)[0] in ("ipd:alld", "Cooperator")


def test_classic_tournament_strategies_are_distinct():
    names = [player.name for player in classic_tournament_strategies()]
    assert len(names) == len(set(names)) and "Tit For Tat" in names and "Grudger" in names


def test_axelrod_co_player_in_pettingzoo_env():
    import ipd_env

    env = ipd_env.parallel_env(max_cycles=6)
    players = (make_player("alld"), AxelrodCoPlayer("Tit For Tat", match_length=6))
    played = play_parallel(env, players, seed=0)
    moves = [tuple(row) for row in played["actions"].tolist()]
    # Axelrod's TFT opens with C, then copies AllD's D.
    assert moves == [(1, 0)] + [(1, 1)] * 5


def test_axelrod_co_player_in_gymnasium_env():
    import gymnasium

    import ipd_env  # noqa: F401  (registers the id)

    env = gymnasium.make("ipd_env/IPDvsCoPlayer-v0", co_player=AxelrodCoPlayer("Grudger"), max_cycles=5)
    env.reset(seed=0)
    co_player_moves = []
    for action in (0, 1, 0, 0, 0):
        _, reward, _, truncated, info = env.step(action)
        co_player_moves.append(info["co_player_action"])
    # Grudger cooperates until our defection in round 2, then defects forever.
    assert co_player_moves == [0, 0, 1, 1, 1]
    assert truncated and info["co_player"] == "Grudger"
