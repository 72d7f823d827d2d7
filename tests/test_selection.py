"""Chapter 07's selection: public/hidden split, inputs without a reference,
clustering by outputs in the sandbox, ranking, round-robin submission, and
the estimators checked against brute force on toys."""

import itertools
import math
import random

import pytest

from o1lite.metrics import pass_at_k
from o1lite.problems import Problem, TestCase
from o1lite.stages import selection
from o1lite.stages.selection import Pool


def doubling_problem() -> Problem:
    cases = [TestCase((x,), 2 * x) for x in range(8)]
    return Problem("toy/double", "def f(x: int) -> int:\n    \"\"\"Double x.\"\"\"\n", "f", "def f(x):\n    return 2 * x\n",
                   cases, "synthetic", split="test")


def test_split_tests_is_fixed_disjoint_and_complete():
    problem = doubling_problem()
    public, hidden = selection.split_tests(problem)
    assert (public, hidden) == selection.split_tests(problem)
    assert len(public) == selection.PUBLIC and len(hidden) == len(problem.tests) - selection.PUBLIC
    assert sorted(c.args for c in public + hidden) == sorted(c.args for c in problem.tests)
    few = Problem("toy/few", problem.prompt, "f", problem.reference, problem.tests[:2], "synthetic")
    with pytest.raises(ValueError, match="needs more than 2"):
        selection.split_tests(few)


def test_random_inputs_keep_the_examples_types_and_are_new():
    examples = [([3, -1, 4],), ([],)]
    drawn = selection.random_inputs(examples, 12, random.Random(0))
    assert drawn == selection.random_inputs(examples, 12, random.Random(0))
    assert len(drawn) == 12 and len({repr(a) for a in drawn}) == 12
    assert all(repr(a) not in {repr(e) for e in examples} for a in drawn)
    assert all(len(a) == 1 and isinstance(a[0], list) and all(type(v) is int for v in a[0]) for a in drawn)
    words = selection.random_inputs([("abba", 2)], 8, random.Random(1))
    assert all(type(w) is str and set(w) <= {"a", "b"} and type(n) is int for w, n in words)


def test_programs_cluster_by_their_outputs_and_submit_round_robin(sandbox):
    problem = doubling_problem()
    twice, plus, capped, wrong = ("def f(x):\n    return x * 2\n", "def f(x):\n    return x + x\n",
                                  "def f(x):\n    return 2 * x if x < 10 else 0\n", "def f(x):\n    return -1\n")
    samples = [twice, plus, twice, capped, None, wrong, twice]
    inputs = {"random": [[(1,), (2,), (50,)]]}
    (pool,), stats = selection.build_pools(sandbox, [problem], [samples], [[5] * len(samples)], [[]], inputs)
    assert stats["programs_run"] == 4 and stats["samples"] == 7  # identical programs run once
    assert pool.samples == [0, 1, 0, 2, -1, 3, 0]
    assert pool.correct == [True, True, True, False] and pool.public == [True, True, True, False]
    out = pool.outputs["random"]
    assert out[0] == out[1] != out[2]  # same behaviour, one cluster; the capped one differs at 50 only
    ranked = selection.groups(pool, range(len(samples)), "cluster", "random")
    assert [(members, size) for _, members, size in ranked] == [([0, 1], 4), ([2], 1)]  # the wrong program is filtered out
    assert selection.submissions(pool, range(len(samples)), 3, "cluster", "random") == [0, 2, 1]
    assert selection.submissions(pool, [5], 1, "cluster", "random") == [3]  # nothing passes the public cases: keep all
    unfiltered = selection.groups(pool, range(len(samples)), "cluster", "random", filtered=False)
    assert [(members, size) for _, members, size in unfiltered] == [([0, 1], 4), ([2], 1), ([3], 1)]
    with pytest.raises(ValueError, match="needs PRM scores"):
        selection.groups(pool, range(len(samples)), "prm", "random")


def test_round_robin_takes_each_groups_best_then_the_next():
    assert selection.round_robin([[1, 2], [3], [4, 5, 6]], 5) == [1, 3, 4, 2, 5]
    assert selection.round_robin([[1, 2], [3], [4, 5, 6]], 10) == [1, 3, 4, 2, 5, 6]
    assert selection.round_robin([], 3) == []


def toy_pool(correct: list[bool], passes: list[str] | None = None, samples: list[int] | None = None) -> Pool:
    programs = len(correct)
    samples = samples if samples is not None else list(range(programs))
    return Pool("toy", samples, [1] * len(samples), [True] * programs, list(correct), passes or [""] * programs,
                {"tcg": [str(i) for i in range(programs)], "random": [str(i) for i in range(programs)]},
                {"tcg": [0.0] * programs, "random": [0.0] * programs}, [0.5] * programs)


