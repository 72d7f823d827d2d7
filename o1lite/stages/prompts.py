"""Every prompt template in one place, each beside its parser.

Parsers never raise on model output: a malformed generation parses to
`None` (or an empty result) and is counted by the caller.

Sections: the test-case generator's template (chapter 02); the vanilla and
pseudocode policy formats (chapter 03).
"""

from __future__ import annotations

# ---------------------------------------------------------------- test-case generator (chapter 02)
# The o1-Coder paper's TCG template (its Figure 3), in our own words: an
# instruction, the problem, a code section holding one solution, then a test
# section of cases, each an `# input:` block (the arguments of one call,
# written as in the call) and an `# output:` block (the returned value).
import ast as _ast
from dataclasses import dataclass as _dataclass, field as _field

from ..problems.base import TestCase as _TestCase

TCG_INSTRUCTION = "Write {n} test cases for the code: each an input (the arguments) and the output it returns."
TCG_INPUT = "# input:"
TCG_OUTPUT = "# output:"
TCG_MAX_CASE_CHARS = 100  # the official code keeps every case under 100 characters
TCG_PARSE_ERRORS = ("no_cases", "malformed", "not_literal", "wrong_arity", "truncated")


def without_docstrings(code: str) -> str:
    """`code` with its function docstrings removed, lines otherwise untouched.

    The statement already sits in the problem section; repeating it in the
    code would only lengthen the prompt. Code that does not parse is kept.
    """
    try:
        tree = _ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    drop: set[int] = set()
    for node in _ast.walk(tree):
        if isinstance(node, (_ast.FunctionDef, _ast.AsyncFunctionDef)) and len(node.body) > 1:
            first = node.body[0]
            if isinstance(first, _ast.Expr) and isinstance(first.value, _ast.Constant) and isinstance(first.value.value, str):
                drop.update(range(first.lineno, first.end_lineno + 1))
    return "\n".join(line for number, line in enumerate(code.split("\n"), 1) if number not in drop)


def tcg_prompt(statement: str, solution: str, n_cases: int = 3) -> str:
    """The TCG prompt: instruction, problem, code section (docstrings dropped); ends where the cases begin."""
    return (
        f"### Instruction\n{TCG_INSTRUCTION.format(n=n_cases)}\n"
        f"### Problem\n{statement.strip()}\n"
        f"### Code\n{without_docstrings(solution).rstrip()}\n"
        f"### Tests\n"
    )


def format_args(args: tuple) -> str:
    """The arguments of one call as written inside the parentheses: `[1, 2], 3`."""
    return ", ".join(repr(value) for value in args)


def format_case(case: _TestCase) -> str:
    """One case in the template: an `# input:` block, then an `# output:` block."""
    return f"{TCG_INPUT}\n{format_args(case.args)}\n{TCG_OUTPUT}\n{case.expected!r}\n"


def format_cases(cases) -> str:
    """A whole test section (the SFT completion, without the end-of-text token)."""
    return "".join(format_case(case) for case in cases)


def case_chars(case: _TestCase) -> int:
    """The length of a case as the template writes it (inputs plus output)."""
    return len(format_args(case.args)) + len(repr(case.expected))


@_dataclass
class ParsedTests:
    """What `parse_tests` read from one generation.

    `cases` are the well-formed literal cases, in order; `errors` names, per
    block that could not be used, why (one of `TCG_PARSE_ERRORS`); `blocks`
    counts the `# input:` blocks seen.
    """

    cases: list = _field(default_factory=list)
    errors: list = _field(default_factory=list)
    blocks: int = 0


