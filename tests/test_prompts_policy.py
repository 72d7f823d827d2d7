"""The vanilla and pseudocode policy formats, and their parsers on good,
truncated and malformed generations."""

import pytest

from o1lite.stages import prompts
from o1lite.programs import solution_program
from o1lite.problems import load_problems
from o1lite.stages.prompts import (
    ACTION_CODE,
    ACTION_OUTLINE,
    ACTION_REFINE,
    STEP_DELIMITER,
    parse_solution,
    policy_completion,
    policy_steps,
)


@pytest.fixture(scope="module")
def problems():
    return load_problems("synthetic", "test", n=20, seed=0) + load_problems("synthetic", "hard", n=10, seed=0)


def test_pseudocode_steps_follow_the_three_actions(problems):
    for problem in problems:
        steps = policy_steps(problem, "pseudocode")
        assert len(steps) == len(problem.meta["ops"]) + 2  # outline, one refinement per op, code
        assert all(step.endswith(STEP_DELIMITER) for step in steps[:-1])
        assert STEP_DELIMITER not in steps[-1]
        # the delimiter never occurs inside a step
        assert all(step.count(STEP_DELIMITER.strip()) == 1 for step in steps[:-1])
        parsed = parse_solution(policy_completion(problem, "pseudocode"), "pseudocode")
        assert parsed.errors == []
        assert [s.action for s in parsed.steps] == [ACTION_OUTLINE] + [ACTION_REFINE] * len(problem.meta["ops"]) + [ACTION_CODE]
        assert prompts.outline_matches(parsed.outline, problem.pseudocode[0])
        assert solution_program(problem.prompt, problem.entry_point, parsed.code) == problem.reference


def test_vanilla_completion_is_the_reference_body(problems):
    problem = problems[0]
    completion = policy_completion(problem, "vanilla")
    assert problem.prompt + completion == problem.reference
    parsed = parse_solution(completion, "vanilla")
    assert parsed.complete and parsed.errors == []
    assert solution_program(problem.prompt, problem.entry_point, parsed.code) == problem.reference


def test_unknown_format_is_rejected_but_never_by_the_parser(problems):
    with pytest.raises(ValueError):
        policy_completion(problems[0], "haiku")
    assert parse_solution("    return 1\n", "haiku").errors == ["no_code"]
    assert parse_solution(None, "pseudocode").errors == ["no_code"]


def test_truncated_generations_parse_without_code(problems):
    full = policy_completion(problems[1], "pseudocode")
    cut_in_outline = parse_solution(full[:15], "pseudocode")
    assert not cut_in_outline.complete and "no_code" in cut_in_outline.errors
    assert cut_in_outline.steps[0].action == ACTION_OUTLINE
    # stopped inside a delimiter: "<st" is not a delimiter, it stays in the outline's text
    outline_end = full.index(STEP_DELIMITER)
    cut_in_delimiter = parse_solution(full[: outline_end + 3], "pseudocode")
    assert len(cut_in_delimiter.steps) == 1 and cut_in_delimiter.steps[0].text.endswith("<st")
    # cut after the last refinement: every thinking step, no code
    before_code = full[: full.rindex(STEP_DELIMITER) + len(STEP_DELIMITER)]
    parsed = parse_solution(before_code, "pseudocode")
    assert parsed.code is None and parsed.errors == ["no_code"]
    assert len(parsed.steps) == len(problems[1].meta["ops"]) + 1
    assert parse_solution("", "vanilla").errors == ["no_code"]


@pytest.mark.parametrize(
    "text, error",
    [
        ("Refine step 1: keep x.\n<step>\n1. Keep.\n<step>\n    return 1\n", "out_of_order"),
        ("1. Keep.\n<step>\nwhatever this is\n<step>\n    return 1\n", "unknown_action"),
        ("1. Keep.\n<step>\n<step>\n    return 1\n", "empty_step"),
        ("1. Keep.\n<step>\n    return 1\n<step>\nRefine step 1: more.\n", "after_code"),
        ("<step>\n<step>\n", "no_code"),
    ],
)
def test_malformed_generations_are_flagged(text, error):
    parsed = parse_solution(text, "pseudocode")
    assert error in parsed.errors


def test_code_step_ends_the_solution():
    parsed = parse_solution("1. Keep.\n<step>\n    return 1\n<step>\n    return 2\n", "pseudocode")
    assert parsed.code == "    return 1\n"
    assert parsed.errors == ["after_code"]


def test_explicit_action_headers_and_fenced_code_are_read():
    text = prompts.CHAT_EXAMPLE["pseudocode"]
    parsed = parse_solution(text, "pseudocode")
    assert parsed.errors == []
    assert [s.action for s in parsed.steps] == [1, 2, 2, 3]
    assert parsed.code.startswith("def sum_odd_squares(")
    assert not parsed.steps[0].text.startswith("Action")
    # a fence the generation never closed still yields its code
    cut = parse_solution(text[:-4], "pseudocode")
    assert cut.code.rstrip().endswith("return sum(x * x for x in odd)")


def test_chat_messages_carry_the_three_actions_and_one_worked_example(problems):
    messages = prompts.policy_messages(problems[0], "pseudocode")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert all(f"Action {i}" in messages[0]["content"] for i in (1, 2, 3))
    assert problems[0].prompt.rstrip() in messages[-1]["content"]
    completion = prompts.chat_completion(problems[0], "pseudocode")
    parsed = parse_solution(completion, "pseudocode")
    assert parsed.errors == [] and parsed.code.rstrip() == problems[0].reference.rstrip()
    with pytest.raises(ValueError):
        prompts.policy_prompt(problems[0], "pseudocode", chat=True)  # needs a tokenizer


def test_outline_comparison_normalises_but_keeps_constants(problems):
    problem = problems[0]
    reference = problem.pseudocode[0]
    sloppy = "\n".join(f"{i})   {line.split('. ', 1)[1].upper()}" for i, line in enumerate(reference.split("\n"), 1))
    assert prompts.outline_matches(sloppy, reference)
    assert not prompts.outline_matches(reference.split("\n")[0], reference)  # a step missing
    assert not prompts.outline_matches(None, reference) and not prompts.outline_matches("", reference)
    swapped = "\n".join(["1. Write the string backwards."] + reference.split("\n")[1:])
    assert not prompts.outline_matches(swapped, reference)
    assert prompts.normalize_outline("1. Keep values above 3.", ignore_constants=True) == ["keep values above n"]
