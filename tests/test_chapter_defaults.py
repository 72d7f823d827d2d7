"""Later chapters reuse what earlier chapters trained, found by a hash of the
training settings: the notebooks' default parameters must equal the library
defaults those later chapters ask for."""

from pathlib import Path

import nbformat

from o1lite.profiles import get_profile
from o1lite.stages import policies, tcg

ROOT = Path(__file__).resolve().parent.parent


def parameters(stem: str) -> dict:
    notebook = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    values: dict = {}
    exec(cell.source, {}, values)  # our own notebook: plain assignments
    return values


def test_chapter_03_defaults_are_the_policy_training_defaults():
    p = parameters("03_pseudocode_reasoning")
    expected = policies.policy_training("tiny", seed=p["SEED"])
    assert (p["N_TRAIN"], p["SFT_STEPS"], p["SFT_BATCH"], p["SFT_LEARNING_RATE"], p["LORA_RANK"]) == (
        expected.n_train, expected.steps, expected.batch_size, expected.learning_rate, expected.rank)
    assert policies.policy_training(get_profile("tiny", smoke=True)) == policies.MICRO_TRAINING


def test_chapter_02_defaults_are_the_tcg_defaults():
    p = parameters("02_test_case_generator")
    expected = tcg.tcg_config("tiny")
    assert (p["N_CASES"], p["SFT_PROBLEMS"], p["SFT_STEPS"], p["DPO_PROBLEMS"], p["DPO_SAMPLES"], p["DPO_TEMPERATURE"],
            p["DPO_STEPS"], p["DPO_BETA"], p["DPO_PROBLEMS"], p["SEED"]) == (
        expected.n_cases, expected.sft_problems, expected.sft_steps, expected.dpo_problems, expected.dpo_samples,
        expected.dpo_temperature, expected.dpo_steps, expected.dpo_beta, expected.dpo_min_pairs, expected.seed)
