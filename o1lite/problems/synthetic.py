"""Synthetic function-writing problems, generated offline from a seed.

Each problem chains 1 to 4 *primitive operations* over ints, lists and strings,
for example "keep the even numbers, square them, return the sum". Everything a
tiny model has to learn is kept small and regular:

- inputs are short lists (length 0-6) of small ints (-5..9) or short strings
  over a small alphabet (a few letters, digits and spaces);
- the reference solution has one line per operation, in one uniform style, so
  that each phrase of the English statement maps to one line of code;
- the pseudocode follows the o1-Coder paper's reasoning actions: an outline
  with one numbered step per operation (Action 1), then one refinement per
  step (Action 2); the code itself is Action 3.

The *combination* of a problem is its sequence of operation names, ignoring
constants ("keep_even>square>sum"). Splits are built on combinations:

- ``train``: combinations of 1-3 operations;
- ``test``: combinations of 2-3 operations held out from train (a fixed,
  seed-independent hash of the combination puts about 18% of them here);
- ``hard``: combinations of exactly 4 operations, one more than any training
  problem has, built from the same primitives.

Everything is drawn from ``random.Random`` seeded through ``hashlib``, so the
same ``(split, n, seed)`` gives the same problems on any machine. Expected
outputs come from evaluating the reference's own lines (our trusted code).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Sequence

from .base import Problem, TestCase

TYPE_HINTS = {"ints": "list[int]", "int": "int", "str": "str", "words": "list[str]"}
VARIABLES = {"ints": "nums", "str": "s", "words": "words"}
FUNCTION_NAMES = ("solve", "compute", "process", "answer")

DEFAULT_SIZES = {"train": 4000, "test": 300, "hard": 300}
LENGTH_WEIGHTS = {"train": {1: 1, 2: 4, 3: 5}, "test": {2: 1, 3: 1}, "hard": {4: 1}}
HELD_OUT_PERCENT = 18  # share of 2-3 operation combinations kept out of train
REDUCE_SHARE = 0.6  # chance that a chain ends in a reduction to an int
INT_SHARE = 0.6  # chance that a chain starts from a list of ints (else from a string)
N_TESTS = 8
MIN_DISTINCT_OUTPUTS = 3

INT_VALUES = range(-5, 10)
MAX_LIST_LEN = 6
LETTERS = "abcdeiost"
DIGITS = "123"
MAX_STR_LEN = 9


@dataclass(frozen=True)
class Op:
    """One primitive: `expr` maps the variable of `source` to a `target` value.

    `expr`, `detail` and `phrases` are format strings over the constants, whose
    allowed values are listed in `consts`.
    """

    name: str
    source: str
    target: str
    expr: str
    detail: str
    phrases: tuple[str, ...]
    consts: tuple[tuple[str, tuple], ...] = ()

    @property
    def reduces(self) -> bool:
        """True for the operations that end a chain by returning an int."""
        return self.target == "int"

    def draw(self, rng: random.Random) -> dict:
        """Draw the constants; distinct names get distinct values."""
        while True:
            values = {name: rng.choice(choices) for name, choices in self.consts}
            if len(set(values.values())) == len(values):
                return values

    def line(self, values: dict) -> str:
        expr = self.expr.format(**values)
        return f"return {expr}" if self.reduces else f"{VARIABLES[self.target]} = {expr}"


def _op(name, source, target, expr, detail, *phrases, **consts) -> Op:
    return Op(name, source, target, expr, detail, phrases,
              tuple((key, tuple(choices)) for key, choices in consts.items()))


OPS: tuple[Op, ...] = (
    # list[int] -> list[int]
    _op("keep_even", "ints", "ints", "[x for x in nums if x % 2 == 0]",
        "for each x in nums, keep x only if x mod 2 = 0",
        "keep only the even numbers", "remove the odd numbers", "keep the even values"),
    _op("keep_odd", "ints", "ints", "[x for x in nums if x % 2 == 1]",
        "for each x in nums, keep x only if x mod 2 = 1",
        "keep only the odd numbers", "remove the even numbers", "keep the odd values"),
    _op("keep_greater", "ints", "ints", "[x for x in nums if x > {k}]",
        "for each x in nums, keep x only if x > {k}",
        "keep only the numbers greater than {k}", "remove every number that is at most {k}",
        "keep the values above {k}", k=range(0, 6)),
    _op("keep_less", "ints", "ints", "[x for x in nums if x < {k}]",
        "for each x in nums, keep x only if x < {k}",
        "keep only the numbers less than {k}", "remove every number that is at least {k}",
        "keep the values below {k}", k=range(0, 6)),
    _op("add", "ints", "ints", "[x + {k} for x in nums]",
        "for each x in nums, replace x with x + {k}",
        "add {k} to each number", "increase every number by {k}", "add {k} to every value",
        k=range(1, 6)),
    _op("multiply", "ints", "ints", "[x * {k} for x in nums]",
        "for each x in nums, replace x with x * {k}",
        "multiply each number by {k}", "multiply every value by {k}", "scale every number by {k}",
        k=range(2, 5)),
    _op("square", "ints", "ints", "[x * x for x in nums]",
        "for each x in nums, replace x with x * x",
        "square each number", "replace every number with its square", "square every value"),
    _op("sort", "ints", "ints", "sorted(nums)",
        "reorder nums so that each number is at most the next one",
        "sort the numbers in ascending order", "sort the list from smallest to largest",
        "sort the numbers"),
    _op("reverse", "ints", "ints", "nums[::-1]",
        "read nums from the last number to the first",
        "reverse the list", "reverse the order of the numbers", "put the numbers in reverse order"),
    _op("take_first", "ints", "ints", "nums[:{k}]",
        "keep the first {k} numbers of nums (all of them if there are fewer)",
        "keep only the first {k} numbers", "take the first {k} numbers",
        "cut the list down to its first {k} numbers", k=range(2, 5)),
    _op("unique", "ints", "ints", "list(dict.fromkeys(nums))",
        "for each x in nums, keep x only if x was not seen before",
        "remove duplicate numbers, keeping first occurrences",
        "keep only the first occurrence of each number", "drop repeated numbers, keeping the first one"),
    # list[int] -> int
    _op("sum", "ints", "int", "sum(nums)",
        "set total = 0, add each x in nums to total, return total",
        "return the sum", "return the sum of the numbers", "return their total"),
    _op("max", "ints", "int", "max(nums, default=0)",
        "if nums is empty return 0, else return the largest x in nums",
        "return the largest number, or 0 if the list is empty",
        "return the maximum, or 0 for an empty list", "return the biggest value, or 0 if there is none"),
    _op("min", "ints", "int", "min(nums, default=0)",
        "if nums is empty return 0, else return the smallest x in nums",
        "return the smallest number, or 0 if the list is empty",
        "return the minimum, or 0 for an empty list", "return the lowest value, or 0 if there is none"),
    _op("length", "ints", "int", "len(nums)",
        "count the numbers in nums and return the count",
        "return how many numbers there are", "return the length of the list",
        "return the number of elements"),
    _op("count_greater", "ints", "int", "len([x for x in nums if x > {k}])",
        "count each x in nums with x > {k} and return the count",
        "return how many numbers are greater than {k}", "return the count of values above {k}",
        "return the number of elements bigger than {k}", k=range(0, 6)),
    # str -> str
    _op("remove_vowels", "str", "str", '"".join(c for c in s if c not in "aeiou")',
        "for each character c in s, keep c only if c is not a vowel (a, e, i, o, u)",
        "remove the vowels", "delete every vowel", "drop all vowels from the string"),
    _op("keep_letters", "str", "str", '"".join(c for c in s if c.isalpha())',
        "for each character c in s, keep c only if c is a letter",
        "keep only the letters", "remove everything that is not a letter", "drop the digits and spaces"),
    _op("reverse_string", "str", "str", "s[::-1]",
        "read s from the last character to the first",
        "reverse the string", "reverse the characters", "write the string backwards"),
    _op("replace_char", "str", "str", 's.replace("{a}", "{b}")',
        "for each character c in s, write '{b}' if c = '{a}', else keep c",
        "replace every '{a}' with '{b}'", "change each '{a}' into '{b}'",
        "turn every '{a}' into '{b}'", a=LETTERS, b=LETTERS),
    _op("take_chars", "str", "str", "s[:{k}]",
        "keep the first {k} characters of s (all of them if there are fewer)",
        "keep only the first {k} characters", "take the first {k} characters",
        "cut the string down to its first {k} characters", k=range(2, 6)),
    # str -> int
    _op("string_length", "str", "int", "len(s)",
        "count the characters in s and return the count",
        "return the length of the string", "return how many characters there are",
        "return the number of characters"),
    _op("count_char", "str", "int", 's.count("{a}")',
        "count each character c in s with c = '{a}' and return the count",
        "return how many times '{a}' occurs", "return the number of '{a}' characters",
        "return the count of '{a}'", a=LETTERS),
    # str -> list[str] and list[str] -> ...
    _op("split_words", "str", "words", "s.split()",
        "cut s at every run of spaces and keep the non-empty pieces as words",
        "split the string into words", "break the string into words at the spaces",
        "split it on whitespace into words"),
    _op("sort_words", "words", "words", "sorted(words)",
        "reorder words so that each word comes before the next in dictionary order",
        "sort the words alphabetically", "sort the words", "put the words in alphabetical order"),
    _op("keep_long_words", "words", "words", "[w for w in words if len(w) > {k}]",
        "for each word w in words, keep w only if len(w) > {k}",
        "keep only the words longer than {k} characters",
        "remove the words with at most {k} characters", "keep the words with more than {k} characters",
        k=range(1, 4)),
    _op("count_words", "words", "int", "len(words)",
        "count the words and return the count",
        "return the number of words", "return how many words there are", "return the word count"),
    _op("join_words", "words", "str", '" ".join(words)',
        "write the words into s with one space between neighbours",
        "join the words with single spaces", "join the words back into one string with spaces",
        "glue the words together with a space between each"),
)



def use_operations(ops: Sequence[Op]) -> None:
    """Make `ops` the suite's operations in every split, with the tables derived from them
    (`OPS_BY_NAME`, `PRIMITIVES`, `_BY_SOURCE`); `benchmarks/base_recipes.py --drop` leaves some out."""
    global OPS, OPS_BY_NAME, PRIMITIVES, _BY_SOURCE
    OPS = tuple(ops)
    OPS_BY_NAME = {op.name: op for op in OPS}
    PRIMITIVES = {op.name: f"{TYPE_HINTS[op.source]} -> {TYPE_HINTS[op.target]}: "
                  + op.phrases[0].format(**{key: key.upper() for key, _ in op.consts})
                  for op in OPS}
    _BY_SOURCE = {kind: [op for op in OPS if op.source == kind] for kind in ("ints", "str", "words")}


use_operations(OPS)
_BANNED_PAIRS = {("split_words", "join_words"), ("join_words", "split_words")}
_CONNECTORS = (", then ", ", and then ", ". Then ", ". After that, ", ". Next, ")
_RETURNS = {
    "ints": ("Return the list.", "Return the resulting list.", "Return the new list."),
    "str": ("Return the string.", "Return the resulting string.", "Return the new string."),
    "words": ("Return the list of words.", "Return the words.", "Return the resulting words."),
}


def _stable_int(text: str) -> int:
    """A hash of `text` that is the same on every run (unlike the salted `hash`)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def split_of_combination(combination: str) -> str:
    """The split a combination id ("keep_even>square>sum") belongs to."""
    n_ops = combination.count(">") + 1
    if n_ops == 1:
        return "train"
    if n_ops >= 4:
        return "hard"
    return "test" if _stable_int(combination) % 100 < HELD_OUT_PERCENT else "train"


