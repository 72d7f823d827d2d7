import math
from itertools import combinations

import pytest

from o1lite.metrics import bootstrap_ci, estimate, pass_at_k, sampling_pass_rate


def brute_pass_at_k(n, c, k):
    """The definition: the chance that a random k-subset of n samples holds a correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 1, 1), (5, 2, 3), (6, 3, 2), (10, 1, 10), (8, 7, 4)])
def test_pass_at_k_matches_the_definition(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k))


def test_pass_at_k_rejects_impossible_inputs():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="at least 5 samples"):
        pass_at_k(3, 1, 5)


def test_bootstrap_ci_brackets_the_mean_and_is_deterministic():
    values = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1] * 5
    low, high = bootstrap_ci(values, seed=3)
    assert low < sum(values) / len(values) < high
    assert 0.4 < low and high < 0.9
    assert bootstrap_ci(values, seed=3) == (low, high)
    assert bootstrap_ci([1.0] * 7) == (1.0, 1.0)
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def test_estimate_has_value_ci_and_n():
    result = estimate([0, 1, 1, 0])
    assert result["value"] == 0.5 and result["n"] == 4 and len(result["ci95"]) == 2


def test_aspr_averages_per_problem_rates():
    rates = [sampling_pass_rate(p) for p in ([True, False], [True, True, True, False], [])]
    assert rates == [0.5, 0.75, 0.0]
    assert estimate(rates)["value"] == pytest.approx((0.5 + 0.75 + 0.0) / 3)


# ---------------------------------------------------------------- over seeds, paired
from o1lite.metrics import describe, direction, paired_difference, seeded_estimate  # noqa: E402


def test_seeded_estimate_is_the_grand_mean_with_per_seed_means():
    scores = [[1, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]]
    result = seeded_estimate(scores)
    assert result["value"] == pytest.approx(9 / 12)
    assert result["per_seed"] == [0.75, 0.5, 1.0] and result["seeds"] == 3 and result["n"] == 4
    low, high = result["ci95"]
    assert low <= result["value"] <= high and high - low > 0
    assert seeded_estimate(scores) == result  # deterministic


def test_seed_spread_widens_the_interval():
    """The same problems with the seeds agreeing, or disagreeing: the second CI must be wider."""
    steady = [[1, 0] * 20, [1, 0] * 20, [1, 0] * 20]
    shaky = [[1, 1] * 20, [1, 0] * 20, [0, 0] * 20]
    width = lambda r: r["ci95"][1] - r["ci95"][0]
    assert width(seeded_estimate(shaky)) > width(seeded_estimate(steady))


def test_paired_difference_sees_what_unpaired_intervals_hide():
    """Method a solves 4 problems in 40 that b misses, under every seed, and the same others:
    the separate CIs overlap, the paired CI excludes 0."""
    base = [[float((i * 7 + s) % 3 == 0) for i in range(40)] for s in range(3)]
    better = [[1.0 if i % 10 == 0 else v for i, v in enumerate(row)] for row in base]
    base = [[0.0 if i % 10 == 0 else v for i, v in enumerate(row)] for row in base]
    difference = paired_difference(better, base)
    assert difference["value"] == pytest.approx(0.1)
    assert direction(difference) == 1 and "higher" in describe(difference)
    a, b = seeded_estimate(better), seeded_estimate(base)
    assert a["ci95"][0] < b["ci95"][1]  # the unpaired intervals overlap


def test_a_difference_with_zero_inside_its_interval_states_no_direction():
    noise = [[1, 0, 0, 1, 1, 0], [0, 1, 1, 0, 0, 1]]
    other = [[0, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0]]
    difference = paired_difference(noise, other)
    assert direction(difference) == 0 and "no difference we can detect" in describe(difference)


def test_paired_difference_needs_the_same_seeds_and_problems():
    with pytest.raises(ValueError, match="same seeds and problems"):
        paired_difference([[1, 0]], [[1, 0, 1]])
    with pytest.raises(ValueError, match="scores\\[seed\\]\\[problem\\]"):
        seeded_estimate([])


def test_paired_auroc_difference_is_the_gap_on_the_same_items():
    from o1lite.metrics import auroc, paired_auroc_difference

    good = [[(0.9, 1), (0.2, 0)], [(0.8, 1), (0.1, 0), (0.7, 1)]]  # one seed, two problems: separates perfectly
    poor = [[(0.1, 1), (0.6, 0)], [(0.5, 1), (0.4, 0), (0.3, 1)]]
    difference = paired_auroc_difference([good], [poor])
    pooled = lambda groups: [x for items in groups for x in items]
    expected = auroc([s for s, _ in pooled(good)], [y for _, y in pooled(good)]) - auroc(
        [s for s, _ in pooled(poor)], [y for _, y in pooled(poor)])
    assert difference["value"] == pytest.approx(expected) and expected > 0.5
    flipped = [[(s, 1 - y) for s, y in items] for items in poor]
    with pytest.raises(ValueError, match="same held-out items"):
        paired_auroc_difference([good], [flipped])
