"""Sanitized MBPP as `Problem` records with literal test cases.

Sources.  With `path`, a local copy of the sanitized MBPP: either the
original `sanitized-mbpp.json` (one JSON list) or a JSONL file (one record a
line), optionally gzipped.  A record has `task_id`, `prompt` (the English
statement; `text` is accepted too), `code` (the reference solution),
`test_imports` (optional) and `test_list` (assert strings).  Without a path
the records come from the Hugging Face hub
(`google-research-datasets/mbpp`, config `sanitized`), or from its local
cache.  When neither is reachable (no network, or `HF_HUB_OFFLINE=1` with
an empty cache) `MBPPUnavailable` is raised at once with a one-line hint;
the hub is probed with a short connection timeout first, so the failure
takes about a second instead of the minutes of retries a plain download
would spend.

Splits follow MBPP's task-id convention: prompt 1-10, test 11-510,
validation 511-600, train 601-974; `split="all"` returns every record.

Each record becomes a `Problem` with

- `entry_point`: the function the asserts call (the outermost call of the
  first assert that names a top-level function of the code; else the code's
  last top-level `def`);
- `reference`: the code, with `test_imports` prepended when there are any;
- `prompt`: a HumanEval-style prompt built from the reference: its
  top-level imports, the entry point's `def` line, and a docstring holding
  the English statement and one example taken from the first test, written
  as `>>> call` followed by the expected value's repr (or the assert itself
  when the first test is not a plain equality);
- `statement`: the English statement; `signature`: the `def` line;
- `tests`: the asserts converted by `o1lite.problems.asserts` (the callee is
  the entry point) and replayed on the reference with the same type rule as
  HumanEval (a literal that is `==` to the reference's value but of another
  type keeps the reference's value; see `asserts.verify_cases`);
- `check`: for problems that do not convert completely, a
  `def check(candidate):` built from `test_imports` and the asserts with the
  entry point's name replaced by `candidate`.

`meta` holds `n_asserts`, `literal`, `n_cases`, `retyped`, `mbpp_task_id`
and, for non-literal problems, `reason` / `reason_kind`.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import gzip
import json
import os
from functools import lru_cache
from typing import Any, Iterable
from unittest import mock

from ..profiles import PROBE_SECONDS, hub_reachable, offline_mode
from .asserts import convert_asserts, verified_cases
from .base import Problem, TestCase

SUITE = "mbpp"
HUB_DATASET = "google-research-datasets/mbpp"
HUB_CONFIG = "sanitized"
SPLITS = ("prompt", "test", "validation", "train")
#: Seconds the hub probe waits for a connection before calling it unreachable.

UNAVAILABLE_HINT = (
    "MBPP is not available offline: download sanitized-mbpp.json from the "
    "google-research/mbpp repository (or run once with network access) and pass "
    "path=... (o1lite-eval: --problem-file)"
)


class MBPPUnavailable(RuntimeError):
    """The hub copy of MBPP cannot be loaded (offline, or no cached copy)."""


class MBPPFormatError(ValueError):
    """A local MBPP file is malformed; the message names the file and line."""


# --------------------------------------------------------------------------- splits


def split_of(task_id: int) -> str:
    """MBPP's split for a task id: prompt 1-10, test 11-510, validation 511-600, train 601+."""
    if task_id <= 10:
        return "prompt"
    if task_id <= 510:
        return "test"
    if task_id <= 600:
        return "validation"
    return "train"


def _check_split(split: str) -> str:
    if split != "all" and split not in SPLITS:
        raise ValueError(f"unknown MBPP split {split!r}: choose one of {', '.join(SPLITS)} or 'all'")
    return split


# --------------------------------------------------------------------------- local files


def _read_text(path: str) -> str:
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return handle.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _json_list_records(text: str, path: str) -> Iterable[tuple[int, Any]]:
    """The elements of a top-level JSON list, each with the line it starts on."""
    decoder = json.JSONDecoder()
    index = text.index("[") + 1
    length = len(text)

    def skip(i: int) -> int:
        while i < length and text[i] in " \t\r\n":
            i += 1
        return i

    index = skip(index)
    if index < length and text[index] == "]":
        return
    while True:
        if index >= length:
            raise MBPPFormatError(f"{path}, line {_line_of(text, index)}: unterminated JSON list")
        try:
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            raise MBPPFormatError(f"{path}, line {error.lineno}: not valid JSON ({error.msg})") from None
        yield _line_of(text, index), value
        index = skip(end)
        if index < length and text[index] == ",":
            index = skip(index + 1)
            continue
        if index < length and text[index] == "]":
            trailing = skip(index + 1)
            if trailing < length:
                line = _line_of(text, trailing)
                raise MBPPFormatError(f"{path}, line {line}: unexpected text after the JSON list")
            return
        raise MBPPFormatError(f"{path}, line {_line_of(text, index)}: expected ',' or ']' in the JSON list")