def combination_of(problem: Problem) -> str:
    """The problem's operation sequence, ignoring constants."""
    return problem.meta["combination"]


# Expected values are computed by evaluating the reference's own expressions.
_COMPILED: dict = {}
_EVAL_GLOBALS: dict = {}


def _apply(op: Op, values: dict, value):
    key = (op.name, tuple(sorted(values.items())))
    code = _COMPILED.get(key)
    if code is None:
        code = _COMPILED[key] = compile(op.expr.format(**values), op.name, "eval")
    return eval(code, _EVAL_GLOBALS, {VARIABLES[op.source]: value})


def _run(ops: list[Op], values: list[dict], value, skip: int | None = None):
    for index, (op, consts) in enumerate(zip(ops, values)):
        if index != skip:
            value = _apply(op, consts, value)
    return value


def _walk(rng: random.Random, kind: str, length: int) -> list[Op] | None:
    """A random chain of `length` type-compatible operations starting from `kind`."""
    ops: list[Op] = []
    for index in range(length):
        last = index == length - 1
        options = [op for op in _BY_SOURCE[kind]
                   if (last or not op.reduces)
                   and not (ops and (ops[-1] is op or (ops[-1].name, op.name) in _BANNED_PAIRS))]
        if last:  # end in a reduction about half of the time
            reducing = rng.random() < REDUCE_SHARE
            options = [op for op in options if op.reduces == reducing] or options
        if not options:
            return None
        ops.append(rng.choice(options))
        kind = ops[-1].target
    return ops


