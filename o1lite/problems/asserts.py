"""Turn assert-based checks into literal `TestCase`s.

HumanEval ships each problem's tests as a `check(candidate)` function and MBPP
as a list of assert strings.  Both mostly consist of lines such as

    assert candidate([1, 2], 3) == [3, 4]

which say exactly what a literal case says: these arguments, this return
value.  This module recognises those lines with `ast` and evaluates their
argument and expected expressions in the calling process.  The sources come
from trusted packages (or a file the user chose), so evaluation is
restricted rather than sandboxed: `ast.literal_eval` first, then `eval` with
no builtins except a short whitelist (`range`, `len`, `sorted`, ...) for
literal-ish expressions such as `[1] * 5` or `list(range(10))`.

Recognised assert shapes (`f` is the callee: `candidate` for HumanEval, the
entry point's name for MBPP):

- `assert f(args) == expr` and `assert expr == f(args)`;
- `assert f(args)` (expects `True`) and `assert not f(args)` (expects `False`);
- `assert f(args) is True`, `is False`, `is None`;
- any of these in parentheses or with a trailing message (`assert ..., "msg"`).

Harmless lines are skipped: a docstring, `pass`, a `print(...)` call (or a bare `print`),
`assert True`.  Simple assignments of constants (`METADATA = {...}` at module
level, `lst = list(range(5))` inside the check) are evaluated the same
restricted way and may be used by later asserts.

Everything else makes the check non-convertible, and the first reason is
reported as `"kind: detail"`: `loop` (a `for`/`while`), `float tolerance`
(`abs(f(x) - y) < 1e-6`, `math.isclose`), `comparison` (`!=`, `<`, `in`,
chained comparisons), `import`, `extra function`, `candidate in expression`
(the callee inside a comprehension, nested in another call, indexed, ...),
`keyword arguments`, `unsupported expression` (the restricted evaluation
failed: an unknown name, for instance), `non-literal value` (a value that
does not survive `repr` / `ast.literal_eval`, such as `float('inf')`) and
`unsupported statement`.  The cases converted before and after a rejected
line are still returned, so a caller can keep them as a partial set.

`exact_equal(a, b)` is the comparison a literal verdict uses: `==` plus the
same exact type at every level, so `True` is not `1` and `[1.0]` is not `[1]`.

`verify_cases` replays converted cases on a trusted reference solution in
this process, under a short timer, and applies the type rule shared by the
suites: when the reference's value is `==` to the literal but of another
type, the case keeps the reference's value (see `verify_cases`).

This module runs no candidate code (only trusted reference solutions, in
`verify_cases`) and does not import torch.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io
import math
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..sandbox.results import exact_equal
from .base import TestCase

#: Builtins the restricted evaluation may use (all pure, none reaches the system).
SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "bool", "chr", "dict", "enumerate", "float", "int", "len", "list", "max",
        "min", "ord", "range", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
    )
}


class NotConvertible(ValueError):
    """A statement that cannot become a literal case; `kind` names why."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass
class Conversion:
    """The literal cases found in a check, and why the rest could not be converted."""

    cases: list[TestCase] = field(default_factory=list)
    n_asserts: int = 0
    reason: str | None = None  # "kind: detail" of the first rejected line; None if none

    @property
    def literal(self) -> bool:
        """True when every assert became a case (and there was at least one)."""
        return self.reason is None and bool(self.cases)

    @property
    def reason_kind(self) -> str | None:
        return None if self.reason is None else self.reason.split(":", 1)[0]


# --------------------------------------------------------------------------- values


def is_literal(value: Any) -> bool:
    """`value` survives `repr` then `ast.literal_eval` unchanged, types included."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    try:
        back = ast.literal_eval(repr(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return exact_equal(back, value) and _finite(value)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, complex):
        return math.isfinite(value.real) and math.isfinite(value.imag)
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(k) and _finite(v) for k, v in value.items())
    return True


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id == name for sub in ast.walk(node))


def evaluate_expression(node: ast.expr, env: dict[str, Any], callee: str) -> Any:
    """Evaluate a literal-ish expression: `literal_eval`, else a restricted `eval`."""
    if _mentions(node, callee):
        raise NotConvertible("candidate in expression", ast.unparse(node))
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
                raise NotConvertible("unsupported expression", ast.unparse(node)) from None
            if isinstance(sub, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                raise NotConvertible("unsupported expression", ast.unparse(node)) from None
        code = compile(ast.Expression(body=node), "<check>", "eval")
        namespace = {"__builtins__": {}, **SAFE_BUILTINS, **env}
        try:
            value = eval(code, namespace)  # noqa: S307 - trusted source, no builtins
        except Exception as error:  # an unknown name, a module, ...
            raise NotConvertible(
                "unsupported expression", f"{ast.unparse(node)} ({type(error).__name__})"
            ) from None
    if not is_literal(value):
        raise NotConvertible("non-literal value", ast.unparse(node))
    return value


# --------------------------------------------------------------------------- statements


def _call_args(call: ast.Call, env: dict[str, Any], callee: str) -> tuple:
    if call.keywords:
        raise NotConvertible("keyword arguments", ast.unparse(call))
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        raise NotConvertible("unsupported expression", ast.unparse(call))
    return tuple(evaluate_expression(arg, env, callee) for arg in call.args)


def _is_callee_call(node: ast.AST, callee: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee


def _tolerance(node: ast.AST) -> bool:
    """An approximate comparison: `abs(...) < eps` or `math.isclose(...)`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("isclose", "allclose", "fabs") or (name == "abs" and isinstance(node, ast.Compare)):
                return True
    return False


