"""Sanitized MBPP from a local file (hand-written fixtures) and the offline failure."""

from __future__ import annotations

import ast
import json
import time

import pytest

from o1lite.problems import TestCase, load_problems
from o1lite.problems import mbpp
from o1lite.problems.asserts import exact_equal
from o1lite.problems.mbpp import MBPPFormatError, MBPPUnavailable, load_mbpp, split_of

# Four records in the sanitized-MBPP shape, one for each split.
RECORDS = [
    {
        "task_id": 3,
        "prompt": "Write a function that doubles every number in a list.",
        "code": "def double_all(xs):\n    return [2 * x for x in xs]\n",
        "test_imports": [],
        "test_list": ["assert double_all([1, 2]) == [2, 4]", "assert double_all([]) == []"],
    },
    {
        "task_id": 42,
        "prompt": "Write a python function to check whether a number is even.",
        "code": "def is_even(n) : \n    return n % 2 == 0",
        "test_imports": [],
        "test_list": ["assert is_even(4) == True", "assert not is_even(7)", "assert is_even(0)"],
    },
    {
        "task_id": 555,
        "prompt": "Write a function to find the area of a circle.",
        "code": "import math\ndef circle_area(r):\n    return math.pi * r * r",
        "test_imports": ["import math"],
        "test_list": [
            "assert math.isclose(circle_area(2), 12.566, rel_tol=0.001)",
            "assert circle_area(0) == 0",
        ],
    },
    {
        "task_id": 777,
        "prompt": 'Write a function to count the vowels in a string; a "\\" or """ in it stays.',
        "code": (
            "def is_vowel(c):\n    return c in 'aeiou'\n\n"
            "def count_vowels(s):\n    return sum(1 for c in s if is_vowel(c))\n"
        ),
        "test_imports": [],
        "test_list": ["assert count_vowels('banana') == 3", "assert count_vowels('xyz') == 0"],
    },
]


