from o1lite.evaluate import run_programs
from o1lite.programs import body_program
from o1lite.problems import Problem, TestCase
from o1lite.sandbox import Sandbox


def make(task_id, tests, check=None):
    prompt = "def f(x):\n"
    return Problem(task_id, prompt, "f", prompt + "    return x + 1\n", tests, "synthetic", check=check)


def test_run_programs_keeps_order_and_uses_check_mode_without_literals():
    literal = make("a", [TestCase((1,), 2), TestCase((5,), 6)])
    checked = make("b", [], check="def check(candidate):\n    assert candidate(1) == 2\n")
    right, wrong = "def f(x):\n    return x + 1\n", "def f(x):\n    return x\n"
    with Sandbox(workers=2) as sandbox:
        verdicts = run_programs(sandbox, [literal, checked], [[wrong, right, wrong], [right, wrong]])
    assert verdicts == [[False, True, False], [True, False]]


def test_program_for_keeps_only_the_body():
    problem = make("a", [TestCase((1,), 2)])
    assert body_program(problem.prompt, "    return x + 1\ndef other():\n    pass") == "def f(x):\n    return x + 1\n"