def convert_assert(node: ast.Assert, callee: str, env: dict[str, Any] | None = None) -> TestCase | None:
    """One assert statement → a case; `None` for a trivial `assert True`."""
    env = env or {}
    test = node.test
    if isinstance(test, ast.Constant) and test.value is True:
        return None
    if not _mentions(test, callee):
        raise NotConvertible("unsupported statement", f"assert without {callee}: {ast.unparse(test)}")
    if _is_callee_call(test, callee):
        return TestCase(_call_args(test, env, callee), True)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _is_callee_call(test.operand, callee):
        return TestCase(_call_args(test.operand, env, callee), False)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq):
            if _is_callee_call(left, callee) and not _mentions(right, callee):
                return TestCase(_call_args(left, env, callee), evaluate_expression(right, env, callee))
            if _is_callee_call(right, callee) and not _mentions(left, callee):
                return TestCase(_call_args(right, env, callee), evaluate_expression(left, env, callee))
            raise NotConvertible("candidate in expression", ast.unparse(test))
        if (
            isinstance(op, ast.Is)
            and _is_callee_call(left, callee)
            and isinstance(right, ast.Constant)
            and (right.value is True or right.value is False or right.value is None)
        ):
            return TestCase(_call_args(left, env, callee), right.value)
    if _tolerance(test):
        raise NotConvertible("float tolerance", ast.unparse(test))
    if isinstance(test, ast.Compare):
        raise NotConvertible("comparison", ast.unparse(test))
    raise NotConvertible("candidate in expression", ast.unparse(test))