def parse_args(text: str):
    """`[1, 2], 3` -> `([1, 2], 3)`; None unless every argument is a literal.

    The text is parsed as the inside of a call (`f(...)`), so a single tuple
    argument stays one argument; keywords, starred arguments and any
    non-literal expression are rejected. Nothing is evaluated.
    """
    try:
        tree = _ast.parse(f"f(\n{text}\n)", mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    call = tree.body
    if (not isinstance(call, _ast.Call) or not isinstance(call.func, _ast.Name) or call.keywords
            or any(isinstance(a, _ast.Starred) for a in call.args)):
        return None
    try:
        return tuple(_ast.literal_eval(arg) for arg in call.args)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _literal(text: str):
    try:
        return True, _ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def parse_tests(text: str, arity: int | tuple[int, int] | None = None, max_cases: int | None = None) -> ParsedTests:
    """Read the cases a TCG wrote; never raises.

    A case is `# input:` + lines + `# output:` + lines. It is dropped, and its
    reason recorded, when a block is missing or out of order (`malformed`),
    the text is not a Python literal (`not_literal`), the number of
    arguments is outside `arity` (an int, or an inclusive (low, high) range;
    `wrong_arity`), or the generation stopped inside it (`truncated`: the
    last case, unfinished). A generation with no case at all also records
    `no_cases`. Reading stops at a `###` section header (the model went on
    past the test section) and after `max_cases` blocks.
    """
    parsed = ParsedTests()
    if not isinstance(text, str):
        parsed.errors.append("no_cases")
        return parsed
    low, high = (arity, arity) if isinstance(arity, int) else (arity or (0, 10**6))
    blocks: list[list] = []  # [input lines, output lines or None]
    stray = False
    for line in text.split("\n"):
        marker = line.strip()
        if marker.startswith("###"):
            break
        if marker == TCG_INPUT:
            if max_cases is not None and len(blocks) >= max_cases:
                break
            blocks.append([[], None])
        elif marker == TCG_OUTPUT:
            if not blocks or blocks[-1][1] is not None:
                stray = True
                blocks.append([None, []])  # an output with no input of its own
            else:
                blocks[-1][1] = []
        elif blocks:
            target = blocks[-1][1] if blocks[-1][1] is not None else blocks[-1][0]
            if target is not None:
                target.append(line)
        elif marker:
            stray = True
    parsed.blocks = sum(1 for inputs, _ in blocks if inputs is not None)
    for index, (inputs, outputs) in enumerate(blocks):
        last = index == len(blocks) - 1
        if inputs is None:
            parsed.errors.append("malformed")
            continue
        if outputs is None or not "".join(outputs).strip():
            parsed.errors.append("truncated" if last else "malformed")
            continue
        args = parse_args("\n".join(inputs))  # an empty block is the call with no arguments
        ok, expected = _literal("\n".join(outputs))
        if args is None or not ok:
            parsed.errors.append("truncated" if last and not text.endswith("\n") else "not_literal")
            continue
        if not low <= len(args) <= high:
            parsed.errors.append("wrong_arity")
            continue
        parsed.cases.append(_TestCase(args, expected))
    if not parsed.cases and "no_cases" not in parsed.errors:
        parsed.errors.append("no_cases")
    if stray and "malformed" not in parsed.errors:
        parsed.errors.append("malformed")
    return parsed


# ---------------------------------------------------------------- policy formats (chapter 03)
# Two ways a policy answers a problem:
#
# - *vanilla*: the problem prompt (signature + docstring), then the function
#   body. One step, the code.
# - *pseudocode* (the paper's "think before acting", its Figure 4): the prompt,
#   then steps, each ended by a line holding only `<step>` except the last:
#     Action 1, an outline: one numbered line per part of the algorithm;
#     Action 2, one step per refinement: "Refine step i: ..." in more detail;
#     Action 3, the code: the function body, ended by end-of-text.
#   The tiny model writes the steps without "Action N:" headers: its 1,024-token
#   vocabulary spells "Action" in six tokens, and each step's shape (numbered
#   lines, "Refine step", indented code) already names its action. Chat models
#   write the headers, and the parser accepts steps with or without them.
#
# A solution is a sequence of steps, so `o1lite.generation.sample_steps` can
# stop at each delimiter and hand the prefix to a search (chapter 04).
import re as _re

POLICY_FORMATS = ("vanilla", "pseudocode")
STEP_DELIMITER = "<step>\n"  # ends every step but the last; never appears inside one
ACTION_OUTLINE, ACTION_REFINE, ACTION_CODE = 1, 2, 3
ACTION_NAMES = {ACTION_OUTLINE: "outline", ACTION_REFINE: "refine", ACTION_CODE: "code"}
POLICY_PARSE_ERRORS = ("no_code", "unknown_action", "out_of_order", "empty_step", "after_code")

_HEADER = _re.compile(r"^\s*(?:#\s*)?Action\s*([123])\s*[:.]?[ \t]*", _re.IGNORECASE)
_NUMBERED = _re.compile(r"^\s*\d+[.)]\s+\S")
_REFINE = _re.compile(r"^\s*Refine step\s+\d+", _re.IGNORECASE)
_FENCE = _re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", _re.DOTALL | _re.IGNORECASE)


def _check_format(fmt: str) -> None:
    if fmt not in POLICY_FORMATS:
        raise ValueError(f"unknown policy format {fmt!r}: choose one of {', '.join(POLICY_FORMATS)}")


def _reference_body(problem) -> str:
    body = problem.reference[len(problem.prompt):] if problem.reference.startswith(problem.prompt) else problem.reference
    return body.rstrip() + "\n"


def policy_steps(problem, fmt: str) -> list[str]:
    """The reference solution as the steps of `fmt`, delimiters included.

    Pseudocode needs the problem's reasoning steps (`problem.pseudocode`, the
    synthetic suite has them); every step but the code ends with
    `STEP_DELIMITER`, so `"".join(steps)` is the whole completion.
    """
    _check_format(fmt)
    body = _reference_body(problem)
    if fmt == "vanilla":
        return [body]
    if not problem.pseudocode:
        raise ValueError(f"{problem.task_id}: no reference pseudocode, so no pseudocode-format target")
    thinking = [step.strip() + "\n" + STEP_DELIMITER for step in problem.pseudocode]
    return [*thinking, body]


def policy_completion(problem, fmt: str) -> str:
    """The SFT target for `fmt` (without end-of-text: the trainer appends it)."""
    return "".join(policy_steps(problem, fmt))


# Chat models (GPU profiles) are prompted, not fine-tuned, by default: the
# paper's Figure 4 instructions as the system prompt, then one worked example.
CHAT_SYSTEM = {
    "vanilla": (
        "You are a careful Python programmer. Write the complete function the user asks for, "
        "signature included, in one ```python block. Do not explain it."
    ),
    "pseudocode": (
        "You solve programming problems by thinking before you act. Reason in steps; each step is one of "
        "three actions.\n"
        "Action 1: define the overall structure of the algorithm as short pseudocode, one numbered line per part.\n"
        "Action 2: refine one part of the pseudocode with more detail: the data it works on and the exact "
        "condition or formula. Write one Action 2 step per part that needs it.\n"
        "Action 3: turn the refined pseudocode into the complete Python function, signature included, in one "
        "```python block. This is the last step.\n"
        "Start every step with its action (\"Action 1:\", \"Action 2:\", \"Action 3:\") and end every step "
        "except the last with a line that holds only <step>."
    ),
}
_EXAMPLE_PROBLEM = (
    "def sum_odd_squares(nums: list) -> int:\n"
    '    """Return the sum of the squares of the odd numbers in nums."""\n'
)
_EXAMPLE_CODE = (
    "```python\ndef sum_odd_squares(nums: list) -> int:\n"
    "    odd = [x for x in nums if x % 2 == 1]\n"
    "    return sum(x * x for x in odd)\n```"
)
CHAT_EXAMPLE = {
    "vanilla": _EXAMPLE_CODE,
    "pseudocode": (
        "Action 1:\n1. Keep the odd numbers.\n2. Square them and add the squares up.\n" + STEP_DELIMITER
        + "Action 2: Refine step 1: for each x in nums, keep x only if x mod 2 = 1.\n" + STEP_DELIMITER
        + "Action 2: Refine step 2: set total = 0, add x * x to total for each kept x, return total.\n"
        + STEP_DELIMITER + "Action 3:\n" + _EXAMPLE_CODE
    ),
}


def chat_completion(problem, fmt: str) -> str:
    """The reference solution as a chat model writes it (headers, fenced code);
    the SFT target when an instruct model is fine-tuned instead of prompted."""
    code = f"```python\n{problem.reference.rstrip()}\n```"
    if fmt == "vanilla":
        return code
    thinking = policy_steps(problem, fmt)[:-1]
    headers = [f"Action {ACTION_OUTLINE}:\n"] + [f"Action {ACTION_REFINE}: "] * (len(thinking) - 1)
    return "".join(h + step for h, step in zip(headers, thinking)) + f"Action {ACTION_CODE}:\n" + code


def _user_turn(problem_prompt: str) -> str:
    return f"Write this Python function.\n```python\n{problem_prompt.rstrip()}\n```"


def policy_messages(problem, fmt: str) -> list[dict]:
    """Chat messages for an instruct model: system, one worked example, the problem."""
    _check_format(fmt)
    return [
        {"role": "system", "content": CHAT_SYSTEM[fmt]},
        {"role": "user", "content": _user_turn(_EXAMPLE_PROBLEM)},
        {"role": "assistant", "content": CHAT_EXAMPLE[fmt]},
        {"role": "user", "content": _user_turn(problem.prompt)},
    ]


def policy_prompt(problem, fmt: str, tokenizer=None, chat: bool = False) -> str:
    """The text a policy continues.

    Without `chat` (the tiny model and any base model) it is the problem
    prompt itself in both formats: the format was taught by fine-tuning. With
    `chat`, the messages of `policy_messages` through the tokenizer's chat
    template, ready for the assistant's turn.
    """
    _check_format(fmt)
    if not chat:
        return problem.prompt
    if tokenizer is None:
        raise ValueError("a chat prompt needs the tokenizer (for its chat template)")
    return tokenizer.apply_chat_template(policy_messages(problem, fmt), tokenize=False, add_generation_prompt=True)


@_dataclass
class ParsedStep:
    """One step of a generated solution: its text (header and delimiter
    removed) and its action, 1-3, or None when it cannot be told."""

    text: str
    action: int | None


@_dataclass
class ParsedSolution:
    """What `parse_solution` read from one generation.

    `code` is the first code step's code (a function body, or a whole
    function from a chat model), None when the generation has none;
    `errors` holds names from `POLICY_PARSE_ERRORS`, empty when the
    solution is well formed.
    """

    steps: list = _field(default_factory=list)
    code: str | None = None
    errors: list = _field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when the solution reached a code step (it may still be wrong)."""
        return self.code is not None

    @property
    def outline(self) -> str | None:
        """The text of the first Action 1 step, if any."""
        return next((step.text for step in self.steps if step.action == ACTION_OUTLINE), None)


def split_steps(text: str) -> list[str]:
    """Cut a generation at every `STEP_DELIMITER`; the delimiters are dropped.

    The marker counts wherever it is (generation stops at it even mid-line),
    with or without its newline. A delimiter that the generation stopped
    inside (`<st`) is not one: it stays in the last piece. Empty trailing
    pieces are dropped.
    """
    marker = STEP_DELIMITER.strip()
    pieces = _re.split(_re.escape(marker) + r"[ \t]*\n?", text)
    while pieces and not pieces[-1].strip():
        pieces.pop()
    return pieces


def step_action(text: str) -> tuple[int | None, str]:
    """The action of one step and its text without the "Action N:" header.

    An explicit header wins; otherwise the step's shape decides: numbered
    lines are an outline, "Refine step i" a refinement, indented lines, a
    ```python block or a `def` are code.
    """
    if not isinstance(text, str):
        return None, ""
    stripped = text.strip("\n")
    header = _HEADER.match(stripped)
    if header:
        return int(header.group(1)), stripped[header.end():].lstrip("\n")
    first = next((line for line in stripped.split("\n") if line.strip()), "")
    if _REFINE.match(first):
        return ACTION_REFINE, stripped
    if _NUMBERED.match(first) and not first.startswith((" ", "\t")):
        return ACTION_OUTLINE, stripped
    if first.startswith((" ", "\t")) or first.lstrip().startswith(("```", "def ")):
        return ACTION_CODE, stripped
    return None, stripped


def extract_code(text: str) -> str:
    """The code of a code step: the first ```python block if there is one
    (to its end, or to the end of the text when the block was cut off),
    else the text itself (a function body)."""
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).rstrip() + "\n"
    return text.rstrip() + "\n"