def _draw_ops(rng: random.Random, split: str, need: str | None = None) -> list[Op]:
    """Draw a chain whose combination belongs to `split` (and contains `need`)."""
    lengths, weights = zip(*LENGTH_WEIGHTS[split].items())
    for _ in range(100_000):
        kind = "ints" if rng.random() < INT_SHARE else "str"
        ops = _walk(rng, kind, rng.choices(lengths, weights)[0])
        if not ops or split_of_combination(">".join(op.name for op in ops)) != split:
            continue
        if need is None or need in [op.name for op in ops]:
            return ops
    raise RuntimeError(f"no {split} combination contains {need}")


def _draw_input(rng: random.Random, kind: str):
    if kind == "ints":
        return [rng.choice(INT_VALUES) for _ in range(rng.randint(1, MAX_LIST_LEN))]
    chars = []
    for _ in range(rng.randint(1, MAX_STR_LEN)):
        roll = rng.random()
        chars.append(" " if roll < 0.2 else rng.choice(DIGITS) if roll < 0.3 else rng.choice(LETTERS))
    return "".join(chars)


def _draw_inputs(rng: random.Random, kind: str) -> list:
    """N_TESTS distinct inputs; half of the problems also get the empty input."""
    inputs = [[] if kind == "ints" else ""] if rng.random() < 0.5 else []
    seen = {repr(value) for value in inputs}
    while len(inputs) < N_TESTS:
        value = _draw_input(rng, kind)
        if repr(value) not in seen:
            seen.add(repr(value))
            inputs.append(value)
    return inputs


