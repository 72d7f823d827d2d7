"""The test case generator: template and parser, SFT data, DPO pairs, mutants, API."""

import ast

import pytest

from o1lite.stages import tcg
from o1lite.mutation import KINDS, distinguishable, mutants, mutants_caught
from o1lite.problems import Problem, TestCase, load_problems
from o1lite.stages.prompts import (
    TCG_MAX_CASE_CHARS,
    case_chars,
    format_cases,
    parse_args,
    parse_tests,
    tcg_prompt,
    without_docstrings,
)
from o1lite.profiles import get_profile


@pytest.fixture(scope="module")
def problems():
    return load_problems("synthetic", "train", n=30, seed=3)


def two_arg_problem() -> Problem:
    reference = 'def pad(words: list[str], k: int) -> list[str]:\n    """Keep the words longer than k."""\n    return [w for w in words if len(w) > k]\n'
    return Problem("toy/pad", reference.split("    return")[0], "pad", reference,
                   [TestCase((["ab", "abc"], 2), ["abc"]), TestCase(([], 0), []), TestCase((["a"], 0), ["a"])],
                   suite="toy", statement="Keep the words longer than k.")


# ---------------------------------------------------------------- template and parser
def test_prompt_has_the_papers_sections_and_no_docstring(problems):
    problem = problems[0]
    prompt = tcg_prompt(problem.statement, problem.reference, 3)
    positions = [prompt.index(header) for header in ("### Instruction", "### Problem", "### Code", "### Tests")]
    assert positions == sorted(positions)
    assert prompt.endswith("### Tests\n") and "Write 3 test cases" in prompt
    assert '"""' not in prompt and problem.signature in prompt
    assert problem.reference.rstrip().split("\n")[-1] in prompt
    assert without_docstrings("def f(:\n") == "def f(:\n"  # unparsable code is kept as is


def test_format_then_parse_round_trips_every_literal_kind():
    cases = [TestCase(([1, -2], "a b"), (1, {"k": None})), TestCase(((1, 2),), {3, 4}), TestCase((), 2.5)]
    parsed = parse_tests(format_cases(cases), arity=(0, 2))
    assert parsed.cases == cases and parsed.errors == [] and parsed.blocks == 3
    assert parse_tests(format_cases(cases[1:2]), arity=1).cases[0].args == ((1, 2),)  # a tuple stays one argument


def test_parse_args_accepts_only_plain_literal_arguments():
    assert parse_args("[1, 2], 'x'") == ([1, 2], "x")
    assert parse_args("(1, 2)") == ((1, 2),)
    assert parse_args("") == ()
    for bad in ("__import__('os').system('ls')", "x", "k=1", "*[1, 2]", "1)(2", "[1, 2", "lambda: 0"):
        assert parse_args(bad) is None, bad


@pytest.mark.parametrize(
    "text, error",
    [
        ("# input:\n[1]\n# output:\nfoo(3)\n", "not_literal"),
        ("# input:\nopen('x')\n# output:\n1\n", "not_literal"),
        ("# input:\n[1], 2\n# output:\n1\n", "wrong_arity"),
        ("# input:\n[1]\n# output:\n[1, 2", "truncated"),
        ("# input:\n[1]\n", "truncated"),
        ("# input:\n[1]\n# input:\n[2]\n# output:\n2\n", "malformed"),
        ("# output:\n3\n", "malformed"),
        ("hello world", "no_cases"),
        ("", "no_cases"),
    ],
)
def test_malformed_generations_are_counted_not_raised(text, error):
    parsed = parse_tests(text, arity=1)
    assert error in parsed.errors


def test_parser_keeps_good_cases_beside_bad_ones_and_stops_where_it_should():
    text = "# input:\n[1]\n# output:\n1\n# input:\n[2]\n# output:\nnope\n# input:\n[3]\n# output:\n3\n### Code\n# input:\n[4]\n# output:\n4\n"
    parsed = parse_tests(text, arity=1)
    assert [c.args for c in parsed.cases] == [([1],), ([3],)] and parsed.errors == ["not_literal"]
    assert len(parse_tests(text, arity=1, max_cases=1).cases) == 1
    for junk in (None, "\x00" * 50, "# input:\n" * 200, "# output:\n# output:\n", "[" * 500):
        parse_tests(junk, arity=1)  # never raises


