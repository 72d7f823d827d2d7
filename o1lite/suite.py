"""The problems a chapter trains and evaluates on, whatever the profile.

Every chapter that reads problems takes two parameters with the same names:
`SUITE` (None: the profile's own suite, `synthetic` for `tiny`, `mbpp` for
the Qwen2.5 profiles; `synthetic` runs any profile offline) and `MBPP_PATH`
(a local sanitized-MBPP file; None: the `O1LITE_MBPP` environment variable,
else the Hugging Face hub). A chapter passes them to `get_profile(...,
suite=SUITE)` and asks this module for each split:

    profile = get_profile(PROFILE, smoke=SMOKE, suite=SUITE)
    test = suite.problems(profile, "test", n=N_EVAL, seed=SEED, mbpp_path=MBPP_PATH)

`synthetic` is generated: `n` problems drawn with `seed`, exactly as
`load_problems("synthetic", split, n=n, seed=seed)`. MBPP is a fixed set:
`n` problems of the split sampled with `seed` (all of them when `n` is None
or larger), so two draws with different seeds overlap but are not equal.
HumanEval has only a test split. A split a suite lacks (only `synthetic`
has `hard`), an empty result, or an MBPP file that is missing ends in one
`SuiteUnavailable` line that says what to pass.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from .problems import SUITES, Problem, load_problems

MBPP_ENV = "O1LITE_MBPP"  # where a local sanitized-MBPP file is, for every chapter and the runner

# The splits each suite has (MBPP's "prompt" split holds its few-shot examples).
SPLITS = {"synthetic": ("train", "test", "hard"), "mbpp": ("train", "validation", "test", "prompt"), "humaneval": ("test",)}


class SuiteUnavailable(ValueError):
    """A suite or split a chapter asked for cannot be had; the message says what to pass."""


def resolve_mbpp_path(path: str | os.PathLike | None = None) -> str | None:
    """The local MBPP file to read: `path`, else $O1LITE_MBPP, else None (the hub)."""
    chosen = path or os.environ.get(MBPP_ENV) or None
    return None if chosen is None else str(Path(chosen).expanduser())


def has_split(suite: str, split: str) -> bool:
    return split in SPLITS.get(suite, ())


def problems(profile, split: str, n: int | None = None, seed: int = 0,
             mbpp_path: str | os.PathLike | None = None) -> list[Problem]:
    """`n` problems of `split` in the profile's suite (see the module docstring)."""
    from .profiles import get_profile

    suite = get_profile(profile).suite
    if suite not in SUITES:
        raise SuiteUnavailable(f"unknown suite {suite!r}: pass SUITE as one of {', '.join(SUITES)}")
    if not has_split(suite, split):
        raise SuiteUnavailable(
            f"the {suite} suite has no {split!r} split (it has {', '.join(SPLITS[suite])}): "
            f"pass SUITE=\"synthetic\" to run this part offline on generated problems")
    if suite == "synthetic":
        found = load_problems("synthetic", split, n=n, seed=seed)
    else:
        options = {}
        if suite == "mbpp":
            path = resolve_mbpp_path(mbpp_path)
            if path is not None and not Path(path).is_file():
                raise SuiteUnavailable(f"no MBPP file at {path}: pass MBPP_PATH (or set ${MBPP_ENV}) to a sanitized-MBPP "
                                       f"JSON or JSONL file, or SUITE=\"synthetic\"")
            options = {"split": split, "path": path}
        try:
            found = load_problems(suite, **options)
        except RuntimeError as error:  # MBPPUnavailable: no network and no local file
            raise SuiteUnavailable(f"{error}; in a chapter: pass MBPP_PATH=<file> (or set ${MBPP_ENV}), "
                                   f"or SUITE=\"synthetic\"") from None
        if n is not None and n < len(found):
            keep = sorted(random.Random(f"{suite}/{split}/{seed}").sample(range(len(found)), n))
            found = [found[i] for i in keep]
    if not found:
        raise SuiteUnavailable(f"no {split!r} problems in the {suite} suite (n={n}): pass a larger N, "
                               f"another MBPP_PATH, or SUITE=\"synthetic\"")
    return found