def _discriminating(ops: list[Op], values: list[dict], inputs: list, outputs: list) -> bool:
    """Outputs vary, and dropping any same-type operation changes some output."""
    if len({repr(output) for output in outputs}) < MIN_DISTINCT_OUTPUTS:
        return False
    for index, op in enumerate(ops):
        if op.source == op.target and all(
            _run(ops, values, value, skip=index) == output for value, output in zip(inputs, outputs)
        ):
            return False
    return True


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _statement(rng: random.Random, ops: list[Op], values: list[dict]) -> str:
    clauses = [rng.choice(op.phrases).format(**consts) for op, consts in zip(ops, values)]
    steps = clauses[:-1] if ops[-1].reduces else clauses
    text = _capitalize(steps[0]) if steps else ""
    for clause in steps[1:]:
        text += rng.choice(_CONNECTORS) + clause
    ending = _capitalize(clauses[-1]) + "." if ops[-1].reduces else rng.choice(_RETURNS[ops[-1].target])
    return f"{text}. {ending}" if text else ending


def _pseudocode(ops: list[Op], values: list[dict]) -> list[str]:
    """[outline (Action 1), refinement of step 1, refinement of step 2, ...] (Action 2)."""
    outline = "\n".join(f"{index}. {_capitalize(op.phrases[0].format(**consts))}."
                        for index, (op, consts) in enumerate(zip(ops, values), 1))
    refinements = [f"Refine step {index}: {op.detail.format(**consts)}."
                   for index, (op, consts) in enumerate(zip(ops, values), 1)]
    if not ops[-1].reduces:
        refinements[-1] += f" Then return {VARIABLES[ops[-1].target]}."
    return [outline, *refinements]


