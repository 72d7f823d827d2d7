"""benchmarks/gpu_check.py's reading of the runner's output (the GPU run itself needs a GPU)."""

from conftest import load_benchmark

gpu_check = load_benchmark("gpu_check")

OUTPUT = """[1/9] 00_tiny_code_model · cell 1/35 · 0:02
[1/9] 00_tiny_code_model: ok (31.0 s)
[2/9] 01_sandbox: FAILED at cell 7: AssertionError: too slow (4.2 s)
[3/9] 02_test_case_generator · cell 12/40 · 3. SFT · 0:40
Map: 100%|████| 64/64
"""


def test_a_run_cut_short_says_where_it_was():
    summary = gpu_check.smoke_summary(OUTPUT, finished=False)
    assert summary["chapters"] == "00_tiny_code_model: ok (31.0 s); 01_sandbox: FAILED at cell 7: AssertionError: too slow (4.2 s)"
    assert summary["last"] == "[3/9] 02_test_case_generator · cell 12/40 · 3. SFT · 0:40"


def test_a_finished_run_lists_its_chapters_only():
    assert gpu_check.smoke_summary(OUTPUT, finished=True) == {
        "chapters": "00_tiny_code_model: ok (31.0 s); 01_sandbox: FAILED at cell 7: AssertionError: too slow (4.2 s)"}
    assert gpu_check.smoke_summary("", finished=False) == {"chapters": "none finished", "last": "no output"}