def test_arity_reads_the_entry_points_signature():
    assert tcg.arity("def f(a, b=1, *, c=2):\n    pass\n", "f") == (1, 2)
    assert tcg.arity("def f(*xs):\n    pass\n", "f")[1] > 100
    assert tcg.arity("def g():\n    pass\n", "f") is None
    assert tcg.arity("def f(:", "f") is None


# ---------------------------------------------------------------- SFT data
def test_sft_examples_hold_reference_checked_short_cases(problems, sandbox):
    examples = tcg.sft_examples(problems, sandbox, n_cases=3, seed=0)
    assert len(examples) >= 25
    by_id = {p.task_id: p for p in problems}
    for example in examples:
        problem = by_id[example["task_id"]]
        assert example["prompt"] == tcg_prompt(problem.statement, problem.reference, 3)
        cases = parse_tests(example["completion"], arity=1).cases
        assert len(cases) == 3 and len({repr(c.args) for c in cases}) == 3
        assert all(case_chars(c) < TCG_MAX_CASE_CHARS for c in cases)
        assert sandbox.run_tests(problem.reference, problem.entry_point, cases).passed
    assert tcg.sft_examples(problems, sandbox, seed=0) == examples  # deterministic


def test_sft_examples_work_for_any_suite_and_arity(sandbox):
    problem = two_arg_problem()
    [example] = tcg.sft_examples([problem], sandbox, n_cases=3)
    cases = parse_tests(example["completion"], arity=2).cases
    assert {repr(c.args) for c in cases} == {repr(c.args) for c in problem.tests}  # inputs from its own tests
    assert sandbox.run_tests(problem.reference, "pad", cases).passed
    assert tcg.sft_examples([problem], sandbox, n_cases=4) == []  # not enough distinct inputs


# ---------------------------------------------------------------- DPO pairs
def correct_text(problem: Problem) -> str:
    return format_cases(problem.tests[:3])


def wrong_text(problem: Problem) -> str:
    cases = problem.tests[:3]
    return format_cases([cases[0], cases[1], TestCase(cases[2].args, "surely wrong")])


def test_pairs_from_sampled_successes_and_failures(problems, sandbox):
    a, b = problems[:2]
    completions = [[correct_text(a), wrong_text(a), "garbage"], [wrong_text(b), wrong_text(b)]]
    pairs, counts = tcg.dpo_pairs([a, b], completions, sandbox, n_cases=3)
    assert counts["sampled"] == 1 and counts["corrected"] == 1 and counts["shuffled"] == 0
    assert counts["correct_samples"] == 1 and counts["wrong_samples"] == 3 and counts["unparsed_samples"] == 1
    sampled = next(p for p in pairs if p["source"] == "sampled")
    assert sampled["chosen"] == correct_text(a) and sampled["rejected"] == wrong_text(a)
    assert sampled["prompt"] == tcg_prompt(a.statement, a.reference, 3)
    corrected = next(p for p in pairs if p["source"] == "corrected")
    assert corrected["chosen"] == correct_text(b) and corrected["rejected"] == wrong_text(b)
    for pair in pairs:  # chosen passes against the reference, rejected does not
        problem = a if pair["task_id"] == a.task_id else b
        assert sandbox.run_tests(problem.reference, problem.entry_point, parse_tests(pair["chosen"]).cases).passed
        assert not sandbox.run_tests(problem.reference, problem.entry_point, parse_tests(pair["rejected"]).cases).passed