def test_codet_ranks_by_programs_times_the_cases_they_pass():
    # programs 0,1 agree on cases "110" (2 samples x 2 cases = 4); 2 passes "100" with 3 samples (3); 3 passes all three (1 x 3)
    pool = toy_pool([False, False, True, True], ["110", "110", "100", "111"], samples=[0, 1, 2, 2, 2, 3])
    ranked = selection.groups(pool, range(6), "codet")
    assert [(score, members) for score, members, _ in ranked] == [(4.0, [0, 1]), (3.0, [2]), (3.0, [3])]


def test_measure_matches_brute_force_on_every_toy():
    """Four samples, each its own program and cluster: the closed forms for the random
    pick and the oracle equal enumerating every pick, for every pattern of right samples."""
    for pattern in itertools.product([False, True], repeat=4):
        found = selection.measure(toy_pool(list(pattern)), budgets=(1, 2, 4), ks=(1, 2, 3), rankers=("cluster",), sources=("random",))
        assert found["pass1"] == sum(pattern) / 4
        for n in (1, 2, 4):
            chunks = [pattern[i:i + n] for i in range(0, 4, n)]
            assert found["oracle"][n] == pytest.approx(sum(any(c) for c in chunks) / len(chunks))
            for k in (1, 2, 3):
                brute = [sum(any(chunk[i] for i in pick) for pick in itertools.combinations(range(n), min(k, n)))
                         / math.comb(n, min(k, n)) for chunk in chunks]
                assert found["select"]["random"][n][k] == pytest.approx(sum(brute) / len(brute))
        assert found["select"]["random"][1][1] == pytest.approx(found["pass1"])


def test_the_estimators_are_unbiased_over_every_order_of_the_draw():
    """Averaged over every order the samples could have been drawn in, a budget of n
    gives pass@n (the oracle) and the random pick's gap recovered at k = 1 is 0."""
    pattern = [True, False, False, True, False, False]
    orders = list(itertools.permutations(range(6)))
    for n in (2, 3):
        oracle, random_one = 0.0, 0.0
        for order in orders:
            found = selection.measure(toy_pool([pattern[i] for i in order]), budgets=(n,), ks=(1,), rankers=(), sources=())
            oracle += found["oracle"][n] / len(orders)
            random_one += found["select"]["random"][n][1] / len(orders)
        assert oracle == pytest.approx(pass_at_k(6, 2, n))
        assert random_one == pytest.approx(2 / 6)
        assert selection.gap_recovered([(random_one, 2 / 6, oracle)]) == pytest.approx(0.0, abs=1e-12)


def test_gap_recovered_is_a_ratio_of_sums():
    items = [(1.0, 0.5, 1.0), (0.0, 0.0, 0.0), (0.5, 0.25, 1.0)]
    assert selection.gap_recovered(items) == pytest.approx((1.5 - 0.75) / (2.0 - 0.75))
    assert math.isnan(selection.gap_recovered([(0.0, 0.0, 0.0)]))  # no gap to recover
    assert selection.random_at(5, 0, 3) == 0.0 and selection.random_at(2, 1, 10) == 1.0


def test_baselines_with_duplicates_public_failures_and_no_code_match_brute_force():
    """Program 0 is right and passes the public cases, 1 is wrong and fails them, 2 is wrong and passes;
    one sample wrote no code. Every budget's baselines against enumerating the picks."""
    pool = toy_pool([True, False, False], samples=[1, 1, 2, -1, 0, 1])
    pool.public = [True, False, True]
    found = selection.measure(pool, budgets=(1, 2, 3, 6), ks=(1, 2), rankers=("cluster",), sources=("random",))
    right = [p >= 0 and pool.correct[p] for p in pool.samples]
    passing = [p >= 0 and pool.public[p] for p in pool.samples]
    for n in (1, 2, 3, 6):
        chunks = [list(range(i, i + n)) for i in range(0, 6, n)]
        for k in (1, 2):
            def share(members):
                picks = list(itertools.combinations(members, min(k, len(members))))
                return sum(any(right[i] for i in pick) for pick in picks) / len(picks)
            filtered = [share([i for i in chunk if passing[i]] or chunk) for chunk in chunks]
            assert found["select"]["filter"][n][k] == pytest.approx(sum(filtered) / len(chunks))
            first = [list(dict.fromkeys(pool.samples[i] for i in chunk if pool.samples[i] >= 0))[:k] for chunk in chunks]
            assert found["select"]["distinct"][n][k] == pytest.approx(sum(any(pool.correct[p] for p in f) for f in first) / len(chunks))
    assert found["select"]["filter"][6][1] == pytest.approx(0.5)  # the public-passing samples: one of program 0, one of program 2
    with pytest.raises(ValueError, match="must divide"):
        selection.measure(pool, budgets=(4,), ks=(1,))
