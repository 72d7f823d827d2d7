import subprocess
import sys

import pytest

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from o1lite import models
from o1lite.profiles import MICRO, TinyConfig
from o1lite.problems import load_problems


def test_tokenizer_round_trip_keeps_ids(tmp_path):
    texts = models.pretraining_texts(load_problems("synthetic", "train", n=200))
    tokenizer = models.train_tokenizer(texts, vocab_size=400)
    tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    samples = texts[:20] + ["  unicode: héllo wörld — ½ 12345\n\n\tx", 'def f(s: str) -> str:\n    return s.replace("a", "b")']
    for text in samples:
        ids = tokenizer(text)["input_ids"]
        assert again(text)["input_ids"] == ids
        assert again.decode(ids) == text
    assert again.eos_token == models.EOS and again.pad_token == models.PAD
    assert again.pad_token_id != again.eos_token_id


def test_micro_base_reloads_with_identical_logits(micro_base):
    log = models.pretrain_log(micro_base)
    assert log["parameters"] > 10_000 and log["loss_history"]
    assert log["loss_history"][-1]["loss"] < log["loss_history"][0]["loss"]
    model = AutoModelForCausalLM.from_pretrained(micro_base).eval()
    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    batch = tokenizer(["def solve(nums: list[int]) -> int:\n"], return_tensors="pt")
    again = AutoModelForCausalLM.from_pretrained(micro_base).eval()
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, again(**batch).logits)


def test_cache_is_reused_and_keyed_by_config(micro_base):
    stamp = (micro_base / "pretrain_log.json").stat().st_mtime_ns
    assert models.ensure_tiny_base(MICRO) == micro_base
    assert (micro_base / "pretrain_log.json").stat().st_mtime_ns == stamp
    other = TinyConfig(steps=MICRO.steps + 1)
    assert models.tiny_base_dir(other) != models.tiny_base_dir(MICRO)
    assert TinyConfig().key() == TinyConfig().key()


def test_lora_trains_only_the_adapter(micro_base):
    model = AutoModelForCausalLM.from_pretrained(micro_base)
    from peft import get_peft_model

    wrapped = get_peft_model(model, models.lora_config(rank=4))
    trainable = [name for name, p in wrapped.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)


def test_hub_profile_offline_is_one_clear_line(tmp_path):
    """What a user sees, end to end: a fresh interpreter, an empty cache, HF_HUB_OFFLINE set."""
    code = "from o1lite.models import load_model\nload_model('qwen2.5-0.5b-instruct')"
    env = {"PATH": "/usr/bin:/bin", "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}  # an empty cache
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=40)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("o1lite.models.ModelUnavailable") and "qwen2.5-0.5b-instruct" in last and "PROFILE=DIR" in last


def test_an_unreachable_hub_reads_only_the_local_cache(monkeypatch):
    """Without the offline flag the loader probes the hub; unreachable, it asks for local files only,
    and an empty cache ends in the same one-line error (checked in process: no second interpreter)."""
    asked = {}

    def from_pretrained(source, local_files_only=False, **_):
        asked["local_files_only"] = local_files_only
        raise OSError("not in the cache")

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(models, "hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr(models.AutoTokenizer, "from_pretrained", from_pretrained)
    with pytest.raises(models.ModelUnavailable, match="PROFILE=DIR") as error:
        models.load_model("qwen2.5-0.5b-instruct")
    assert asked == {"local_files_only": True} and "qwen2.5-0.5b-instruct" in str(error.value)
