import json
import subprocess
import sys

import pytest

from o1lite import record
from o1lite.profiles import PROFILES, UnknownProfile, get_profile


def test_known_profiles():
    assert get_profile("tiny").is_tiny
    assert get_profile("qwen2.5-coder-1.5b-instruct").model_id == "Qwen/Qwen2.5-Coder-1.5B-Instruct"
    assert {"tiny", "qwen2.5-0.5b-instruct", "qwen2.5-1.5b-instruct", "qwen2.5-coder-7b-instruct"} <= set(PROFILES)


def test_hub_id_and_local_directory(tmp_path):
    assert get_profile("Qwen/Qwen2.5-3B").model_id == "Qwen/Qwen2.5-3B"
    local = get_profile(str(tmp_path))
    assert local.model_id == str(tmp_path.resolve()) and not local.is_tiny


def test_each_seed_has_its_own_tiny_base_and_a_checkpoint_is_one_model():
    from o1lite.stages import policies, tcg

    tiny = get_profile("tiny")
    one, two = tiny.for_seed(1), tiny.for_seed(2)
    assert (one.tiny.seed, two.tiny.seed, one.name) == (1, 2, "tiny")  # runs stay under runs/tiny/
    assert len({tiny.base_id, one.base_id, two.base_id}) == 3
    assert one.for_seed(1) == one and tiny.for_seed(0) == tiny  # the default base is seed 0's
    assert one.tiny.steps == tiny.tiny.steps  # only the seed moves
    qwen = get_profile("qwen2.5-0.5b-instruct")
    assert qwen.for_seed(2) is qwen
    # a seed's caches name its own base, whichever profile object the caller holds
    assert tcg.tcg_dir(tiny, tcg.tcg_config(tiny, 1)) == tcg.tcg_dir(one, tcg.tcg_config(tiny, 1))
    assert policies.policy_dir(tiny, "vanilla", policies.policy_training(tiny, 2)) != policies.policy_dir(
        two, "vanilla", policies.policy_training(tiny, 1))
    assert policies.policy_dir(tiny, "vanilla", policies.policy_training(tiny, 2)) == policies.policy_dir(
        two, "vanilla", policies.policy_training(tiny, 2))


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(UnknownProfile) as error:
        get_profile("giant")
    message = str(error.value)
    assert "\n" not in message and "tiny" in message and "qwen2.5-coder-1.5b-instruct" in message


def test_cli_unknown_profile_is_one_line_and_exit_2():
    done = subprocess.run([sys.executable, "-m", "o1lite", "reproduce", "--profile", "giant"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "unknown profile 'giant'" in done.stderr


def test_write_metrics_flattens_estimates_and_rounds(tmp_path, monkeypatch):
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(tmp_path))
    path = record.write_metrics("07", {"rate": {"value": 0.1234567891, "ci95": [0.1, 0.2], "n": 9}, "seconds": 3.0})
    data = json.loads(path.read_text())
    assert data == {"rate": 0.123457, "rate_ci95": [0.1, 0.2], "rate_n": 9, "seconds": 3.0, "profile": "tiny",
                    "volatile": []}


def test_stable_hash_names_settings_not_objects():
    from dataclasses import dataclass

    @dataclass
    class Config:
        steps: int = 3
        rate: float = 0.1

    assert record.stable_hash(Config()) == record.stable_hash({"rate": 0.1, "steps": 3})  # key order does not matter
    assert record.stable_hash(Config(steps=4)) != record.stable_hash(Config())
    assert record.stable_hash("abc", 16) == "ba7816bf8f01cfea"  # SHA-256 of the text itself


def test_write_atomic_leaves_no_partial_file(tmp_path):
    path = record.write_atomic(tmp_path / "a" / "b.json", "{}\n")
    assert path.read_text() == "{}\n" and not list(tmp_path.glob("a/*.tmp"))


def test_metrics_files_list_their_volatile_keys(tmp_path, monkeypatch):
    from o1lite.metrics import seeded_estimate

    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(tmp_path))
    path = record.write_metrics("07", {"pass": seeded_estimate([[1, 0], [1, 1]]), "sft_seconds": 3.2,
                                       "programs_per_second": 650.0, "speedup_vs_human_eval": 9.1, "simulations": 8})
    saved = json.loads(path.read_text())
    assert saved["volatile"] == ["programs_per_second", "sft_seconds", "speedup_vs_human_eval"]
    assert saved["pass_per_seed"] == [0.5, 1.0] and saved["pass_seeds"] == 2 and "pass_per_seed" not in saved["volatile"]


