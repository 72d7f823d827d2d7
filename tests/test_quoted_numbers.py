"""Every number the chapters, the README and RESULTS.md quote from a run agrees with the
committed metrics file, and every direction they state has a CI that excludes 0.

A quoted number names its metric right after it, in the text a reader sees:
`**0.61** [0.55, 0.68] (`tcg_pass_rate_sft`)`, or `(`02:tcg_pass_rate_sft`)`
outside the chapter's own notebook. The value (and the CI, when quoted)
must equal the metrics file's, rounded as quoted. For a difference
(`<a>_minus_<b>`), the sentence that quotes it says "no difference we can
detect" exactly when its CI holds 0. In a chapter's "What you should see",
every bold number names its metric, so no headline can go stale unnoticed.
"""

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBER = r"[-+−]?\d+(?:\.\d+)?"
QUOTE = re.compile(rf"\**({NUMBER})\**(?:\s*\[({NUMBER}),\s*({NUMBER})\])?\s*\(`(?:(\d\d):)?([a-z0-9_]+)`\)")
NO_DIFFERENCE = "no difference we can detect"


def metrics(chapter: str) -> dict:
    path = ROOT / "figures" / f"{chapter}_metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def sentence_around(text: str, start: int, end: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), text.rfind("; ", 0, start))
    rights = [i for i in (text.find(". ", end), text.find("\n", end), text.find("; ", end)) if i != -1]
    return text[left + 1: min(rights) if rights else len(text)]


def problems_in(text: str, default_chapter: str | None) -> list[str]:
    problems = []
    for match in QUOTE.finditer(text):
        value, low, high, chapter, key = match.groups()
        chapter = chapter or default_chapter
        recorded = metrics(chapter) if chapter else {}
        where = f"{value} ({chapter}:{key})"
        if key not in recorded:
            problems.append(f"{where}: no such key in figures/{chapter}_metrics.json")
            continue
        if recorded[key] is None:
            problems.append(f"{where}: recorded as null")
            continue
        if abs(number(value) - recorded[key]) > 0.5 * 10 ** -decimals(value) + 1e-9:
            problems.append(f"{where}: the metrics file says {recorded[key]}")
        if low is not None:
            ci = recorded.get(f"{key}_ci95")
            if not ci or any(abs(number(q) - r) > 0.5 * 10 ** -decimals(q) + 1e-9 for q, r in zip((low, high), ci)):
                problems.append(f"{where}: CI [{low}, {high}] quoted, the metrics file says {ci}")
        if "_minus_" in key and f"{key}_ci95" in recorded:
            ci_low, ci_high = recorded[f"{key}_ci95"]
            holds_zero = ci_low <= 0 <= ci_high
            says_none = NO_DIFFERENCE in sentence_around(text, match.start(), match.end())
            if holds_zero and not says_none:
                problems.append(f"{where}: its CI {recorded[f'{key}_ci95']} holds 0, so the sentence must say '{NO_DIFFERENCE}'")
            if says_none and not holds_zero:
                problems.append(f"{where}: its CI {recorded[f'{key}_ci95']} excludes 0, but the sentence says '{NO_DIFFERENCE}'")
    return problems


def what_you_should_see(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "## What you should see" in cell.source:
            section = cell.source.split("## What you should see", 1)[1]
            return section.split("\n## ", 1)[0]
    return ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_quoted_numbers_match_the_metrics(path):
    notebook = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert not problems_in(text, path.name[:2])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_headline_numbers_name_their_metric(path):
    section = what_you_should_see(nbformat.read(path, as_version=4))
    bold = [m for m in re.finditer(rf"\*\*({NUMBER})\*\*", section)]
    untagged = [m.group(0) for m in bold if not QUOTE.match(section, m.start())]
    assert not untagged, f"bold numbers without a (`metric`) after them: {untagged}"


@pytest.mark.parametrize("name", ["README.md", "RESULTS.md"])
def test_readme_and_results_numbers_match_the_metrics(name):
    assert not problems_in((ROOT / name).read_text(), None)


def test_the_checker_catches_a_wrong_number_and_a_wrong_direction(tmp_path, monkeypatch):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "09_metrics.json").write_text(json.dumps({
        "a": 0.5, "a_ci95": [0.4, 0.6], "x_minus_y": 0.1, "x_minus_y_ci95": [-0.02, 0.2]}))
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert problems_in("pass rate **0.50** [0.40, 0.60] (`a`)", "09") == []
    assert problems_in("pass rate **0.52** (`a`)", "09")
    assert problems_in("pass rate 0.50 [0.40, 0.70] (`09:a`)", None)
    assert problems_in("DPO raises it by +0.10 (`x_minus_y`).", "09")
    assert problems_in("+0.10 (`x_minus_y`): no difference we can detect.", "09") == []