def test_shuffled_pairs_top_up_when_samples_are_all_correct(problems, sandbox):
    chosen = problems[2:8]
    completions = [[correct_text(p)] * 2 for p in chosen]
    pairs, counts = tcg.dpo_pairs(chosen, completions, sandbox, n_cases=3, min_pairs=4)
    assert len(pairs) == 4 and counts["shuffled"] == 4 and counts["sampled"] == 0
    for pair in pairs:
        problem = next(p for p in chosen if p.task_id == pair["task_id"])
        rejected = parse_tests(pair["rejected"]).cases
        assert [c.args for c in rejected] == [c.args for c in problem.tests[:3]]  # same inputs
        assert not sandbox.run_tests(problem.reference, problem.entry_point, rejected).passed
    assert tcg.dpo_pairs(chosen, completions, sandbox, n_cases=3)[0] == []  # no failures, no top-up
    unparsable = [["no tests here"] for _ in chosen]  # nothing usable sampled: the problems' own tests are shuffled
    pairs, counts = tcg.dpo_pairs(chosen, unparsable, sandbox, n_cases=3, min_pairs=3)
    assert counts["shuffled"] == 3 and counts["unparsed_samples"] == len(chosen)
    assert pairs[0]["chosen"] == format_cases(chosen[0].tests[:3])


def test_shuffling_needs_outputs_that_differ():
    assert tcg.shuffled_outputs([TestCase((1,), 0), TestCase((2,), 0)]) is None
    assert tcg.shuffled_outputs([TestCase((1,), 0)]) is None
    rotated = tcg.shuffled_outputs([TestCase((1,), 1), TestCase((2,), 2), TestCase((3,), 3)])
    assert [c.expected for c in rotated] == [2, 3, 1]


# ---------------------------------------------------------------- mutants
def test_mutants_are_valid_different_and_deterministic(problems):
    for problem in problems[:10]:
        found = mutants(problem.reference)
        assert found and found == mutants(problem.reference)
        canonical = ast.unparse(ast.parse(problem.reference))
        assert len({m.program for m in found}) == len(found)
        for mutant in found:
            compile(mutant.program, "<mutant>", "exec")
            assert ast.unparse(ast.parse(mutant.program)) != canonical and mutant.kind in KINDS
    assert mutants("def f(:") == []


def test_mutant_kinds_cover_the_classic_bugs():
    program = "def f(nums, k):\n    nums = [x + 1 for x in nums if x > k and x != 3]\n    total = sum(nums)\n    return total\n"
    found = mutants(program)
    descriptions = {m.description for m in found}
    assert {"+ -> -", "> -> >=", "!= -> ==", "and -> or", "1 -> 2", "3 -> 0", "sum() -> len()"} <= descriptions
    assert {m.kind for m in found} == set(KINDS)
    limited = mutants(program, limit=6)
    assert len(limited) == 6 and len({m.kind for m in limited}) == 6


def test_equivalent_mutants_are_filtered_and_catching_is_counted(sandbox):
    program = "def f(nums):\n    nums = sorted(nums)\n    return sorted(nums)[:2]\n"
    found = mutants(program)
    kept = distinguishable(sandbox, program, "f", found, [([3, 1, 2],), ([],)])
    equivalent = {"drop line 2", "sorted() -> list()"}  # the other sorted() still sorts
    assert equivalent <= {m.description for m in found}
    assert not equivalent & {m.description for m in kept}
    assert {"2 -> 3", "2 -> 1", "drop line 3"} <= {m.description for m in kept}
    caught = mutants_caught(sandbox, "f", kept, [TestCase(([3, 1, 2],), [1, 2])])
    assert all(caught)
    assert mutants_caught(sandbox, "f", kept, []) == [False] * len(kept)
    weak = mutants_caught(sandbox, "f", kept, [TestCase(([],), [])])
    assert 0 < sum(weak) < len(kept)  # an empty list tells few bugs apart


def test_problem_mutants_differ_from_the_reference_on_its_tests(problems, sandbox):
    per_problem = tcg.problem_mutants(sandbox, problems[:6], per_problem=5)
    assert all(1 <= len(row) <= 5 for row in per_problem)
    for problem, row in zip(problems, per_problem):
        results = sandbox.run_many([(m.program, problem.entry_point, problem.tests) for m in row])
        assert not any(result.passed for result in results)


