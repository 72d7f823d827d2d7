"""The package's layout rules, checked on its source: mechanisms never import
stages, the search sits below the models, heavy libraries are imported only
where they are used, and each rule has exactly one definition."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "o1lite"
STAGES = PACKAGE / "stages"
RUNNER = {"reproduce.py", "__main__.py", "launch.py", "checkpoints.py"}  # the command lines sit above everything
HEAVY = {"torch", "transformers", "trl", "peft", "datasets", "matplotlib", "seaborn", "tqdm", "pandas", "numpy", "tokenizers"}
# internal modules that import a heavy library at their top: a stage imports them inside the function that needs them
HEAVY_INTERNAL = {"models", "generation", "training", "evaluate", "plots"}


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module name, at module top?) for every import in a file."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            names = [f"{name}.{alias.name}" for alias in node.names] if not node.module else [name]
            found += [(n, id(node) in top) for n in names]
    return found


def test_no_mechanism_imports_a_stage():
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules() if STAGES not in path.parents and path.name not in RUNNER
        for name, _ in imports(path) if name.startswith("o1lite.stages")
    ]
    assert not offenders, offenders


def test_the_search_sits_below_the_models():
    names = {name for name, _ in imports(STAGES / "mcts.py")}
    forbidden = {f"o1lite.{m}" for m in ("models", "training", "generation")} | {f"o1lite.stages.{m}" for m in ("policies", "prompts")}
    assert not {n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)}


def test_heavy_libraries_are_imported_lazily_by_stages():
    for path in sorted(STAGES.glob("*.py")):
        for name, at_top in imports(path):
            head = name.split(".")[0]
            internal = name.split(".")[1] if name.startswith("o1lite.") and name.count(".") >= 1 else None
            if at_top:
                assert head not in HEAVY and internal not in HEAVY_INTERNAL, f"{path.name} imports {name} at its top"
            elif head == "o1lite" and internal not in HEAVY_INTERNAL:
                pytest.fail(f"{path.name} imports the cheap module {name} inside a function: import it at the top")


def test_the_command_line_and_the_search_start_without_torch():
    code = "import sys, o1lite.sandbox, o1lite.sandbox.cli, o1lite.stages.mcts, o1lite.stages.prompts, o1lite.record; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# Each rule, and the pattern that would betray a second copy of it.
ONE_DEFINITION = {
    "exact equality": r"def exact_equal\b",
    "unbiased pass@k": r"def pass_at_k\b",
    "ASPR": r"def (aspr|sampling_pass_rate)\b|passed_reference\) for n in terminals\) /",
    "a program from a model's code": r"\+ function_body\(",
    "a hardware description": r"/proc/cpuinfo",
    "a literal value": r"def _?is_literal\b",
    "load an adapter and merge it": r"merge_and_unload\(",
    "a config hash": r"hexdigest\(\)",
    "walk a path to the root": r"while .*parent",
}


@pytest.mark.parametrize("rule", ONE_DEFINITION)
def test_each_rule_has_one_definition(rule):
    pattern = re.compile(ONE_DEFINITION[rule])
    found = [f"{path.relative_to(PACKAGE)}:{n}" for path in modules()
             for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert len(found) == 1, found


def test_names_with_one_meaning():
    defined: dict[str, list[str]] = {}
    for path in modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                defined.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    for name in ("Step", "evaluate", "judge"):
        assert name not in defined, f"{name} is ambiguous: {defined[name]}"
    twice = {name: where for name, where in defined.items() if len(where) > 1 and name not in {"main"}}
    assert not twice, twice
