"""The Qwen path without the hub: a Qwen2.5-0.5B-Instruct-shaped checkpoint in a
folder loads, adapts and generates through the code a real one takes."""

from __future__ import annotations

import logging
import sys
import types

import pytest
import torch

from o1lite import checkpoints, models
from o1lite.profiles import get_profile


@pytest.fixture(scope="session")
def qwen_folder(tmp_path_factory):
    return checkpoints.build_qwen25_shaped(tmp_path_factory.mktemp("qwen") / "qwen2.5-0.5b-instruct-shaped", layers=1)


def test_the_folder_is_a_qwen25_instruct_checkpoint(qwen_folder):
    profile = get_profile(str(qwen_folder))
    assert profile.chat and not profile.is_tiny and profile.suite == "mbpp"
    model, tokenizer = models.load_model(profile, device="cpu")
    config = model.config
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert (config.hidden_size, config.num_attention_heads, config.num_key_value_heads, config.intermediate_size) == (896, 14, 2, 4864)
    assert config.tie_word_embeddings and model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    assert (tokenizer.eos_token, tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    eos = model.generation_config.eos_token_id
    assert set(eos) == {tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")}
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Write f."}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWrite f.<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.convert_ids_to_tokens(tokenizer("<|im_start|>user").input_ids)[0] == "<|im_start|>"  # one special token


def test_lora_targets_every_linear_layer_of_the_qwen2_blocks(qwen_folder):
    from peft import get_peft_model

    model, _ = models.load_model(str(qwen_folder), device="cpu")
    adapted = get_peft_model(model, models.lora_config(8))
    targeted = {name.split(".")[-1] for name, module in adapted.named_modules() if hasattr(module, "lora_A")}
    assert targeted == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}  # never lm_head


def test_left_padding_gives_each_prompt_the_logits_it_has_alone(qwen_folder):
    """Batched generation pads on the left with <|endoftext|>: a short prompt in a
    batch with a long one must see exactly what it sees alone."""
    from o1lite.generation import _batches

    model, tokenizer = models.load_model(str(qwen_folder), device="cpu")
    prompts = ["def f(x):\n    return", "def add_three_then_sort(xs):\n    \"\"\"Add 3 to each, then sort.\"\"\"\n    return"]
    _, encoded, _ = next(_batches(model, tokenizer, prompts, 1, "n", "completion", 0.0, 1.0, 8, 0))
    assert tokenizer.padding_side == "left" and encoded["input_ids"][0, 0] == tokenizer.pad_token_id
    with torch.no_grad():
        batched = model(**encoded).logits[:, -1]
        for i, prompt in enumerate(prompts):
            alone = model(**tokenizer([prompt], return_tensors="pt")).logits[:, -1]
            assert torch.allclose(batched[i], alone[0], atol=1e-4)


def test_chat_prompts_and_stop_rules_of_an_instruct_profile(qwen_folder):
    from o1lite.generation import sample
    from o1lite.problems import load_problems
    from o1lite.stages import prompts
    from o1lite.stages.policies import load_policy

    profile = get_profile(str(qwen_folder), suite="synthetic")
    model, tokenizer = load_policy(profile, None)
    problem = load_problems("synthetic", "test", n=1, seed=0)[0]
    text = prompts.policy_prompt(problem, "pseudocode", tokenizer, chat=True)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n") and problem.prompt.strip()[:20] in text
    # End of turn ends a sample: make <|im_end|> the first token and "x" every later one.
    im_end, x = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("x")
    calls = []

    def steer(module, inputs, logits):
        calls.append(1)
        logits = logits.clone()
        logits[..., im_end if len(calls) == 1 else x] += 1e4
        return logits

    handle = model.lm_head.register_forward_hook(steer)
    try:
        assert sample(model, tokenizer, [text], max_new_tokens=8) == [[""]] and len(calls) == 1
        calls.clear()
        model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids("<|endoftext|>")]  # without end of turn
        assert sample(model, tokenizer, [text], max_new_tokens=8) == [["x" * 7]]
    finally:
        handle.remove()


def test_unsloth_is_chosen_only_on_a_gpu_where_it_imports(qwen_folder, monkeypatch, caplog):
    """The choice `load_model` makes: on CPU never (not even when a GPU is present
    and unsloth imports); asked for a GPU with unsloth absent, transformers + peft
    after one logged line."""
    assert not models.unsloth_available()  # this machine: no CUDA, whatever is installed
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "unsloth", None)  # `import unsloth` raises ImportError
    assert not models.unsloth_available()
    with caplog.at_level(logging.WARNING, logger="o1lite.models"):
        assert models._load_with_unsloth(str(qwen_folder), torch.bfloat16, True) is None
    assert len(caplog.records) == 1 and "unsloth is not available" in caplog.records[0].getMessage()

    caplog.clear()
    monkeypatch.setitem(sys.modules, "unsloth", _fake_unsloth(AssertionError("a CPU load must not reach unsloth")))
    assert models.unsloth_available()
    with caplog.at_level(logging.WARNING, logger="o1lite.models"):
        model, _ = models.load_model(str(qwen_folder), device="cpu", dtype=torch.float32)
    assert type(model).__module__.startswith("transformers.") and not caplog.records


def test_unsloth_failing_on_a_checkpoint_falls_back_with_one_logged_line(qwen_folder, monkeypatch, caplog):
    """unsloth imports but its loader fails (an unsupported model or version):
    None after one line naming the error, so `load_model` goes on with transformers
    + peft; when it loads, its (model, tokenizer) is what comes back."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setitem(sys.modules, "unsloth", _fake_unsloth(RuntimeError("Unsloth: this model is not supported\nlong trace")))
    with caplog.at_level(logging.WARNING, logger="o1lite.models"):
        assert models._load_with_unsloth(str(qwen_folder), torch.bfloat16, True) is None
    (record,) = caplog.records
    message = record.getMessage()
    assert "failed to load" in message and "RuntimeError: Unsloth: this model is not supported" in message
    assert "long trace" not in message and "transformers + peft" in message

    monkeypatch.setitem(sys.modules, "unsloth", _fake_unsloth(("model", "tokenizer")))
    assert models._load_with_unsloth(str(qwen_folder), torch.bfloat16, True) == ("model", "tokenizer")


def _fake_unsloth(outcome):
    """A stand-in `unsloth` module whose `FastLanguageModel.from_pretrained` raises
    `outcome` when it is an exception and returns it otherwise."""
    module = types.ModuleType("unsloth")

    class FastLanguageModel:
        @staticmethod
        def from_pretrained(source, **options):
            assert options["load_in_4bit"] is False and options["local_files_only"] is True
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    module.FastLanguageModel = FastLanguageModel
    return module