def _harmless(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return True  # a docstring or a bare string
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print":
            return True
        if isinstance(value, ast.Name) and value.id == "print":
            return True  # a bare `print` (HumanEval/129 has one)
    return False


def _assignment(node: ast.stmt, env: dict[str, Any], callee: str) -> bool:
    """Evaluate `name = literal-ish` into `env`; False if `node` is no such assignment."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        targets, value = [node.target], node.value
    elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        targets, value = node.targets, node.value
    else:
        return False
    result = evaluate_expression(value, env, callee)
    for target in targets:
        env[target.id] = result
    return True


def convert_statements(
    statements: Iterable[ast.stmt], callee: str, env: dict[str, Any] | None = None
) -> Conversion:
    """Convert a block of statements (a check's body, or MBPP's assert lines)."""
    env = {} if env is None else env
    out = Conversion()

    def reject(error: NotConvertible, node: ast.stmt) -> None:
        if out.reason is None:
            out.reason = f"{error.kind}: line {node.lineno}: {error.detail}".rstrip(": ")

    for node in statements:
        try:
            if isinstance(node, ast.Assert):
                out.n_asserts += 1
                case = convert_assert(node, callee, env)
                if case is not None:
                    out.cases.append(case)
            elif _harmless(node):
                continue
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                raise NotConvertible("import", ast.unparse(node))
            elif isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
                out.n_asserts += sum(isinstance(sub, ast.Assert) for sub in ast.walk(node))
                raise NotConvertible("loop", ast.unparse(node).splitlines()[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                raise NotConvertible("extra function", node.name)
            elif _assignment(node, env, callee):
                continue
            else:
                out.n_asserts += sum(isinstance(sub, ast.Assert) for sub in ast.walk(node))
                raise NotConvertible("unsupported statement", ast.unparse(node).splitlines()[0])
        except NotConvertible as error:
            reject(error, node)
    return out


def convert_check(source: str, callee: str = "candidate", function: str = "check") -> Conversion:
    """Convert a HumanEval-style test module holding `def check(candidate): ...`.

    Module-level constant assignments (`METADATA = {...}`) and docstrings are
    allowed; any other module-level code (imports, extra function definitions) makes
    the check non-convertible, because the check may depend on it.
    """
    try:
        module = ast.parse(source)
    except SyntaxError as error:
        return Conversion(reason=f"syntax error: {error.msg}")
    env: dict[str, Any] = {}
    checks = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == function]
    if len(checks) != 1:
        return Conversion(reason=f"unsupported statement: expected one `def {function}`")
    check = checks[0]
    params = [a.arg for a in check.args.args]
    callee = params[0] if params else callee
    prelude = convert_statements([n for n in module.body if n is not check], callee, env)
    body = convert_statements(check.body, callee, env)
    body.n_asserts += prelude.n_asserts
    body.cases = prelude.cases + body.cases
    if prelude.reason is not None:
        body.reason = prelude.reason
    return body


def convert_asserts(asserts: Iterable[str], callee: str, setup: Iterable[str] = ()) -> Conversion:
    """Convert a list of assert strings (MBPP's `test_list`) calling `callee`.

    `setup` lines (MBPP's `test_imports`) are only inspected: an import there
    does not by itself block conversion, but an assert that uses the imported
    module (`math.isclose(...)`) is rejected like any other.
    """
    statements: list[ast.stmt] = []
    out = Conversion()
    for index, text in enumerate(asserts, start=1):
        try:
            parsed = ast.parse(text.strip())
        except SyntaxError as error:
            out.reason = out.reason or f"syntax error: test {index}: {error.msg}"
            continue
        for node in parsed.body:
            ast.increment_lineno(node, index - 1)
            statements.append(node)
    converted = convert_statements(statements, callee)
    converted.reason = out.reason or converted.reason
    return converted


# --------------------------------------------------------------------------- verification

#: Seconds a reference solution may spend on all of one problem's cases.
VERIFY_SECONDS = 2.0


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise `_Timeout` after `seconds` (only on the main thread of a POSIX process)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):  # pragma: no cover - only when a solution hangs
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _reference_function(reference: str, entry_point: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"__name__": "o1lite_reference"}
    exec(compile(reference, f"<reference {entry_point}>", "exec"), namespace)  # noqa: S102 - trusted
    return namespace[entry_point]


def _loose_equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def verify_cases(
    reference: str, entry_point: str, cases: list[TestCase], seconds: float = VERIFY_SECONDS
) -> tuple[list[TestCase], int, str | None]:
    """Replay `cases` on a trusted reference program; returns `(cases, retyped, failure)`.

    Each case's arguments are deep-copied before the call.  A case whose
    value is `exact_equal` to the reference's is kept as is; one that is only
    `==` (a literal `1` where the reference returns `True`) keeps the
    reference's exactly-typed value and counts in `retyped`; anything else is
    a failure, and then no case is returned.  `failure` is `None` when the
    reference passes every case, else `"canonical mismatch: ..."`.
    """
    checked: list[TestCase] = []
    retyped = 0
    try:
        with _time_limit(seconds), contextlib.redirect_stdout(io.StringIO()):
            function = _reference_function(reference, entry_point)
            for index, case in enumerate(cases):
                got = function(*copy.deepcopy(case.args))
                if exact_equal(got, case.expected):
                    checked.append(case)
                elif _loose_equal(got, case.expected) and is_literal(got):
                    checked.append(TestCase(case.args, got))
                    retyped += 1
                else:
                    return [], 0, f"canonical mismatch: case {index}: got {got!r:.80}"
    except _Timeout:
        return [], 0, f"canonical mismatch: over {seconds:g} s"
    except Exception as error:  # the reference raised (or lacks the entry point)
        return [], 0, f"canonical mismatch: {type(error).__name__}: {error}"[:200]
    return checked, retyped, None



def verified_cases(conversion: Conversion, reference: str, entry_point: str) -> tuple[list[TestCase], dict[str, Any]]:
    """A conversion's cases checked on the reference, and the record of how it went.

    Returns `(tests, meta)`: `meta["literal"]` is True when every assert became
    a verified case; otherwise `meta["reason"]` says why not, and `tests` keeps
    whatever verified cases there are (`meta["partial_tests"]`).
    """
    reason = conversion.reason
    tests: list[TestCase] = []
    retyped = 0
    if conversion.cases:
        tests, retyped, failure = verify_cases(reference, entry_point, conversion.cases)
        reason = reason or failure
    elif reason is None:
        reason = "unsupported statement: no asserts"
    literal = reason is None and bool(tests)
    meta: dict[str, Any] = {"n_asserts": conversion.n_asserts, "literal": literal, "n_cases": len(tests), "retyped": retyped}
    if not literal:
        meta.update(reason=reason, reason_kind=reason.split(":", 1)[0], partial_tests=bool(tests))
    return tests, meta

__all__ = [
    "VERIFY_SECONDS",
    "verify_cases",
    "verified_cases",
    "Conversion",
    "NotConvertible",
    "SAFE_BUILTINS",
    "convert_assert",
    "convert_asserts",
    "convert_check",
    "convert_statements",
    "evaluate_expression",
    "exact_equal",
    "is_literal",
]
