"""Pool distributions, the exact oracle and the in-context gain: hand numbers and marginals."""
import math

import numpy as np
import pytest
import torch

from baselines.incontext import (
    ZOO_POOL_MEMBERS,
    PoolDistribution,
    deterministic_policies,
    dynamic_programming_rewards,
    evaluation_set,
    gain_report,
    oracle_values,
    parse_pool,
    pool_stats,
    reciprocity,
)
from baselines.tabular import named_probabilities, sample_memory_one

TFT, ALLD, ALLC, RANDOM = ([1, 1, 0, 1, 0], [0] * 5, [1] * 5, [0.5] * 5)


def draw(spec: str, num_games: int, seed: int = 0) -> np.ndarray:
    return parse_pool(spec).sample(num_games, torch.Generator().manual_seed(seed)).numpy().astype(np.float64)


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, canonical",
    [
        ("uniform", "uniform"),
        (" Uniform ", "uniform"),
        ("beta:0.5,0.5", "beta:0.5,0.5"),
        ("Beta: 2, 5.0", "beta:2,5"),
        ("sharpened:3", "sharpened:3"),
        ("sharpened:0.25", "sharpened:0.25"),
        ("pure", "pure"),
        ("zoo", "zoo"),
    ],
)
def test_specs_parse_to_a_canonical_form_that_parses_back_to_the_same_distribution(spec, canonical):
    distribution = parse_pool(spec)
    assert distribution.spec == canonical
    assert parse_pool(distribution.spec) == distribution
    assert parse_pool(distribution) is distribution
    assert distribution.name == canonical.split(":")[0]


@pytest.mark.parametrize(
    "spec",
    ["gaussian", "", "beta", "beta:1", "beta:1,2,3", "beta:0,1", "beta:-1,2", "beta:nan,1", "beta:inf,1",
     "beta:a,b", "sharpened", "sharpened:0", "sharpened:-2", "sharpened:inf", "uniform:3", "pure:", "zoo:tft"],
)
def test_bad_specs_are_refused_naming_the_spec_and_the_accepted_forms(spec):
    with pytest.raises(ValueError) as error:
        parse_pool(spec)
    message = str(error.value)
    assert repr(spec) in message
    assert "'beta:A,B'" in message and "'sharpened:K'" in message and "'zoo'" in message


def test_a_spec_that_is_not_a_string_is_refused():
    with pytest.raises(ValueError, match="a pool spec is a string, got float"):
        parse_pool(0.5)


def test_the_zoo_pool_cannot_be_built_for_a_game_without_gtft():
    # Axelrod's game has GTFT and ZD members; a bimatrix with no symmetric form has not.
    assert parse_pool("zoo", "axelrod").spec == "zoo"
    with pytest.raises(ValueError, match="pool 'zoo' cannot be built for payoffs"):
        parse_pool("zoo", [[[1, 1], [-1, 3]], [[2, -1], [0, 0.5]]])


# --- sampling ----------------------------------------------------------------------------


def test_uniform_draws_exactly_what_the_papers_pool_draws():
    ours = parse_pool("uniform").sample(64, torch.Generator().manual_seed(7))
    papers = sample_memory_one(64, torch.Generator().manual_seed(7))
    assert torch.equal(ours, papers)


@pytest.mark.parametrize("spec", ["uniform", "beta:0.5,0.5", "sharpened:3", "pure", "zoo"])
def test_every_family_draws_float32_probabilities_reproducibly_from_the_generator(spec):
    first, again, other = draw(spec, 200, seed=1), draw(spec, 200, seed=1), draw(spec, 200, seed=2)
    sample = parse_pool(spec).sample(200, torch.Generator().manual_seed(1))
    assert sample.shape == (200, 5) and sample.dtype == torch.float32
    assert ((first >= 0) & (first <= 1)).all()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("alpha, beta", [(0.5, 0.5), (2.0, 5.0)])
def test_beta_pool_has_the_mean_and_variance_of_beta(alpha, beta):
    values = draw(f"beta:{alpha},{beta}", 20_000).ravel()  # 100,000 probabilities
    mean = alpha / (alpha + beta)  # 0.5 and 2/7
    variance = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))  # 1/8 and 10/392
    # Standard error of the mean: sqrt(variance / 1e5) <= 0.0012.
    assert values.mean() == pytest.approx(mean, abs=0.005)
    assert values.var() == pytest.approx(variance, rel=0.03)


def test_sharpened_pool_is_symmetric_about_one_half_with_the_known_tails():
    values = draw("sharpened:3", 20_000).ravel()
    assert values.mean() == pytest.approx(0.5, abs=0.005)
    # P(p < x) = P(u < sigmoid(logit(x) / K)); for x = 0.1, K = 3: sigmoid(-2.197 / 3) = 0.3247.
    expected = 1 / (1 + math.exp(math.log(9) / 3))
    assert (values < 0.1).mean() == pytest.approx(expected, abs=0.006)
    assert (values > 0.9).mean() == pytest.approx(expected, abs=0.006)  # the mirror tail


