"""The pipeline map and the checkpoints a chapter prints beside its headline numbers."""

from __future__ import annotations

import json

import pytest
from matplotlib.patches import FancyBboxPatch

from o1lite import teaching


def filled(fig) -> int:
    return sum(1 for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch) and p.get_facecolor()[:3] != (1.0, 1.0, 1.0))


@pytest.mark.parametrize("chapter, stages", [("02", ["tcg"]), ("04", ["mcts", "values"]), ("03", ["policy"]), ("08", [s for s, _, _ in teaching.PIPELINE])])
def test_the_map_fills_the_stages_a_chapter_builds(chapter, stages):
    assert teaching.stages_of(chapter) == stages
    fig = teaching.pipeline_map(chapter)
    assert filled(fig) == len(stages)
    assert sum(1 for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)) == len(teaching.PIPELINE)


def test_every_chapter_but_the_sandbox_and_results_owns_a_stage():
    owned = {c for _, _, chapters in teaching.PIPELINE for c in chapters}
    assert owned == {"00", "01", "02", "03", "04", "05", "06", "07"}


def test_checkpoint_compares_with_the_recorded_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(tmp_path))
    assert teaching.recorded("03") == {}
    assert "no recorded run" in teaching.checkpoint("pass_at_1", 0.5, {})
    (tmp_path / "03_metrics.json").write_text(json.dumps(
        {"profile": "tiny", "pass_at_1": 0.6, "pass_at_1_ci95": [0.5, 0.7], "pass_at_1_per_seed": [0.55, 0.65]}))
    before = teaching.recorded("03")
    inside = teaching.checkpoint("pass_at_1", {"value": 0.62, "ci95": [0.5, 0.72], "per_seed": [0.6, 0.64]}, before, "tiny")
    assert "your run 0.620 [0.500, 0.720]" in inside and "recorded run 0.600 [0.500, 0.700]" in inside
    assert "its seeds 0.550 to 0.650" in inside and "inside its 95% CI" in inside
    assert "OUTSIDE" in teaching.checkpoint("pass_at_1", 0.9, before, "tiny")
    assert "not comparable" in teaching.checkpoint("pass_at_1", 0.6, before, "qwen2.5-0.5b-instruct")
    (tmp_path / "05_metrics.json").write_text(json.dumps({"profile": "tiny", "auroc": None, "auroc_ci95": [None, None]}))
    assert "recorded run not measured" in teaching.checkpoint("auroc", float("nan"), teaching.recorded("05"), "tiny")
    assert capsys.readouterr().out.count("\n") == 5  # one line each


def test_every_exercise_cell_has_its_solution():
    """Each `teaching.solution("NN", k, ...)` a chapter calls names a function in solutions/NN.py
    (the smoke run, with SOLUTIONS = True, then runs it and the cell's check)."""
    import ast
    import re

    from o1lite.profiles import project_root

    root = project_root()
    calls = {}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        for chapter, number in re.findall(r'teaching\.solution\(\\"(\d\d)\\", (\d)', path.read_text()):
            calls.setdefault(chapter, set()).add(int(number))
    assert set(calls) == {"00", "01", "02", "03", "04"}
    for chapter, numbers in calls.items():
        tree = ast.parse((root / "solutions" / f"{chapter}.py").read_text())
        defined = {int(node.name.split("_")[1]) for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("exercise_")}
        assert numbers <= defined, (chapter, numbers - defined)
