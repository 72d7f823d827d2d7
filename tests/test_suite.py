"""`SUITE` and `MBPP_PATH`: the problems every chapter reads, from any suite, and the one-line failures."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from o1lite import suite
from o1lite.problems import load_problems
from o1lite.profiles import UnknownProfile, get_profile, run_dir

from test_mbpp import RECORDS


@pytest.fixture
def mbpp_file(tmp_path):
    path = tmp_path / "sanitized-mbpp.jsonl"
    # the fixture's four records, renumbered into MBPP's train ids (601+) and test ids (11-510)
    records = [dict(r, task_id=601 + i) for i, r in enumerate(RECORDS)] + [dict(r, task_id=11 + i) for i, r in enumerate(RECORDS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_synthetic_is_exactly_the_generator_for_every_profile(tmp_path):
    folder = tmp_path / "some-instruct-model"
    folder.mkdir()
    for profile in (get_profile("tiny"), get_profile(str(folder), suite="synthetic")):
        assert [p.task_id for p in suite.problems(profile, "test", n=7, seed=3)] == \
               [p.task_id for p in load_problems("synthetic", "test", n=7, seed=3)]
        assert suite.has_split(profile.suite, "test") and suite.has_split(profile.suite, "hard")


def test_a_suite_override_is_its_own_profile_with_its_own_runs(tmp_path):
    folder = tmp_path / "qwen-instruct"
    folder.mkdir()
    own, synthetic = get_profile(str(folder)), get_profile(str(folder), suite="synthetic")
    assert own.suite == "mbpp" and synthetic.suite == "synthetic"
    assert synthetic.name == "qwen-instruct-synthetic" and synthetic.model_id == own.model_id and synthetic.chat
    assert run_dir(synthetic, "02") != run_dir(own, "02")
    assert get_profile("tiny", suite="synthetic") == get_profile("tiny") == get_profile("tiny", suite=None)
    with pytest.raises(UnknownProfile, match="pass SUITE as one of"):
        get_profile("tiny", suite="apps")


def test_mbpp_from_a_parameter_or_the_environment(mbpp_file, monkeypatch, tmp_path):
    folder = tmp_path / "qwen-instruct"
    folder.mkdir()
    profile = get_profile(str(folder))
    from_parameter = suite.problems(profile, "train", mbpp_path=mbpp_file)
    assert [p.task_id for p in from_parameter] == [f"MBPP/{601 + i}" for i in range(4)]
    monkeypatch.setenv(suite.MBPP_ENV, str(mbpp_file))
    assert [p.task_id for p in suite.problems(profile, "test")] == [p.task_id for p in suite.problems(profile, "test", mbpp_path=mbpp_file)]
    # n of a fixed set: a seeded sample, the same for the same seed, in the file's order
    two = suite.problems(profile, "test", n=2, seed=1)
    assert len(two) == 2 and [p.task_id for p in two] == [p.task_id for p in suite.problems(profile, "test", n=2, seed=1)]
    everything = [p.task_id for p in suite.problems(profile, "test")]
    assert [everything.index(p.task_id) for p in two] == sorted(everything.index(p.task_id) for p in two)


@pytest.mark.parametrize("case", ["missing file", "no hard split", "humaneval has no train", "empty split"])
def test_what_a_suite_cannot_give_is_one_line_saying_what_to_pass(case, mbpp_file, tmp_path, monkeypatch):
    folder = tmp_path / "qwen-instruct"
    folder.mkdir()
    profile = get_profile(str(folder))
    if case == "missing file":
        call, hint = lambda: suite.problems(profile, "test", mbpp_path=tmp_path / "nope.jsonl"), "MBPP_PATH"
    elif case == "no hard split":
        call, hint = lambda: suite.problems(profile, "hard", mbpp_path=mbpp_file), 'SUITE="synthetic"'
    elif case == "humaneval has no train":
        call, hint = lambda: suite.problems(get_profile(str(folder), suite="humaneval"), "train"), 'SUITE="synthetic"'
    else:
        call, hint = lambda: suite.problems(profile, "validation", mbpp_path=mbpp_file), "MBPP_PATH"
    with pytest.raises(suite.SuiteUnavailable) as error:
        call()
    assert "\n" not in str(error.value) and hint in str(error.value)


def test_mbpp_offline_without_a_file_names_the_parameter(monkeypatch, tmp_path):
    from o1lite.problems import mbpp

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(suite.MBPP_ENV, raising=False)
    monkeypatch.setattr(mbpp, "HUB_DATASET", "o1lite-fixtures/no-such-dataset")
    folder = tmp_path / "qwen-instruct"
    folder.mkdir()
    with pytest.raises(suite.SuiteUnavailable) as error:
        suite.problems(get_profile(str(folder)), "test")
    message = str(error.value)
    assert "\n" not in message and "MBPP_PATH" in message and suite.MBPP_ENV in message and 'SUITE="synthetic"' in message


def test_every_chapter_that_reads_problems_takes_suite_and_mbpp_path():
    from o1lite.reproduce import chapters, declared_parameters

    for number, path in chapters().items():
        declared = declared_parameters(path)
        if number in ("01", "08"):  # 01 runs HumanEval's own canonical solutions; 08 reads metrics files only
            continue
        assert {"SUITE", "MBPP_PATH"} <= declared, number
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        # only a one-problem illustration of the synthetic format may name the suite
        assert not re.search(r'load_problems\("synthetic", "\w+", n=(?!1,)', code), f"{number} hard-codes the synthetic suite"