def _make_problem(rng: random.Random, ops: list[Op], split: str, tries: int = 4) -> Problem | None:
    """Draw constants and inputs until the tests discriminate; None if they never do."""
    kind = ops[0].source
    for _ in range(tries):
        values = [op.draw(rng) for op in ops]
        inputs = _draw_inputs(rng, kind)
        outputs = [_run(ops, values, value) for value in inputs]
        if _discriminating(ops, values, inputs, outputs):
            break
    else:
        return None
    name = rng.choice(FUNCTION_NAMES)
    statement = _statement(rng, ops, values)
    output_kind = ops[-1].target
    signature = f"def {name}({VARIABLES[kind]}: {TYPE_HINTS[kind]}) -> {TYPE_HINTS[output_kind]}:"
    prompt = f'{signature}\n    """{statement}"""\n'
    lines = [op.line(consts) for op, consts in zip(ops, values)]
    if not ops[-1].reduces:
        lines.append(f"return {VARIABLES[output_kind]}")
    names = [op.name for op in ops]
    return Problem(
        task_id="",
        prompt=prompt,
        entry_point=name,
        reference=prompt + "".join(f"    {line}\n" for line in lines),
        tests=[TestCase((value,), output) for value, output in zip(inputs, outputs)],
        suite="synthetic",
        split=split,
        statement=statement,
        signature=signature,
        pseudocode=_pseudocode(ops, values),
        meta={
            "ops": names,
            "n_ops": len(ops),
            "combination": ">".join(names),
            "constants": values,
            "input_type": TYPE_HINTS[kind],
            "output_type": TYPE_HINTS[output_kind],
        },
    )


def load_synthetic(split: str = "train", n: int | None = None, seed: int = 0) -> list[Problem]:
    """Generate `n` problems of `split` ("train", "test" or "hard"), deterministically.

    The first training problems are drawn so that every primitive appears in
    train; the list is then shuffled and numbered `synthetic/<split>/0000`, ...
    No two problems of a split share a statement.
    """
    if split not in DEFAULT_SIZES:
        raise ValueError(f"unknown synthetic split {split!r}: choose one of {', '.join(DEFAULT_SIZES)}")
    n = DEFAULT_SIZES[split] if n is None else n
    rng = random.Random(_stable_int(f"synthetic/{split}/{seed}"))
    required = [op.name for op in OPS] if split == "train" else []
    problems: list[Problem] = []
    statements: set[str] = set()
    attempts = 0
    while len(problems) < n:
        attempts += 1
        if attempts > 100 * n + 1000:
            raise RuntimeError(f"could only generate {len(problems)} distinct {split} problems of {n}")
        need = required[len(problems)] if len(problems) < len(required) else None
        problem = _make_problem(rng, _draw_ops(rng, split, need), split)
        if problem is None or problem.statement in statements:
            continue
        statements.add(problem.statement)
        problems.append(problem)
    rng.shuffle(problems)
    width = max(4, len(str(n - 1)))
    for index, problem in enumerate(problems):
        problem.task_id = f"synthetic/{split}/{index:0{width}d}"
    return problems


__all__ = ["OPS", "PRIMITIVES", "Op", "combination_of", "load_synthetic", "split_of_combination"]