@pytest.fixture
def jsonl_path(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    return path


@pytest.fixture
def json_path(tmp_path):
    path = tmp_path / "sanitized-mbpp.json"
    path.write_text(json.dumps(RECORDS, indent=2))
    return path


def _by_id(problems):
    return {p.task_id: p for p in problems}


def test_split_ranges():
    assert [split_of(i) for i in (1, 10, 11, 510, 511, 600, 601, 974)] == [
        "prompt", "prompt", "test", "test", "validation", "validation", "train", "train",
    ]


def test_splits_come_from_task_ids(jsonl_path):
    assert [p.task_id for p in load_mbpp("all", path=jsonl_path)] == ["MBPP/3", "MBPP/42", "MBPP/555", "MBPP/777"]
    assert [p.task_id for p in load_mbpp("prompt", path=jsonl_path)] == ["MBPP/3"]
    assert [p.task_id for p in load_mbpp("test", path=jsonl_path)] == ["MBPP/42"]
    assert [p.task_id for p in load_mbpp("validation", path=jsonl_path)] == ["MBPP/555"]
    assert [p.task_id for p in load_mbpp("train", path=jsonl_path)] == ["MBPP/777"]
    assert [p.task_id for p in load_problems("mbpp", "test", path=str(jsonl_path))] == ["MBPP/42"]
    with pytest.raises(ValueError, match="unknown MBPP split"):
        load_mbpp("dev", path=jsonl_path)


def test_json_list_and_jsonl_give_the_same_problems(jsonl_path, json_path):
    a = [p.to_json() for p in load_mbpp("all", path=jsonl_path)]
    b = [p.to_json() for p in load_mbpp("all", path=json_path)]
    assert a == b


def test_literal_conversion(jsonl_path):
    problems = _by_id(load_mbpp("all", path=jsonl_path))
    even = problems["MBPP/42"]
    assert even.suite == "mbpp" and even.split == "test" and even.entry_point == "is_even"
    assert even.literal_tests and even.check is None
    assert even.tests == [TestCase((4,), True), TestCase((7,), False), TestCase((0,), True)]
    assert all(type(case.expected) is bool for case in even.tests)
    assert even.meta["n_asserts"] == 3 and even.meta["literal"] is True

    doubled = problems["MBPP/3"]
    assert doubled.tests == [TestCase(([1, 2],), [2, 4]), TestCase(([],), [])]

    # the entry point is the function the tests call, not the one defined first
    vowels = problems["MBPP/777"]
    assert vowels.entry_point == "count_vowels" and vowels.literal_tests


def test_non_literal_problem_gets_a_check_function(jsonl_path):
    area = _by_id(load_mbpp("all", path=jsonl_path))["MBPP/555"]
    assert not area.literal_tests
    assert area.meta["reason_kind"] == "float tolerance"
    assert area.check.startswith("def check(candidate):\n    import math\n")
    assert "candidate(2)" in area.check and "circle_area" not in area.check
    namespace: dict = {}
    exec(area.reference + "\n" + area.check, namespace)
    namespace["check"](namespace["circle_area"])  # the reference passes its own check
    # the convertible subset, retyped to the reference's float (0 == 0.0)
    assert len(area.tests) == 1 and exact_equal(area.tests[0].expected, 0.0)
    assert area.meta["retyped"] == 1
    assert area.reference.startswith("import math\n")


def test_prompt_shape(jsonl_path):
    problems = _by_id(load_mbpp("all", path=jsonl_path))
    for problem in problems.values():
        module = ast.parse(problem.prompt + "    pass\n")
        function = next(n for n in module.body if isinstance(n, ast.FunctionDef))
        assert function.name == problem.entry_point
        docstring = ast.get_docstring(function)
        assert docstring.startswith(problem.statement)
        namespace: dict = {}
        exec(problem.reference, namespace)  # the reference runs and defines the entry point
        assert callable(namespace[problem.entry_point])

    even = problems["MBPP/42"]
    assert even.signature == "def is_even(n) :"
    assert even.prompt.startswith("def is_even(n) :\n    \"\"\"Write a python function")
    docstring = ast.get_docstring(ast.parse(even.prompt + "    pass\n").body[0])
    assert ">>> is_even(4)\nTrue" in docstring

    # a first test that is not a plain equality is shown as the assert itself
    area = problems["MBPP/555"]
    assert area.prompt.startswith("import math\n")
    assert "assert math.isclose(circle_area(2), 12.566, rel_tol=0.001)" in area.prompt

    # backslashes and triple quotes in the statement survive the docstring
    vowels = problems["MBPP/777"]
    assert ast.get_docstring(ast.parse(vowels.prompt + "    pass\n").body[0]).startswith(RECORDS[3]["prompt"])


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(RECORDS[0]), json.dumps(RECORDS[1]), "{not json"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MBPPFormatError) as error:
        load_mbpp("all", path=path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message and "line 3" in message

    missing = dict(RECORDS[1])
    del missing["code"]
    path.write_text(json.dumps(RECORDS[0]) + "\n" + json.dumps(missing) + "\n")
    with pytest.raises(MBPPFormatError, match=r"line 2: record lacks field\(s\) code"):
        load_mbpp("all", path=path)


def test_malformed_json_list_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    broken = [dict(RECORDS[0]), dict(RECORDS[1])]
    del broken[1]["test_list"]
    text = json.dumps(broken, indent=2)
    path.write_text(text)
    expected_line = text.splitlines().index("  {", 2) + 1  # where the second record starts
    with pytest.raises(MBPPFormatError) as error:
        load_mbpp("all", path=path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert f"line {expected_line}:" in message and "test_list" in message

    path.write_text("[\n  " + json.dumps(RECORDS[1]) + ",\n  oops\n]")
    with pytest.raises(MBPPFormatError, match="line 3: not valid JSON"):
        load_mbpp("all", path=path)

    path.write_text("[1, 2]")
    with pytest.raises(MBPPFormatError, match="line 1: expected a JSON object"):
        load_mbpp("all", path=path)


def test_offline_without_a_path_fails_quickly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # a name no cache can hold, so the answer does not depend on this machine's cache
    monkeypatch.setattr(mbpp, "HUB_DATASET", "o1lite-fixtures/no-such-dataset")
    start = time.perf_counter()
    with pytest.raises(MBPPUnavailable) as error:
        load_mbpp("test")
    assert time.perf_counter() - start < 8.0
    assert isinstance(error.value, RuntimeError)
    message = str(error.value)
    assert "\n" not in message and "sanitized-mbpp.json" in message and "--problem-file" in message


def test_unreachable_hub_fails_quickly_without_the_offline_variable(monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(mbpp, "hub_reachable", lambda seconds=mbpp.PROBE_SECONDS: False)
    monkeypatch.setattr(mbpp, "HUB_DATASET", "o1lite-fixtures/no-such-dataset")
    start = time.perf_counter()
    with pytest.raises(MBPPUnavailable):
        load_mbpp("test")
    assert time.perf_counter() - start < 8.0


def test_hub_probe_is_bounded(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    start = time.perf_counter()
    assert mbpp.hub_reachable(0.5) is False
    assert time.perf_counter() - start < 2.0


def test_hub_records_are_converted_with_the_hub_split_labels(monkeypatch):
    import datasets

    seen = []

    def fake_load_dataset(name, config, split):
        seen.append((name, config, split))
        return [dict(record, source_file="x.ipynb") for record in RECORDS if split_of(record["task_id"]) == split]

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(mbpp, "hub_reachable", lambda seconds=mbpp.PROBE_SECONDS: True)
    monkeypatch.setattr(mbpp, "HUB_DATASET", "o1lite-fixtures/fake-mbpp")
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    test = load_mbpp("test")
    assert [p.task_id for p in test] == ["MBPP/42"] and test[0].literal_tests
    assert seen == [("o1lite-fixtures/fake-mbpp", "sanitized", "test")]
    assert [p.split for p in load_mbpp("all")] == ["prompt", "test", "validation", "train"]
