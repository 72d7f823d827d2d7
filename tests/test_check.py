"""`python -m o1lite check`: a re-run's metrics against the committed ones."""

import io
import json

from o1lite.check import check


def write(folder, chapter, record):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{chapter}_metrics.json").write_text(json.dumps(record))


COMMITTED = {
    "pass_dpo": 0.70, "pass_dpo_ci95": [0.64, 0.76], "pass_dpo_n": 100,
    "pass_dpo_minus_sft": 0.09, "pass_dpo_minus_sft_ci95": [0.03, 0.15],
    "mutation_dpo_minus_sft": -0.01, "mutation_dpo_minus_sft_ci95": [-0.05, 0.03],
    "dpo_pairs": 193, "sft_seconds": 25.0, "volatile": ["sft_seconds"], "profile": "tiny",
}


def run(tmp_path, rerun):
    write(tmp_path / "committed", "02", COMMITTED)
    write(tmp_path / "rerun", "02", {**COMMITTED, **rerun})
    out = io.StringIO()
    status = check(str(tmp_path / "committed"), tmp_path / "rerun", stream=out)
    return status, out.getvalue()


def test_a_rerun_within_tolerance_agrees_and_timings_are_not_compared(tmp_path):
    status, text = run(tmp_path, {"pass_dpo": 0.73, "pass_dpo_minus_sft": 0.05, "pass_dpo_minus_sft_ci95": [0.01, 0.09],
                                  "mutation_dpo_minus_sft": 0.04, "mutation_dpo_minus_sft_ci95": [0.0, 0.08],
                                  "sft_seconds": 90.0, "dpo_pairs": 150})
    assert status == 0, text
    assert "all agree" in text and "no direction stated" in text
    assert "sft_seconds" not in text  # volatile: listed only with --verbose


def test_a_number_outside_the_committed_interval_disagrees(tmp_path):
    status, text = run(tmp_path, {"pass_dpo": 0.62})
    assert status == 1 and "DIFFERS" in text and "pass_dpo " in text


def test_a_stated_direction_that_does_not_hold_disagrees(tmp_path):
    status, text = run(tmp_path, {"pass_dpo_minus_sft": 0.02, "pass_dpo_minus_sft_ci95": [-0.03, 0.07]})
    assert status == 1 and "CI > 0" in text and "DIFFERS" in text


def test_a_missing_key_disagrees_and_nothing_to_compare_is_status_2(tmp_path):
    rerun = dict(COMMITTED)
    del rerun["pass_dpo"]
    write(tmp_path / "committed", "02", COMMITTED)
    write(tmp_path / "rerun", "02", rerun)
    assert check(str(tmp_path / "committed"), tmp_path / "rerun", stream=io.StringIO()) == 1
    (tmp_path / "empty").mkdir()
    assert check(str(tmp_path / "committed"), tmp_path / "empty", stream=io.StringIO()) == 2


def test_a_rerun_on_another_kernel_path_is_named(tmp_path):
    machine = {"cpu": "AMD EPYC", "cores": 2, "kernel_path": "AVX2", "threads": 2}
    for folder, path in (("committed", "AVX2"), ("rerun", "AVX512")):
        write(tmp_path / folder, "02", COMMITTED)
        (tmp_path / folder / "manifest.json").write_text(json.dumps({"machine": {**machine, "kernel_path": path}}))
    out = io.StringIO()
    assert check(str(tmp_path / "committed"), tmp_path / "rerun", stream=out) == 0  # a note, not a disagreement
    assert "kernel_path AVX2 → AVX512" in out.getvalue() and "run with nothing set" in out.getvalue()
    (tmp_path / "rerun" / "manifest.json").write_text(json.dumps({"machine": machine}))
    out = io.StringIO()
    check(str(tmp_path / "committed"), tmp_path / "rerun", stream=out)
    assert "float path" not in out.getvalue()  # the same path: nothing to say