# ---------------------------------------------------------------- API with a micro model
def test_generate_tests_and_cached_tcg(micro_base, problems, sandbox):
    model, tokenizer = tcg.load_tcg(get_profile("tiny", smoke=True), sandbox=sandbox)
    folder = tcg.tcg_dir(get_profile("tiny", smoke=True), tcg.MICRO_TCG)
    stamp = (folder / "tcg.json").stat().st_mtime
    tcg.load_tcg(get_profile("tiny", smoke=True), sandbox=sandbox, stage="sft")
    assert (folder / "tcg.json").stat().st_mtime == stamp  # cached, not retrained
    # the matched-compute controls are trained beside DPO, from the same SFT model and pairs
    build, pairs = tcg.read_build(folder)
    assert set(build["control_logs"]) == {"dpo_plain", "sft_more"}
    assert build["control_logs"]["sft_more"]["steps"] == tcg.MICRO_TCG.dpo_steps == build["dpo_log"]["steps"]
    assert build["control_logs"]["sft_more"]["examples"] == len(pairs)
    for stage in tcg.STAGES:
        assert tcg.load_stage(get_profile("tiny", smoke=True), folder, stage)[0] is not None
    with pytest.raises(ValueError, match="unknown TCG stage"):
        tcg.load_stage(get_profile("tiny", smoke=True), folder, "ppo")
    generated = tcg.generate_tests(model, tokenizer, problems[:4], n_cases=3, max_new_tokens=32)
    assert len(generated) == 4 and all(isinstance(c, TestCase) for row in generated for c in row)
    checked = tcg.generate_tests(model, tokenizer, problems[:4], sandbox=sandbox, temperature=1.0, n_samples=2,
                                 max_new_tokens=32)
    for problem, cases in zip(problems, checked):
        assert not cases or sandbox.run_tests(problem.reference, problem.entry_point, cases).passed


def test_later_chapters_read_the_tcgs_cases_back_from_its_cache(micro_base, problems, sandbox, monkeypatch):
    """`upstream.generated_tests` writes each problem set's cases once; a second call returns the
    same cases without loading the TCG, and another problem set is generated, not read."""
    from o1lite.stages import upstream

    profile = get_profile("tiny", smoke=True)
    tcg.load_tcg(profile, sandbox=sandbox)  # built by the test above when run with it, else here
    first = upstream.generated_tests(profile, 0, (problems[:3], problems[3:5]))
    model, tokenizer = tcg.load_tcg(profile)
    direct = tcg.generate_tests(model, tokenizer, problems[:3], n_cases=tcg.MICRO_TCG.n_cases,
                                max_new_tokens=tcg.MICRO_TCG.max_new_tokens, seed=0)
    assert [first[p.task_id + p.split] for p in problems[:3]] == [list(c) for c in direct]  # what computing gives
    loads = []
    monkeypatch.setattr(tcg, "load_tcg", lambda *a, **k: loads.append(1) or (model, tokenizer))
    again = upstream.generated_tests(profile, 0, (problems[:3], problems[3:5]))
    assert again == first and not loads  # read back, the TCG never loaded
    upstream.generated_tests(profile, 0, (problems[5:7],))
    assert loads == [1]  # a set never generated is generated


def test_cached_cases_read_back_exactly_or_not_at_all(tmp_path):
    """What `upstream.generated_tests` writes reads back as the same cases; a case whose repr is not a
    literal (`...`, `inf`) is not read back wrong or raised on: the set is generated again."""
    import json

    from o1lite.stages.upstream import _read_cases

    cases = [[TestCase((1, "a'b", [2.5, -3]), (True, None)), TestCase(({"k": (1, 2)},), -0.1)], []]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": [[c.to_json() for c in row] for row in cases]}))
    assert _read_cases(path) == cases
    for bad in (Ellipsis, float("inf")):
        path.write_text(json.dumps({"cases": [[TestCase((1,), bad).to_json()]]}))
        assert _read_cases(path) is None
    assert _read_cases(tmp_path / "missing.json") is None
