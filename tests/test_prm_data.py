"""The PRM-data benchmark's summary: which runs it pairs, whatever order the commands ran in."""

import json

import pytest
from conftest import load_benchmark


def _script():
    return load_benchmark("prm_data")


def _run(labels, seed, size, draw, scores, hidden=None):
    """A run scoring four held-out steps (two problems); truth: valid, invalid | valid, invalid."""
    truth = [True, False, True, False]
    held = [[[s, y] for s, y in zip(scores[:2], truth[:2])], [[s, y] for s, y in zip(scores[2:], truth[2:])]]
    return {"labels": labels, "seed": seed, "size": size, "draw": draw, "hidden": hidden, "profile": "tiny", "smoke": False,
            "held_out": held}


RIGHT, WRONG = [0.9, 0.1, 0.8, 0.2], [0.1, 0.9, 0.2, 0.8]  # step AUROC 1 and 0


def test_the_summary_pairs_runs_of_one_draw_and_prefers_the_smallest_draw():
    prm_data = _script()
    runs = [_run("reference", s, 60, 240, WRONG) for s in (0, 1, 2)]
    runs += [_run("reference", s, 60, 480, RIGHT) for s in (0, 1, 2)]  # the same size from a larger draw: not used
    runs += [_run("reference", s, 480, 480, RIGHT) for s in (0, 1, 2)]
    runs += [_run("reward", s, 480, 480, WRONG) for s in (0, 1, 2)]
    runs += [_run("reference", s, 240, 240, RIGHT, hidden=256) for s in (0, 1, 2)]  # a wider backbone, no chapter twin at 240
    runs += [_run("reward", s, 960, 960, RIGHT) for s in (0, 1)]  # a seed missing: no summary at 960
    for order in (runs, runs[::-1]):
        summary = prm_data.summarise(order)
        assert summary["labels=reference"]["step_auroc_60"]["value"] == 0.0  # the 240 draw's, not the 480's
        assert summary["labels=reference"]["step_auroc_480_minus_60"]["value"] == 1.0
        assert summary["labels=reference-reward"] == {"step_auroc_480": summary["labels=reference-reward"]["step_auroc_480"]}
        assert summary["labels=reference-reward"]["step_auroc_480"]["value"] == 1.0  # the same trees, one per label source
        assert "step_auroc_960" not in summary["labels=reward"]
        assert set(summary["labels=reference hidden=256"]) == {"step_auroc_240"}


def test_pair_wise_runs_are_summarised_apart_with_their_pair_accuracy():
    prm_data = _script()
    runs = [_run("reference", s, 480, 480, RIGHT) for s in (0, 1, 2)]
    pairwise = [dict(_run("reference", s, 480, 480, WRONG), kind="pairwise", pairs_held_out=[[1.0, 0.0], []]) for s in (0, 1, 2)]
    summary = prm_data.summarise(runs + pairwise)
    assert summary["labels=reference"]["step_auroc_480"]["value"] == 1.0 and "pair_accuracy_480" not in summary["labels=reference"]
    assert summary["labels=reference kind=pairwise"]["step_auroc_480"]["value"] == 0.0
    assert summary["labels=reference kind=pairwise"]["pair_accuracy_480"]["value"] == 0.5
    no_pairs = [dict(run, pairs_held_out=[[], []]) for run in pairwise]  # held-out trees without a sibling pair (micro runs)
    assert "pair_accuracy_480" not in prm_data.summarise(runs + no_pairs)["labels=reference kind=pairwise"]


def test_a_wider_backbone_is_paired_with_the_chapters_on_the_same_trees_and_steps():
    prm_data = _script()
    runs = [_run("reference", s, 240, 240, WRONG) for s in (0, 1, 2)]
    runs += [_run("reference", s, 240, 240, RIGHT, hidden=256) for s in (0, 1, 2)]
    summary = prm_data.summarise(runs)
    assert summary["labels=reference hidden=256"]["step_auroc_240_minus_chapter_backbone"]["value"] == 1.0
    assert summary["labels=reference"]["step_auroc_240"]["value"] == 0.0
    other_steps = _run("reference", 0, 240, 240, RIGHT, hidden=256)
    other_steps["held_out"][0][0][1] = False  # seed 0 scored other held-out steps
    with pytest.raises(ValueError, match="same held-out items"):
        prm_data.summarise(runs[:3] + [other_steps] + runs[4:])


def test_only_tiny_runs_go_in_the_measured_file(tmp_path):
    prm_data = _script()
    for argv in (["--smoke"], ["--profile", "qwen2.5-0.5b-instruct"]):
        with pytest.raises(SystemExit, match="only tiny runs go in the measured file"):
            prm_data.main(argv)
    out = tmp_path / "prm.json"  # saving merges with what another command wrote meanwhile
    out.write_text(json.dumps({"runs": {"theirs": _run("reward", 0, 60, 60, RIGHT)}}))
    written = prm_data.save(out, {"runs": {"ours": _run("reference", 0, 60, 60, RIGHT)}}, "tiny", False)
    assert set(written["runs"]) == {"theirs", "ours"} and set(json.loads(out.read_text())["runs"]) == {"theirs", "ours"}
    assert [written["runs"][k]["step_auroc"] for k in ("theirs", "ours")] == [1.0, 1.0]  # derived from the runs as stored