def _jsonl_records(text: str, path: str) -> Iterable[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise MBPPFormatError(f"{path}, line {number}: not valid JSON ({error.msg})") from None


def _validate(record: Any, path: str, line: int) -> dict:
    where = f"{path}, line {line}"
    if not isinstance(record, dict):
        raise MBPPFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "prompt" not in record and "text" in record:
        record = {**record, "prompt": record["text"]}
    missing = [name for name in ("task_id", "prompt", "code", "test_list") if name not in record]
    if missing:
        raise MBPPFormatError(f"{where}: record lacks field(s) {', '.join(missing)}")
    try:
        task_id = int(record["task_id"])
    except (TypeError, ValueError):
        raise MBPPFormatError(f"{where}: task_id {record['task_id']!r} is not an integer") from None
    tests = record["test_list"]
    imports = record.get("test_imports") or []
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests) or not tests:
        raise MBPPFormatError(f"{where}: test_list must be a non-empty list of strings")
    if not isinstance(imports, list) or not all(isinstance(t, str) for t in imports):
        raise MBPPFormatError(f"{where}: test_imports must be a list of strings")
    if not isinstance(record["code"], str) or not isinstance(record["prompt"], str):
        raise MBPPFormatError(f"{where}: prompt and code must be strings")
    return {
        "task_id": task_id,
        "prompt": record["prompt"],
        "code": record["code"],
        "test_imports": list(imports),
        "test_list": list(tests),
    }


def read_mbpp_file(path: str | os.PathLike) -> list[dict]:
    """Validated records of a local sanitized-MBPP file (JSON list or JSONL)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"MBPP file not found: {path}")
    try:
        text = _read_text(path)
    except (UnicodeDecodeError, OSError, EOFError) as error:
        raise MBPPFormatError(f"{path}, line 1: cannot read as UTF-8 text ({error})") from None
    stripped = text.lstrip()
    if not stripped:
        raise MBPPFormatError(f"{path}, line 1: the file is empty")
    rows = _json_list_records(text, path) if stripped.startswith("[") else _jsonl_records(text, path)
    return [_validate(record, path, line) for line, record in rows]


# --------------------------------------------------------------------------- the hub


def _forced_offline() -> contextlib.ExitStack:
    """Patch the hub libraries' import-time offline flags, so only the cache is used."""
    stack = contextlib.ExitStack()
    for module_name in ("huggingface_hub.constants", "datasets.config"):
        try:
            module = __import__(module_name, fromlist=["_"])
        except ImportError:
            continue
        for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
            if hasattr(module, flag):
                stack.enter_context(mock.patch.object(module, flag, True))
    return stack


def _hub_records(split: str, dataset: str) -> list[tuple[str, dict]]:
    """`(split, record)` pairs from the hub or its cache; `MBPPUnavailable` if neither answers."""
    offline = offline_mode() or not hub_reachable()
    try:
        import datasets

        rows: list[tuple[str, dict]] = []
        with _forced_offline() if offline else contextlib.nullcontext():
            for name in SPLITS if split == "all" else (split,):
                rows.extend((name, dict(row)) for row in datasets.load_dataset(dataset, HUB_CONFIG, split=name))
    except Exception as error:  # no network, no cache, a hub error...
        raise MBPPUnavailable(UNAVAILABLE_HINT) from error
    return [(name, _validate(row, f"{dataset}:{HUB_CONFIG}", index + 1)) for index, (name, row) in enumerate(rows)]


@lru_cache(maxsize=8)
def _hub_problems(split: str, dataset: str) -> tuple[Problem, ...]:
    # the hub's own split labels are kept (they follow the same task-id ranges)
    return tuple(_to_problem(record, name) for name, record in _hub_records(split, dataset))


# --------------------------------------------------------------------------- records → problems


