import json

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

from o1lite import models, training
from o1lite.problems import load_problems
from o1lite.profiles import get_profile


def test_sft_lora_saves_an_adapter_that_changes_the_model(micro_base, tmp_path):
    problems = load_problems("synthetic", "train", n=40)
    dataset = Dataset.from_dict(
        {"prompt": [p.prompt for p in problems], "completion": [p.reference[len(p.prompt):] for p in problems]}
    )
    model = AutoModelForCausalLM.from_pretrained(micro_base)
    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    log = training.sft_lora(model, tokenizer, dataset, tmp_path / "adapter", steps=4, batch_size=8, learning_rate=1e-2)
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    assert not (tmp_path / "adapter" / "checkpoints").exists()
    saved = json.loads((tmp_path / "adapter" / "train_log.json").read_text())
    assert saved["steps"] == 4 and saved["examples"] == 40 and saved["loss_history"]
    assert log == saved

    tuned, _ = models.load_adapter(get_profile("tiny", smoke=True), tmp_path / "adapter")
    base = AutoModelForCausalLM.from_pretrained(micro_base).eval()
    batch = tokenizer([problems[0].prompt], return_tensors="pt")
    with torch.no_grad():
        assert not torch.allclose(tuned(**batch).logits, base(**batch).logits)


def test_a_training_refuses_another_seeds_tokenizer(micro_base, tmp_path):
    """As the samplers do (tests/test_sampling.py): each seed's base has its own tokenizer, and training
    one base on another's token ids fails nowhere and learns nothing useful, so it stops in one line."""
    from o1lite.stages import rl

    problems = load_problems("synthetic", "train", n=8)
    dataset = Dataset.from_dict({"prompt": [p.prompt for p in problems],
                                 "completion": [p.reference[len(p.prompt):] for p in problems]})
    model = AutoModelForCausalLM.from_pretrained(micro_base)
    _, other_tokenizer = models.load_model(get_profile("tiny", smoke=True).for_seed(1))
    with pytest.raises(ValueError, match="load both from one base"):
        training.sft_lora(model, other_tokenizer, dataset, tmp_path / "sft", steps=1, batch_size=4)
    with pytest.raises(ValueError, match="load both from one base"):
        rl.grpo_lora(model, other_tokenizer, dataset, [], rl.RLConfig(), tmp_path / "grpo")
    assert not (tmp_path / "sft").exists() and not (tmp_path / "grpo").exists()  # refused before anything was written


@pytest.mark.parametrize("loss_type", ["chunked_nll", "nll"])  # TRL's default, and what the policies train with
def test_length_balanced_micro_batches_take_the_step_one_batch_takes(micro_base, tmp_path, loss_type):
    """Two micro-batches of similar length (the default) against one padded batch: three
    plain SGD steps of 8 of 32 examples, without gradient clipping, give the same adapter.
    So each step takes the examples one batch would (the rebalancing sampler draws the
    permutation accelerate's seedable sampler draws), and the loss is averaged over the
    whole step's tokens, not per micro-batch (that would weight a short micro-batch's
    tokens more) and not rescaled by the accumulation."""
    from safetensors.torch import load_file

    problems = load_problems("synthetic", "train", n=32, seed=5)
    completions = [p.reference[len(p.prompt):] for p in problems]
    completions[::5] = [c * 6 for c in completions[::5]]  # long examples: the micro-batches differ in length and token count
    dataset = Dataset.from_dict({"prompt": [p.prompt for p in problems], "completion": completions})
    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    weights = {}
    for micro in (1, 2):
        model = AutoModelForCausalLM.from_pretrained(micro_base)
        training.sft_lora(model, tokenizer, dataset, tmp_path / str(micro), steps=3, batch_size=8, learning_rate=0.5,
                          micro_batches=micro, optim="sgd", warmup_steps=0, lr_scheduler_type="constant",
                          max_grad_norm=0.0, loss_type=loss_type)
        weights[micro] = load_file(tmp_path / str(micro) / "adapter_model.safetensors")
    moved = [name for name in weights[1] if "lora_B" in name]
    assert moved and all(weights[1][name].abs().max() > 1e-4 for name in moved)  # the step did move B
    for name in weights[1]:
        torch.testing.assert_close(weights[2][name], weights[1][name], rtol=1e-4, atol=1e-6)


def test_train_policy_writes_where_it_is_told_and_leaves_the_cache_alone(micro_base, tmp_path, monkeypatch):
    """`benchmarks/length_balanced_sft.py` trains chapter 03's policies through `train_policy`
    into a scratch folder, once per micro-batch count: the cached policy folder stays unmade."""
    from o1lite import training as training_lib
    from o1lite.stages import policies

    profile = get_profile("tiny", smoke=True)
    training = policies.PolicyTraining(n_train=8, steps=2, batch_size=4, rank=4, seed=1)
    asked = []
    real = training_lib.sft_lora
    monkeypatch.setattr(training_lib, "sft_lora", lambda *a, micro_batches, **k: asked.append(micro_batches) or real(
        *a, micro_batches=micro_batches, **k))
    for micro in (1, 2):
        out, log = policies.train_policy(profile, "vanilla", training, out_dir=tmp_path / str(micro), micro_batches=micro)
        assert out == tmp_path / str(micro) and (out / "adapter_config.json").exists()
        assert not log["cached"] and log["steps"] == 2
    assert asked == [1, 2]
    with pytest.raises(ValueError, match="out_dir"):
        policies.train_policy(profile, "vanilla", training, micro_batches=1)
    assert not policies.policy_dir(profile, "vanilla", training).exists()
    again, log = policies.train_policy(profile, "vanilla", training, out_dir=tmp_path / "1")
    assert again == tmp_path / "1" and log["cached"]
