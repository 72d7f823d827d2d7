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


def test_chapter_06_reuses_chapter_05_trees_and_prm():
    rl_, prm_ = parameters("06_self_play_rl"), parameters("05_process_reward_model")
    assert rl_["N_PRM_TRAIN"] == prm_["N_TRAIN"]
    assert (rl_["SIMULATIONS"], rl_["K"], rl_["C"], rl_["TEMPERATURE"], rl_["BATCH_PROBLEMS"]) == (
        prm_["SIMULATIONS"], prm_["K"], prm_["C"], prm_["TEMPERATURE"], prm_["BATCH_PROBLEMS"])
    assert (rl_["PRM_STEPS"], rl_["PRM_BATCH"], rl_["PRM_LR"], rl_["PRM_THRESHOLD"]) == (
        prm_["PRM_STEPS"], prm_["PRM_BATCH"], prm_["PRM_LR"], prm_["VALID_THRESHOLD"])
    assert prm_["PRM_START"] == "policy"  # chapter 06 starts its PRMs from the policy too
