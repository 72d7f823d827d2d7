"""The one record every problem suite produces: `Problem` and its literal `TestCase`s.

A test case is a pair of Python literals (the argument tuple and the return
value), never an assert statement, so that a verdict can be decided by
comparing values in the trusted parent process (see `o1lite.sandbox`).
Literals survive a JSON round trip through `repr` / `ast.literal_eval`, which
keeps tuples, sets and ints distinct from lists and floats.

This module does not run any code and does not import torch.
"""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable


@dataclass(frozen=True)
class TestCase:
    """One literal case: `entry_point(*args)` must return `expected`."""

    __test__ = False  # not a pytest class

    args: tuple
    expected: Any

    def to_json(self) -> dict:
        return {"args": repr(tuple(self.args)), "expected": repr(self.expected)}

    @classmethod
    def from_json(cls, record: dict) -> "TestCase":
        return cls(tuple(ast.literal_eval(record["args"])), ast.literal_eval(record["expected"]))


@dataclass
class Problem:
    """A function-writing problem, the same shape for every suite.

    - `prompt`: what the model sees (signature + docstring, HumanEval style).
    - `reference`: a complete, correct program defining `entry_point`.
    - `tests`: literal cases; empty only when `check` must be used instead.
    - `check`: an assert-based check function (HumanEval's `check(candidate)`)
      for problems whose checks could not be turned into literals; it runs in
      the sandbox's compatibility mode, which is forgeable (see the sandbox).
    - `pseudocode`: the synthetic suite's reasoning steps (outline first,
      then refinements); empty for other suites.
    """

    task_id: str
    prompt: str
    entry_point: str
    reference: str
    tests: list[TestCase]
    suite: str
    split: str = "test"
    statement: str = ""
    signature: str = ""
    pseudocode: list[str] = field(default_factory=list)
    check: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def literal_tests(self) -> bool:
        """True when the verdict can be decided from literal cases alone."""
        return bool(self.tests) and self.check is None

    def to_json(self) -> dict:
        record = asdict(self)
        record["tests"] = [case.to_json() for case in self.tests]
        return record

    @classmethod
    def from_json(cls, record: dict) -> "Problem":
        record = dict(record)
        record["tests"] = [TestCase.from_json(case) for case in record["tests"]]
        return cls(**record)


def save_jsonl(problems: Iterable[Problem], path: str | Path) -> None:
    """Write problems one JSON object a line (atomically: a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w") as handle:
        for problem in problems:
            handle.write(json.dumps(problem.to_json()) + "\n")
    tmp.replace(path)


def load_jsonl(path: str | Path) -> list[Problem]:
    """Read problems written by `save_jsonl`."""
    with Path(path).open() as handle:
        return [Problem.from_json(json.loads(line)) for line in handle if line.strip()]
