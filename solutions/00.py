"""Chapter 00's exercises, answered from the notebook's variables (`ns`: its globals).

Run by the chapter itself when `SOLUTIONS = True` (the test suite's smoke run does).

3. What the answer shows (tiny, recorded run): within each number of operations,
   held-out *train* problems pass more often than *test* ones, so the gap is
   about unseen combinations, not only about length; and both fall with the
   number of operations, so length matters too. Read your own dict: the
   comparison is per row, not across rows.
"""

from math import comb


def _operations(problem) -> int:
    return len(problem.meta["combination"].split(">"))


def _by_operations(evaluation) -> dict[int, tuple[int, int]]:
    groups: dict[int, list[int]] = {}
    for problem, flags in zip(evaluation.problems, evaluation.passed):
        groups.setdefault(_operations(problem), []).append(int(flags[0]))
    return {ops: (sum(v), len(v)) for ops, v in sorted(groups.items())}


def exercise_1(ns):
    # one minus the chance that 3 of the 8 samples, drawn without replacement, all come from the 6 wrong ones
    return 1 - comb(8 - 2, 3) / comb(8, 3)  # 1 - 20/56 = 0.6429


def exercise_2(ns):
    if ns["profile"].suite != "synthetic":
        return None  # only synthetic problems record their operations
    return _by_operations(ns["evals"]["test"])


def exercise_3(ns):
    if ns["profile"].suite != "synthetic":
        return None
    seen = ns["profile"].tiny.n_train_problems if ns["profile"].is_tiny else 4000
    unseen = ns["load_problems"]("synthetic", "train", n=seen + ns["N_EVAL"], seed=ns["SEED"])[seen:]
    with ns["Sandbox"](workers=ns["WORKERS"]) as sandbox:
        train = ns["evaluate_model"](ns["model"], ns["tokenizer"], unseen, sandbox, max_new_tokens=ns["MAX_NEW_TOKENS"], seed=ns["SEED"])
    rate = lambda groups: {ops: passed / total for ops, (passed, total) in groups.items()}
    return {"train": rate(_by_operations(train)), "test": rate(_by_operations(ns["evals"]["test"]))}
