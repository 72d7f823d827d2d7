from o1lite.generation import function_body, truncate_at


def test_function_body_stops_at_dedent_and_stop_strings():
    text = "    x = 1\n    return x\n\ndef other():\n    pass\n"
    assert function_body(text) == "    x = 1\n    return x\n"
    assert function_body("    return 2\nprint(f())") == "    return 2\n"
    assert function_body("    return 3\n# trailing comment") == "    return 3\n"


def test_truncate_at_earliest_stop():
    assert truncate_at("abc<s>def</s>", ["</s>", "<s>"]) == "abc"
    assert truncate_at("abc", ["zz"]) == "abc"
