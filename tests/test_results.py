"""Chapter 08's results: the verdict rule, rendering with chapters missing,
provenance, and the README's generated table kept up to date."""

import json
import shutil
from pathlib import Path

import pytest

from o1lite import results
from o1lite.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
UP = next(l for l in results.LESSONS if l.metric and l.direction > 0)
DOWN = next(l for l in results.LESSONS if l.metric and l.direction < 0)


def measured(lesson, value, low, high):
    return {lesson.chapter: {lesson.metric: value, f"{lesson.metric}_ci95": [low, high]}}


@pytest.mark.parametrize("lesson, ci, expected", [
    (UP, (0.01, 0.2), "reproduced"), (UP, (-0.05, 0.2), "not reproduced"), (UP, (-0.3, -0.1), "not reproduced"),
    (DOWN, (-0.3, -0.1), "reproduced"), (DOWN, (-0.1, 0.05), "not reproduced"), (DOWN, (0.1, 0.3), "not reproduced"),
])
def test_the_verdict_follows_the_ci_and_the_papers_direction(lesson, ci, expected):
    assert results.verdict(lesson, measured(lesson, sum(ci) / 2, *ci)) == expected


def test_missing_numbers_are_not_run_and_claims_without_a_metric_are_not_measurable():
    assert results.verdict(UP, {}) == "not run"
    assert results.verdict(UP, {UP.chapter: {UP.metric: 0.1}}) == "not run"  # no CI: nothing to decide on
    unmeasurable = [l for l in results.LESSONS if l.metric is None]
    assert unmeasurable and all(results.verdict(l, {}) == "not measurable here" for l in unmeasurable)


def test_a_ci_that_could_not_be_computed_is_not_run():
    assert results.verdict(UP, {UP.chapter: {UP.metric: 0.1, f"{UP.metric}_ci95": [None, None]}}) == "not run"
    assert results.verdict(UP, {UP.chapter: {UP.metric: 0.1, f"{UP.metric}_ci95": [float("nan"), 0.2]}}) == "not run"


def test_every_lesson_reads_its_own_difference():
    keys = [l.metric for l in results.LESSONS if l.metric]
    assert len(keys) == len(set(keys)) and all("_minus_" in key for key in keys)


def test_one_chapters_metrics_still_render(tmp_path):
    shutil.copy(ROOT / "figures" / "07_metrics.json", tmp_path)
    rows = results.lessons(results.load_metrics(tmp_path))
    assert {r["verdict"] for r in rows if r["lesson"].chapter not in ("07", None)} == {"not run"}
    assert any(r["verdict"] in ("reproduced", "not reproduced") for r in rows if r["lesson"].chapter == "07")
    table = results.readme_table(results.load_metrics(tmp_path))
    assert table.count("\n") == len(results.LESSONS) + 1 and "**not run**" in table
    assert results.provenance(tmp_path) == {"manifest": None, "stale": None}


def test_a_manifest_from_other_sources_is_stale(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"profile": "tiny", "commit": "abc", "sources": "not these", "chapters": []}))
    found = results.provenance(tmp_path)
    assert found["stale"] is True and found["commit"] == "abc"


def test_the_readme_holds_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    block = readme.split(results.README_START, 1)[1].split(results.README_END, 1)[0].strip()
    assert block == results.readme_table(results.load_metrics(ROOT / "figures")), "run: python -m o1lite results --readme README.md"


def test_the_command_writes_between_the_markers_and_refuses_a_file_without_them(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{results.README_START}\nold\n{results.README_END}\noutro\n")
    assert main(["results", "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text and results.readme_table() in text
    assert main(["results", "--readme", str(readme)]) == 0 and "already up to date" in capsys.readouterr().out
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="no results markers"):
        results.write_readme(readme)


def test_every_explanation_the_committed_table_gives_rests_on_facts_that_hold():
    """A `why_not` sentence is a claim about measured numbers: each lesson that did not reproduce in the
    committed figures and has one is shown with it, every fact it rests on holding there."""
    metrics = results.load_metrics(ROOT / "figures")
    for row in results.lessons(metrics):
        lesson = row["lesson"]
        if lesson.metric:  # a claim this project can measure (the others say why not in words only)
            assert not lesson.why_not or lesson.because, f"{lesson.name}: an explanation needs the facts it rests on"
        if row["verdict"] == "not reproduced" and lesson.why_not:
            failing = [fact.says for fact in lesson.because if fact.holds(metrics) is not True]
            assert not failing, f"{lesson.name}: its explanation no longer holds ({'; '.join(failing)}): rewrite it"
            assert row["why_not"] == lesson.why_not


def test_an_explanation_whose_facts_fail_or_are_missing_is_not_shown():
    lesson = next(l for l in results.LESSONS if l.name == "dpo_improves_tcg")
    (fact,) = lesson.because
    unchanged = measured(lesson, 0.0, -0.1, 0.1)
    holds = {"02": {**unchanged["02"], "tcg_distinct_correct_rate_dpo_minus_sft_more": -0.01, "tcg_distinct_correct_rate_dpo_minus_sft_more_ci95": [-0.1, 0.08]}}
    fails = {"02": {**unchanged["02"], "tcg_distinct_correct_rate_dpo_minus_sft_more": 0.1, "tcg_distinct_correct_rate_dpo_minus_sft_more_ci95": [0.02, 0.18]}}
    assert fact.holds(holds) is True and fact.holds(fails) is False and fact.holds(unchanged) is None
    row = lambda metrics: next(r for r in results.lessons(metrics) if r["lesson"] is lesson)
    assert row(holds)["why_not"] == lesson.why_not and lesson.why_not in results.readme_table(holds)
    assert row(fails)["why_not"] is None and lesson.why_not not in results.readme_table(fails)
    assert row(unchanged)["why_not"] is None


@pytest.mark.parametrize("fact, metrics, expected", [
    (results.between("05", "x", 0.4, 0.6), {"05": {"x": 0.5}}, True),
    (results.between("05", "x", 0.4, 0.6), {"05": {"x": 0.61}}, False),
    (results.share_at_least("07", "a", "b", 0.9), {"07": {"a": 0.9, "b": 1.0}}, True),
    (results.share_at_least("07", "a", "b", 0.9), {"07": {"a": 0.8, "b": 1.0}}, False),
    (results.share_at_least("07", "a", "b", 0.9), {"07": {"a": 0.8}}, None),
    (results.lower("03", "d"), {"03": {"d": -0.2, "d_ci95": [-0.3, -0.1]}}, True),
    (results.lower("03", "d"), {"03": {"d": -0.2, "d_ci95": [-0.3, 0.1]}}, False),
    (results.no_difference("06", "d"), {"06": {"d": 0.0, "d_ci95": [-0.1, 0.1]}}, True),
    (results.no_difference("06", "d"), {"06": {"d": 0.2, "d_ci95": [0.1, 0.3]}}, False),
    (results.no_difference("06", "d"), {"06": {"d": 0.2, "d_ci95": [None, None]}}, None),
])
def test_each_kind_of_fact_checks_what_it_says(fact, metrics, expected):
    assert fact.holds(metrics) is expected