def test_cache_keys_change_with_the_code_that_builds_the_artifact(monkeypatch):
    from o1lite.profiles import TinyConfig
    from o1lite.stages import policies, tcg

    before = (TinyConfig().key(), tcg.TCGConfig().key("base"), policies.PolicyTraining().key("vanilla", "base"))
    assert record.source_hash("models.py") == record.source_hash("models.py") != record.source_hash("problems")
    for module in (record, tcg, policies):
        monkeypatch.setattr(module, "source_hash", lambda *modules: "edited")
    after = (TinyConfig().key(), tcg.TCGConfig().key("base"), policies.PolicyTraining().key("vanilla", "base"))
    assert all(a != b for a, b in zip(before, after))


def test_code_text_cuts_comments_and_docstrings_and_keeps_every_statement():
    source = (
        '"""The module — its doc."""\n'
        "import os  # why os\n"
        "\n"
        "SHARP = '# a string, not a comment'\n"
        "def f(a):\n"
        '    """Doc over\n    two lines, ünïcode."""\n'
        "    return a + 1  # the step\n"
    )
    reworded = source.replace("why os", "the path module").replace("its doc", "what it is").replace("ünïcode", "plain")
    assert record.code_text(source) == record.code_text(reworded) == (
        "import os\nSHARP = '# a string, not a comment'\ndef f(a):\n    return a + 1")
    assert record.code_text(source.replace("a + 1", "a + 2")) != record.code_text(source)  # a changed statement shows
    assert record.code_text(source.replace("SHARP = '# a string", "SHARP = '# the string")) != record.code_text(source)
    assert record.code_text("!pip list  # a shell escape\n") == "!pip list  # a shell escape\n"  # not Python: as it is


def test_a_reworded_comment_or_docstring_changes_no_cache_key(tmp_path, monkeypatch):
    package = tmp_path / "o1lite"
    package.mkdir()
    (package / "record.py").write_text("")
    code = 'def step(x):\n    """Doubles."""\n    return 2 * x  # twice\n'
    (package / "models.py").write_text(code)
    monkeypatch.setattr(record, "__file__", str(package / "record.py"))
    first = record.source_hash("models.py")
    (package / "models.py").write_text(code.replace("Doubles.", "Twice x.").replace("# twice", "# doubled"))
    assert record.source_hash("models.py") == first
    (package / "models.py").write_text(code.replace("2 * x", "3 * x"))
    assert record.source_hash("models.py") != first


@pytest.mark.parametrize("value, expected", [("3", 3), ("4,2", 4), (" 2 ", 2), ("0", None), ("many", None), ("", None), ("²", None), ("３", None)])
def test_the_torch_thread_count_reads_omp_num_threads_or_falls_back_to_the_usable_cores(monkeypatch, value, expected):
    """`models.configure_threads` and the manifest's `machine()` read the thread count the same way:
    a nested value (`4,2`) gives its outer level, anything unusable every core."""
    import os

    import torch

    from o1lite import models

    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert record.torch_threads() == (expected or len(os.sched_getaffinity(0)))  # the cores this process may use
    assert record.machine()["threads"] == record.torch_threads()
    before = torch.get_num_threads()
    try:
        assert models.configure_threads() == record.torch_threads() == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
