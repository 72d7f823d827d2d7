from o1lite.programs import function_body, solution_program, truncate_at


def test_function_body_stops_at_dedent_and_stop_strings():
    text = "    x = 1\n    return x\n\ndef other():\n    pass\n"
    assert function_body(text) == "    x = 1\n    return x\n"
    assert function_body("    return 2\nprint(f())") == "    return 2\n"
    assert function_body("    return 3\n# trailing comment") == "    return 3\n"


def test_truncate_at_earliest_stop():
    assert truncate_at("abc<s>def</s>", ["</s>", "<s>"]) == "abc"
    assert truncate_at("abc", ["zz"]) == "abc"


def test_solution_program_takes_a_whole_function_or_a_body():
    prompt = "def f(x):\n"
    assert solution_program(prompt, "f", "def f(x):\n    return 1\n") == "def f(x):\n    return 1\n"
    assert solution_program(prompt, "f", "    return 2\nprint(1)") == "def f(x):\n    return 2\n"
    assert solution_program(prompt, "f", None) is None
