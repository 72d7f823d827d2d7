"""The sandbox as a reward function with TRL's signature.

    reward = ExecutionReward(sandbox)
    reward(prompts, completions, tests=[...], entry_point=[...]) -> list[float]

`GRPOTrainer(reward_funcs=[reward])` takes it as it is: TRL calls a reward
function with the prompts, the completions, and every column of the train
dataset as a keyword (each repeated once per generation), plus its own
keywords (`trainer_state`, `completion_ids`, ...), which are ignored here.

Columns it reads:

- `tests`: the test cases of each row as JSON text (`encode_tests`); a
  dataset column cannot hold tuples of mixed types, so the cases travel as
  the `repr` of their literals, as `Problem.to_json` writes them;
- `entry_point`: the function the tests call.

What it returns, per completion:

- the fraction of the tests the program passes (o1-Coder's outcome reward R),
  or with `all_or_nothing=True` 1.0 when it passes all of them, else 0.0;
- 0.0 for a completion from which no program can be read (`to_program`
  returned None: no code, an unparsable step format); it is never run, and
  `stats["unparsable"]` counts it;
- 0.0 for a program whose worker was lost (`stats["worker_lost"]`), so a
  training run sees a failure, and the count says it was not the program's.

`to_program(prompt, completion, **row)` turns one completion into the
program to run; the default (`o1lite.programs.solution_program`) takes a
completion that defines the entry point as the whole program and otherwise
appends the body it wrote to the prompt (the tiny model's format). A policy
passes its own parser (`o1lite.stages.policies.LanguagePolicy.reward_function`).
Built for the RL and test-time selection chapters (06, 07).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from ..problems.base import TestCase
from ..programs import solution_program


def encode_tests(tests: Sequence[TestCase]) -> str:
    """The `tests` column value for a list of cases."""
    return json.dumps([case.to_json() for case in tests])


def decode_tests(text: str) -> list[TestCase]:
    return [TestCase.from_json(case) for case in json.loads(text)]


def completion_text(completion: Any) -> str:
    """A completion as text: a plain string, or the last message of a conversational one."""
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def default_program(prompt: str, completion: str, entry_point: str, **_: Any) -> str | None:
    """`o1lite.programs.solution_program` of the raw completion; None when it is empty."""
    return solution_program(prompt, entry_point, completion) if completion.strip() else None


class ExecutionReward:
    """`reward(prompts, completions, tests, entry_point, **columns) -> list[float]` (see the module docstring)."""

    def __init__(self, sandbox, to_program: Callable[..., str | None] = default_program, all_or_nothing: bool = False,
                 name: str = "execution_reward"):
        self.sandbox, self.to_program, self.all_or_nothing = sandbox, to_program, all_or_nothing
        self.__name__ = name  # TRL names the logged reward column after it
        self.stats = {"calls": 0, "completions": 0, "unparsable": 0, "worker_lost": 0}
        self._decoded: dict[str, list[TestCase]] = {}

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], tests: Sequence[str],
                 entry_point: Sequence[str], **columns: Any) -> list[float]:
        rows = [{name: values[i] for name, values in columns.items() if _is_column(values, len(completions))}
                for i in range(len(completions))]
        programs = [self.to_program(completion_text(p), completion_text(c), entry_point=e, **row)
                    for p, c, e, row in zip(prompts, completions, entry_point, rows)]
        runnable = [i for i, program in enumerate(programs) if program is not None]
        jobs = [(programs[i], entry_point[i], self._tests(tests[i])) for i in runnable]
        results = dict(zip(runnable, self.sandbox.run_many(jobs) if jobs else []))
        rewards = []
        for i in range(len(completions)):
            result = results.get(i)
            if result is None:
                rewards.append(0.0)
                continue
            if getattr(result, "error", None) == "WorkerLost":
                self.stats["worker_lost"] += 1
                rewards.append(0.0)
                continue
            rewards.append(float(result.passed) if self.all_or_nothing else float(result.pass_fraction))
        self.stats["calls"] += 1
        self.stats["completions"] += len(completions)
        self.stats["unparsable"] += len(completions) - len(runnable)
        return rewards

    def _tests(self, text: str) -> list[TestCase]:
        if text not in self._decoded:
            self._decoded[text] = decode_tests(text)
        return self._decoded[text]


def _is_column(values: Any, length: int) -> bool:
    return isinstance(values, (list, tuple)) and len(values) == length
