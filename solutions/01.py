"""Chapter 01's exercises, answered from the notebook's variables (`ns`: its globals).

1. The naive harness compares with `==`, and `5.0 == 5` is True; o1lite decodes
   the returned value in the parent and compares it exactly, type included,
   because a reward that accepts 5.0 for 5 also accepts True for 1. The
   problem loaders keep the canonical solution's types in literal cases so
   that this strictness never fails a correct program.
2. The tests of one program run in order inside one time limit: the second
   test loops, the limit stops the program, and the third test never runs, so
   it counts as not passed. A reward that gave partial credit per test would
   need one time limit per test (and one process start per test: slower).
3. `raise SystemExit(0)` at import: the naive harness's `exec` raises it
   before any test, and it reads a clean exit as success. In o1lite the child
   reports the exit as the program's error, and the verdicts are decided in
   the parent from values that never arrived.
"""


def exercise_1(ns):
    return ("pass", "fail")  # (naive harness, o1lite)


def exercise_2(ns):
    return (0.0, 1 / 3)  # (all pass, fraction passed)


def exercise_3(ns):
    return "raise SystemExit(0)\n\ndef add(a, b):\n    return 0\n"