def parse_solution(text: str, fmt: str = "pseudocode") -> ParsedSolution:
    """Read a policy's generation (the text after the prompt); never raises.

    Vanilla: the whole text is one code step. Pseudocode: the text is cut at
    the delimiters; each step gets its action; the first code step ends the
    solution (a node is terminal once its step holds code), and anything
    after it is ignored and flagged `after_code`. Other flags: `no_code`
    (the generation stopped before any code, e.g. truncated), `unknown_action`,
    `out_of_order` (not outline, refinements, then code), `empty_step`.
    """
    parsed = ParsedSolution()
    if not isinstance(text, str) or fmt not in POLICY_FORMATS:
        parsed.errors.append("no_code")
        return parsed
    if fmt == "vanilla":
        action, body = step_action(text)
        if not text.strip():
            parsed.errors.append("no_code")
            return parsed
        parsed.steps.append(ParsedStep(body if action == ACTION_CODE else text, ACTION_CODE))
        parsed.code = extract_code(body if action == ACTION_CODE else text)
        return parsed
    last_action = 0
    pieces = split_steps(text)
    for index, piece in enumerate(pieces):
        action, body = step_action(piece)
        if not body.strip():
            parsed.errors.append("empty_step")
            parsed.steps.append(ParsedStep(body, action))
            continue
        parsed.steps.append(ParsedStep(body, action))
        if action is None:
            parsed.errors.append("unknown_action")
            continue
        if action < last_action or (action == ACTION_OUTLINE and last_action == ACTION_OUTLINE):
            parsed.errors.append("out_of_order")
        last_action = max(last_action, action)
        if action == ACTION_CODE:
            parsed.code = extract_code(body)
            if index < len(pieces) - 1:
                parsed.errors.append("after_code")
            break
    if parsed.code is None:
        parsed.errors.append("no_code")
    return parsed


def normalize_outline(text: str | None, ignore_constants: bool = False) -> list[str]:
    """An outline as a list of comparable items: numbering, case, spacing and
    final full stops dropped; with `ignore_constants`, numbers and quoted
    characters become placeholders (so only the operations are compared)."""
    if not isinstance(text, str):
        return []
    _, text = step_action(text)
    items = []
    for line in text.split("\n"):
        item = _re.sub(r"^\s*\d+[.)]\s*", "", line).strip().rstrip(".").lower()
        item = " ".join(item.split())
        if ignore_constants:
            item = _re.sub(r"'[^']*'", "'c'", _re.sub(r"-?\d+", "n", item))
        if item:
            items.append(item)
    return items


def outline_matches(generated: str | None, reference: str, ignore_constants: bool = False) -> bool:
    """True when a generated outline names the reference outline's steps, in order."""
    mine = normalize_outline(generated, ignore_constants)
    return bool(mine) and mine == normalize_outline(reference, ignore_constants)
