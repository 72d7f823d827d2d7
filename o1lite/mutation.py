"""Mutation testing: buggy variants of a reference program, made with `ast`.

A test set is only as good as the bugs it catches. `mutants(program)` makes
small, plausible bugs in a correct program, one edit each:

- `operator`: an arithmetic, comparison or boolean operator swapped
  (`+` for `-`, `<` for `<=`, `and` for `or`, `%` for `//`, ...);
- `off_by_one`: an integer constant moved by one (`x > 3` becomes `x > 4`);
- `constant`: a constant replaced by a wrong one (an int by 0, a string
  shortened by a character);
- `call`: a built-in swapped for a look-alike (`min`/`max`, `sum`/`len`,
  `sorted`/`list`);
- `drop_condition`: a condition removed (an `if` clause of a comprehension,
  or an `if` statement replaced by its body);
- `drop_line`: one statement of a function body removed.

Mutants come in a fixed order (the program's own node order), duplicates and
no-op edits removed, each one compiled to check it is valid Python; so the
same program always gives the same mutants. `distinguishable` then runs the
reference and every mutant in the sandbox and keeps the mutants that return
something different on at least one input: a mutant nothing could tell from
the reference (an *equivalent* mutant) would unfairly count against every
test set. `mutants_caught` counts which mutants a test set catches.

This module never runs a mutant itself: everything executes in
`o1lite.sandbox`. Introduced in chapter 02.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Callable, Sequence

KINDS = ("operator", "off_by_one", "constant", "call", "drop_condition", "drop_line")

_BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult,
                ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
_COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                  ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BOOL_SWAPS = {ast.And: ast.Or, ast.Or: ast.And}
_CALL_SWAPS = {"min": "max", "max": "min", "sum": "len", "len": "sum", "sorted": "list", "any": "all", "all": "any"}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
            ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
            ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    """One buggy variant: what kind of edit, a short description, the program."""

    kind: str
    description: str
    program: str


# An edit is (node index in ast.walk order, kind, description, function applied to that node of a copy).
_Edit = tuple[int, str, str, Callable[[ast.AST], None]]


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _set_attr(name: str, value: Any) -> Callable[[ast.AST], None]:
    def apply(node: ast.AST) -> None:
        setattr(node, name, value)
    return apply


def _set_compare_op(position: int, op_type: type) -> Callable[[ast.AST], None]:
    def apply(node: ast.AST) -> None:
        node.ops[position] = op_type()
    return apply


def _remove_from(field: str, position: int) -> Callable[[ast.AST], None]:
    def apply(node: ast.AST) -> None:
        del getattr(node, field)[position]
    return apply


def _inline_if(field: str, position: int) -> Callable[[ast.AST], None]:
    def apply(node: ast.AST) -> None:
        statements = getattr(node, field)
        statements[position : position + 1] = statements[position].body
    return apply


def _edits(tree: ast.AST) -> list[_Edit]:
    """Every single-node edit of the tree, in `ast.walk` order."""
    docstrings = _docstrings(tree)
    edits: list[_Edit] = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            new = _BINOP_SWAPS[type(node.op)]
            edits.append((index, "operator", f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[new]}", _set_attr("op", new())))
        elif isinstance(node, ast.Compare):
            for position, op in enumerate(node.ops):
                if type(op) in _COMPARE_SWAPS:
                    new = _COMPARE_SWAPS[type(op)]
                    edits.append((index, "operator", f"{_SYMBOLS[type(op)]} -> {_SYMBOLS[new]}", _set_compare_op(position, new)))
        elif isinstance(node, ast.BoolOp):
            new = _BOOL_SWAPS[type(node.op)]
            edits.append((index, "operator", f"{_SYMBOLS[type(node.op)]} -> {_SYMBOLS[new]}", _set_attr("op", new())))
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            value = node.value
            if isinstance(value, int) and not isinstance(value, bool):
                edits.append((index, "off_by_one", f"{value} -> {value + 1}", _set_attr("value", value + 1)))
                edits.append((index, "off_by_one", f"{value} -> {value - 1}", _set_attr("value", value - 1)))
                if value not in (0, 1, -1):
                    edits.append((index, "constant", f"{value} -> 0", _set_attr("value", 0)))
            elif isinstance(value, str):
                new_text = value[:-1] if value else " "
                edits.append((index, "constant", f"{value!r} -> {new_text!r}", _set_attr("value", new_text)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALL_SWAPS:
            new_name = _CALL_SWAPS[node.func.id]
            edits.append((index, "call", f"{node.func.id}() -> {new_name}()", _set_attr("func", ast.Name(new_name, ast.Load()))))
        if isinstance(node, ast.comprehension):
            for position, _ in enumerate(node.ifs):
                edits.append((index, "drop_condition", f"drop comprehension condition {position + 1}", _remove_from("ifs", position)))
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list) or not statements or not isinstance(statements[0], ast.stmt):
                continue
            for position, statement in enumerate(statements):
                if isinstance(statement, ast.If):
                    edits.append((index, "drop_condition", f"drop the condition on line {statement.lineno}", _inline_if(field, position)))
                in_function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                is_docstring = isinstance(statement, ast.Expr) and id(getattr(statement, "value", None)) in docstrings
                if in_function and field == "body" and len(statements) > 1 and not is_docstring:
                    edits.append((index, "drop_line", f"drop line {statement.lineno}", _remove_from(field, position)))
    return edits


def _round_robin(items: list[Mutant], limit: int) -> list[Mutant]:
    """Up to `limit` mutants, taking the kinds in turn so every kind is represented."""
    by_kind = {kind: [m for m in items if m.kind == kind] for kind in KINDS}
    chosen: list[Mutant] = []
    while len(chosen) < limit and any(by_kind.values()):
        for kind in KINDS:
            if by_kind[kind] and len(chosen) < limit:
                chosen.append(by_kind[kind].pop(0))
    order = {id(m): i for i, m in enumerate(items)}
    return sorted(chosen, key=lambda m: order[id(m)])


def mutants(program: str, limit: int | None = None) -> list[Mutant]:
    """Syntactically valid single-edit variants of `program`, in a fixed order.

    Programs that do not parse give no mutants. With `limit`, the kinds are
    taken in turn (an operator swap, an off-by-one, ...) until `limit` are
    chosen, then returned in program order.
    """
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return []
    original = ast.unparse(tree)
    seen = {original}
    found: list[Mutant] = []
    for index, kind, description, apply in _edits(tree):
        variant = copy.deepcopy(tree)
        node = next(n for i, n in enumerate(ast.walk(variant)) if i == index)
        apply(node)
        try:
            ast.fix_missing_locations(variant)
            text = ast.unparse(variant)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError, RecursionError):
            continue
        if text in seen:
            continue
        seen.add(text)
        found.append(Mutant(kind, description, text + "\n"))
    return found if limit is None else _round_robin(found, limit)


def _same_outcome(reference, outcome) -> bool:
    from .sandbox import exact_equal

    if reference.status != outcome.status:
        return False
    return reference.status != "ok" or exact_equal(reference.value, outcome.value)


def distinguishable(sandbox, program: str, entry_point: str, candidates: Sequence[Mutant],
                    inputs: Sequence[tuple]) -> list[Mutant]:
    """The mutants that behave differently from `program` on some input (run in the sandbox).

    Inputs on which the reference itself fails are ignored; a mutant that
    raises or times out where the reference returns is different.
    """
    if not candidates or not inputs:
        return []
    runs = sandbox.call_many([(program, entry_point, inputs)] + [(m.program, entry_point, inputs) for m in candidates])
    reference = runs[0]
    kept = []
    for mutant, outcomes in zip(candidates, runs[1:]):
        if any(ref.ok and not _same_outcome(ref, out) for ref, out in zip(reference, outcomes)):
            kept.append(mutant)
    return kept


def mutants_caught(sandbox, entry_point: str, candidates: Sequence[Mutant], cases: Sequence) -> list[bool]:
    """For each mutant, whether some case in `cases` fails on it.

    `cases` must already be correct for the reference (the caller checks);
    with no cases, nothing is caught.
    """
    if not candidates:
        return []
    if not cases:
        return [False] * len(candidates)
    results = sandbox.run_many([(m.program, entry_point, list(cases)) for m in candidates])
    return [not result.passed for result in results]


__all__ = ["KINDS", "Mutant", "mutants", "distinguishable", "mutants_caught"]