def test_sharpened_with_k_one_is_the_uniform_pool():
    sharpened = parse_pool("sharpened:1").sample(100, torch.Generator().manual_seed(3))
    uniform = parse_pool("uniform").sample(100, torch.Generator().manual_seed(3))
    torch.testing.assert_close(sharpened, uniform, atol=1e-6, rtol=0)


def test_pure_pool_is_uniform_over_the_32_deterministic_strategies():
    values = draw("pure", 32_000)
    assert set(np.unique(values)) == {0.0, 1.0}
    np.testing.assert_allclose(values.mean(axis=0), 0.5, atol=0.015)  # SE 0.003 per column
    codes = (values @ (2 ** np.arange(4, -1, -1))).astype(int)
    counts = np.bincount(codes, minlength=32)
    assert counts.min() > 800 and counts.max() < 1200  # 1,000 expected each, SE 31


def test_zoo_pool_draws_only_the_memory_one_classics_each_about_a_ninth_of_the_time():
    values = draw("zoo", 9_000)
    members = np.array([named_probabilities(name) for name in ZOO_POOL_MEMBERS])
    matches = (np.abs(values[:, None, :] - members[None]) < 1e-6).all(axis=2)  # [9000, 9]
    assert matches.any(axis=1).all()
    counts = matches.sum(axis=0)
    assert len(counts) == 9 and counts.min() > 850 and counts.max() < 1150  # 1,000 expected, SE 30
    assert "grim" not in ZOO_POOL_MEMBERS


def test_sample_refuses_a_negative_number_of_games():
    with pytest.raises(ValueError, match="num_games must be a non-negative integer, got -1"):
        parse_pool("uniform").sample(-1)


