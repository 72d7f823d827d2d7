import json

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
