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