def _top_level_defs(module: ast.Module | None) -> dict[str, ast.FunctionDef]:
    if module is None:
        return {}
    return {
        node.name: node
        for node in module.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def find_entry_point(code: str, test_list: list[str]) -> str:
    """The function the tests call: the outermost call naming a top-level def of `code`."""
    defs = _top_level_defs(_parse(code))
    for test in test_list:
        module = _parse(test.strip())
        if module is None:
            continue
        for node in ast.walk(module):  # breadth first: outer calls come first
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defs:
                return node.func.id
    if defs:
        return list(defs)[-1]
    for test in test_list:  # no parsable code: the first called name in the tests
        module = _parse(test.strip())
        for node in ast.walk(module) if module is not None else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                return node.func.id
    raise ValueError("cannot tell which function the tests call")


def _docstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _example(test: str, entry_point: str, case: TestCase | None) -> list[str]:
    if case is not None:
        call = f"{entry_point}({', '.join(repr(arg) for arg in case.args)})"
        return [f">>> {call}", repr(case.expected)]
    return ["For example:", test.strip()]


def build_prompt(code: str, entry_point: str, statement: str, example: list[str]) -> tuple[str, str]:
    """A HumanEval-style prompt (imports, `def` line, docstring) and the `def` line."""
    module = _parse(code)
    lines = code.splitlines()
    imports: list[str] = []
    signature = f"def {entry_point}(*args):"
    if module is not None:
        for node in module.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(ast.get_source_segment(code, node) or ast.unparse(node))
        node = _top_level_defs(module).get(entry_point)
        if node is not None:
            start = node.lineno - 1
            end = max(node.body[0].lineno - 1, start + 1)
            header = "\n".join(line.rstrip() for line in lines[start:end]).strip()
            # a one-line body on the def line (`def f(x): return x`) is cut off
            if not header.endswith(":") or node.body[0].lineno == node.lineno:
                header = ast.unparse(node).splitlines()[0]
                if not header.rstrip().endswith(":"):
                    header = f"def {entry_point}({ast.unparse(node.args)}):"
            signature = header
    doc = [_docstring_text(line) for line in statement.strip().splitlines()]
    doc += [""] + [_docstring_text(line) for line in example]
    body = "\n".join(f"    {line}" if line else "" for line in doc)
    head = "\n".join(imports) + "\n\n\n" if imports else ""
    prompt = f'{head}{signature}\n    """{body.lstrip()}\n    """\n'
    return prompt, signature


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == self.old:
            return ast.copy_location(ast.Name(id=self.new, ctx=node.ctx), node)
        return node


def build_check(test_list: list[str], test_imports: list[str], entry_point: str) -> str:
    """`def check(candidate):` running the imports and the asserts against `candidate`."""
    lines = ["def check(candidate):"]
    lines += [f"    {line.strip()}" for line in test_imports if line.strip()]
    for test in test_list:
        module = _parse(test.strip())
        if module is None:
            lines.append(f"    {test.strip()}")
            continue
        renamed = _Rename(entry_point, "candidate").visit(module)
        lines += [f"    {line}" for line in ast.unparse(ast.fix_missing_locations(renamed)).splitlines()]
    return "\n".join(lines) + "\n"


def _to_problem(record: dict, split: str | None = None) -> Problem:
    task_id = record["task_id"]
    code = record["code"].replace("\r\n", "\n")
    statement = record["prompt"].strip()
    test_list = record["test_list"]
    test_imports = [line for line in record["test_imports"] if line.strip()]
    reference = ("\n".join(test_imports) + "\n\n" + code) if test_imports else code
    entry_point = find_entry_point(code, test_list)

    conversion = convert_asserts(test_list, entry_point)
    tests, meta = verified_cases(conversion, reference, entry_point)
    literal = meta["literal"]

    # the example shows the first test as a verified literal case, else as the assert
    first = _first_case(test_list[0], entry_point)
    example = next((case for case in tests if first is not None and case.args == first.args), None)
    prompt, signature = build_prompt(code, entry_point, statement, _example(test_list[0], entry_point, example))

    meta = {"mbpp_task_id": task_id, **meta}
    return Problem(
        task_id=f"MBPP/{task_id}",
        prompt=prompt,
        entry_point=entry_point,
        reference=reference,
        tests=tests,
        suite=SUITE,
        split=split or split_of(task_id),
        statement=statement,
        signature=signature,
        check=None if literal else build_check(test_list, test_imports, entry_point),
        meta=meta,
    )


def _first_case(test: str, entry_point: str) -> TestCase | None:
    single = convert_asserts([test], entry_point)
    return single.cases[0] if single.literal else None


@lru_cache(maxsize=8)
def _file_problems(path: str, stamp: tuple) -> tuple[Problem, ...]:
    return tuple(_to_problem(record) for record in read_mbpp_file(path))


def load_mbpp(split: str = "test", path: str | os.PathLike | None = None) -> list[Problem]:
    """One split of sanitized MBPP (`"all"` for every record), from `path` or the hub."""
    _check_split(split)
    if path is not None:
        path = os.path.abspath(os.fspath(path))
        if not os.path.exists(path):
            raise FileNotFoundError(f"MBPP file not found: {path}")
        stat = os.stat(path)
        problems = _file_problems(path, (stat.st_mtime_ns, stat.st_size))
    else:
        problems = _hub_problems(split, HUB_DATASET)
    return [copy.deepcopy(p) for p in problems if split == "all" or p.split == split]


__all__ = [
    "MBPPFormatError",
    "MBPPUnavailable",
    "SPLITS",
    "build_check",
    "build_prompt",
    "find_entry_point",
    "PROBE_SECONDS",
    "hub_reachable",
    "load_mbpp",
    "offline_mode",
    "read_mbpp_file",
    "split_of",
]