def test_evaluation_set_is_fixed_per_seed_and_apart_from_a_training_stream_of_that_seed():
    first = evaluation_set("uniform", size=32, seed=0)
    assert first.shape == (32, 5) and first.dtype == torch.float32 and first.device.type == "cpu"
    assert torch.equal(first, evaluation_set("uniform", size=32, seed=0))
    assert not torch.equal(first, evaluation_set("uniform", size=32, seed=1))
    assert not torch.equal(first, sample_memory_one(32, torch.Generator().manual_seed(0)))
    assert set(evaluation_set("pure", size=64, seed=0).unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize(
    "arguments, message",
    [({"size": 0}, "size must be a positive integer"), ({"seed": -1}, "seed must be a non-negative integer"),
     ({"pool": "beta:0,1"}, "bad pool spec 'beta:0,1'")],
)
def test_evaluation_set_refuses_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        evaluation_set(**arguments)


# --- the oracle ---------------------------------------------------------------------------


def test_deterministic_policies_enumerate_the_32_replies_with_always_defect_first():
    policies = deterministic_policies()
    assert policies.shape == (32, 5)
    assert len({tuple(row) for row in policies}) == 32
    np.testing.assert_array_equal(policies[0], ALLD)
    np.testing.assert_array_equal(policies[26], TFT)
    np.testing.assert_array_equal(policies[31], ALLC)


def test_oracle_by_hand_against_tft_alld_allc_and_random_over_100_rounds():
    oracle = oracle_values(np.array([TFT, ALLD, ALLC, RANDOM], dtype=float))
    # AllD vs TFT: 2 in round 1, then 0: 2/100. AllC's 2 per round; Random's coin: 2 * 1/2.
    np.testing.assert_allclose(oracle["alld_reward"], [0.02, 0.0, 2.0, 1.0], atol=1e-12)
    # Best memory-1 reply to TFT cooperates throughout (1 per round); to the others, defect.
    np.testing.assert_allclose(oracle["oracle_reward"], [1.0, 0.0, 2.0, 1.0], atol=1e-12)
    # Against TFT the true optimum also defects in the last round: (99 * 1 + 2) / 100.
    np.testing.assert_allclose(oracle["dp_reward"], [1.01, 0.0, 2.0, 1.0], atol=1e-12)
    np.testing.assert_array_equal(oracle["oracle_policy"][1:], np.zeros((3, 5)))  # ties go to AllD
    assert oracle["oracle_policy"][0][:2].tolist() == [1, 1]  # opens with C, answers CC with C
    np.testing.assert_allclose(oracle["reciprocity"], [2.0, 0.0, 0.0, 0.0])
    assert all(value.dtype == np.float64 for value in oracle.values())


def test_oracle_against_tft_over_three_rounds_by_hand():
    # AllD: 2, 0, 0. Memory-1: C, C, C (1 each) or C, D, D (1 + 2 + 0): 3 / 3 at best,
    # since after CC it must repeat itself. The optimum C, C, D earns 1 + 1 + 2 = 4 / 3.
    oracle = oracle_values([TFT], num_rounds=3)
    np.testing.assert_allclose(oracle["alld_reward"], [2 / 3])
    np.testing.assert_allclose(oracle["oracle_reward"], [1.0])
    np.testing.assert_allclose(oracle["dp_reward"], [4 / 3])


def test_dynamic_programme_against_suspicious_tft_over_two_rounds_by_hand():
    # STFT opens with D and copies. C then D: -1 + 2; D then D: 0 + 0. Optimum 1 / 2 per round.
    np.testing.assert_allclose(dynamic_programming_rewards([[0, 1, 0, 1, 0]], num_rounds=2), [0.5])


def test_dynamic_programme_is_never_below_the_best_of_32_replies():
    co_players = evaluation_set("uniform", size=512, seed=3)
    for num_rounds in (1, 5, 100):
        oracle = oracle_values(co_players, num_rounds=num_rounds)
        assert (oracle["dp_reward"] >= oracle["oracle_reward"] - 1e-12).all()
        assert (oracle["oracle_reward"] >= oracle["alld_reward"]).all()
    # One round: nothing to infer, defecting is dominant and all three agree.
    one_round = oracle_values(co_players, num_rounds=1)
    np.testing.assert_allclose(one_round["dp_reward"], one_round["alld_reward"], atol=1e-12)


def test_oracle_under_another_game_uses_its_payoffs():
    # Axelrod's game (R, S, T, P) = (3, 0, 5, 1): AllD vs AllD earns P = 1, vs AllC T = 5.
    oracle = oracle_values([ALLD, ALLC], payoffs="axelrod")
    np.testing.assert_allclose(oracle["alld_reward"], [1.0, 5.0])
    np.testing.assert_allclose(oracle["dp_reward"], [1.0, 5.0])


def test_the_uniform_pool_prize_matches_spec_section_8():
    # SPEC 8 (100,000 co-players): AllD 1.000, best of 32 1.049; 1,024 co-players are within
    # a few standard errors (about 0.014 for the mean).
    oracle = oracle_values(evaluation_set("uniform", size=1024, seed=0))
    assert oracle["alld_reward"].mean() == pytest.approx(1.0, abs=0.04)
    prize = oracle["oracle_reward"].mean() - oracle["alld_reward"].mean()
    assert 0.035 < prize < 0.065
    assert 0.7 < np.mean(oracle["oracle_reward"] - oracle["alld_reward"] < 1e-12) < 0.9  # AllD already best


# --- the gain ------------------------------------------------------------------------------


def test_gain_fraction_is_exactly_zero_for_always_defect_and_one_for_the_oracle():
    oracle = oracle_values(evaluation_set("uniform", size=1024, seed=0))
    always_defect = gain_report(oracle["alld_reward"], oracle)
    assert always_defect["gain_fraction"] == 0.0
    assert always_defect["top_decile_gain_fraction"] == 0.0
    assert always_defect["top_decile_gain_share"] == 0.0  # no gain to share
    best = gain_report(oracle["oracle_reward"], oracle)
    assert best["gain_fraction"] == 1.0
    assert best["top_decile_gain_fraction"] == 1.0
    assert best["top_decile_gain_share"] == best["oracle_top_decile_gain_share"]
    assert best["num_co_players"] == 1024
    assert best["reward"] == best["oracle_reward"] == pytest.approx(oracle["oracle_reward"].mean())


def test_gain_fraction_of_each_co_players_oracle_reply_computed_exactly_is_one():
    co_players = evaluation_set("sharpened:3", size=256, seed=0)
    oracle = oracle_values(co_players)
    from baselines.analytic import finite_horizon_values

    replies = finite_horizon_values(oracle["oracle_policy"], co_players).rewards[0]
    assert gain_report(replies, oracle)["gain_fraction"] == pytest.approx(1.0, abs=1e-12)


def test_gain_report_by_hand_on_four_co_players():
    # Co-players TFT, AllD, AllC, Random: only TFT offers a prize (0.98 = 1.0 - 0.02) and
    # it is the top decile (ceil(4 / 10) = 1 co-player, the most reciprocal).
    oracle = oracle_values(np.array([TFT, ALLD, ALLC, RANDOM], dtype=float))
    report = gain_report(np.array([0.51, 0.0, 2.0, 1.0]), oracle)
    assert report["gain_fraction"] == pytest.approx(0.49 / 0.98)  # gain 0.49 / 4 over prize 0.98 / 4
    assert report["top_decile_gain_fraction"] == pytest.approx(0.5)
    assert report["top_decile_gain_share"] == pytest.approx(1.0)
    assert report["oracle_top_decile_gain_share"] == pytest.approx(1.0)
    # Cooperating with Random costs 1 per round there: total gain 0.49 - 1 < 0, nothing to share.
    worse = gain_report(np.array([0.51, 0.0, 2.0, 0.0]), oracle)
    assert worse["gain_fraction"] == pytest.approx(-0.51 / 0.98)
    assert worse["top_decile_gain_share"] == 0.0


def test_gain_fraction_is_nan_only_when_the_set_offers_no_prize():
    oracle = oracle_values(np.array([ALLD, ALLC], dtype=float))
    report = gain_report([0.0, 2.0], oracle)
    assert math.isnan(report["gain_fraction"]) and report["top_decile_gain_share"] == 0.0


def test_gain_report_accepts_torch_and_refuses_a_wrong_shape_or_nan():
    oracle = oracle_values(np.array([TFT, ALLD], dtype=float))
    assert gain_report(torch.tensor([1.0, 0.0]), oracle)["gain_fraction"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"rewards must be \[N\] = \[2\].*got shape \[3\]"):
        gain_report([1.0, 0.0, 0.0], oracle)
    with pytest.raises(ValueError, match="rewards contain NaN"):
        gain_report([float("nan"), 0.0], oracle)


def test_reciprocity_by_hand():
    np.testing.assert_allclose(reciprocity([TFT, [1, 0, 1, 0, 1], [0.5, 0.9, 0.5, 0.4, 0.0]]), [2, -2, 0.8])


def test_pool_distribution_is_a_frozen_value():
    distribution = parse_pool("beta:1,2")
    assert isinstance(distribution, PoolDistribution)
    with pytest.raises(AttributeError):
        distribution.spec = "uniform"
    assert hash(distribution) == hash(parse_pool("beta:1.0,2.0"))


# --- pool statistics --------------------------------------------------------------------


def test_pool_stats_over_one_round_by_hand():
    # One round: nothing to learn about the co-player, so the oracle is always-defect; a
    # co-player cooperating with probability p0 gives AllD 2 p0 and any opener with C
    # (AllC, TFT, WSLS, Extort-2) p0 * 1 + (1 - p0) * (-1) = 2 p0 - 1.
    stats = pool_stats("uniform", num_rounds=1, size=64, seed=5)
    opening = evaluation_set("uniform", size=64, seed=5)[:, 0].double().mean().item()
    assert stats["alld_reward"] == pytest.approx(2 * opening)
    assert stats["oracle_reward"] == pytest.approx(2 * opening) and stats["prize"] == pytest.approx(0.0, abs=1e-12)
    assert stats["dp_reward"] == pytest.approx(2 * opening)
    assert stats["share_paying"] == 0.0 and stats["share_alld_best"] == 1.0
    assert stats["best_fixed_reply"]["moves"] == "DDDDD"
    for name in ("allc", "tft", "wsls", "extort2"):
        assert stats["reference_rewards"][name] == pytest.approx(2 * opening - 1)


def test_pool_stats_of_the_uniform_pool_agree_with_spec_section_8():
    stats = pool_stats("uniform")
    assert (stats["pool"], stats["num_rounds"], stats["size"], stats["seed"]) == ("uniform", 100, 1024, 0)
    assert stats["alld_reward"] == stats["reference_rewards"]["alld"]
    assert stats["prize"] == pytest.approx(stats["oracle_reward"] - stats["alld_reward"])
    assert 0.035 < stats["prize"] < 0.065 and stats["dp_reward"] >= stats["oracle_reward"]
    assert 0.75 < stats["share_alld_best"] < 0.87  # SPEC 8: AllD is the best reply to ~82%
    assert stats["share_paying"] < 1 - stats["share_alld_best"]
    assert stats["best_fixed_reply"] == {"moves": "DDDDD", "reward": stats["alld_reward"]}
    # A reciprocator gets exploited by about half the pool: TFT earns about half of AllD.
    assert stats["reference_rewards"]["tft"] == pytest.approx(0.5, abs=0.05)
    assert pool_stats("uniform") == stats  # the same set every time


def test_a_sharper_pool_offers_a_larger_prize():
    prizes = {spec: pool_stats(spec, size=512)["prize"] for spec in ("uniform", "sharpened:3", "pure")}
    assert prizes["uniform"] < prizes["sharpened:3"] < prizes["pure"]


def test_pool_stats_refuse_a_bad_spec_and_a_bad_horizon():
    with pytest.raises(ValueError, match="bad pool spec 'beta:1'"):
        pool_stats("beta:1")
    with pytest.raises(ValueError, match="positive integer"):
        pool_stats("uniform", num_rounds=0)
