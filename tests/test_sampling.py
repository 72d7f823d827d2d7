"""`generation.sample`: its own decoding loop (one prefill per prompt, finished
rows leave the batch) against `generate`, the distribution it draws from, and
what its samples may and may not depend on."""

from collections import Counter

import pytest
import torch

from o1lite.problems import load_problems
from o1lite.profiles import get_profile


@pytest.fixture(scope="module")
def micro(micro_base):
    from o1lite import models

    model, tokenizer = models.load_model(get_profile("tiny", smoke=True))
    prompts = [p.prompt for p in load_problems("synthetic", "test", n=5, seed=0)]
    return model.eval(), tokenizer, prompts


def test_greedy_completions_are_the_ones_generate_gives(micro):
    from o1lite.generation import sample

    model, tokenizer, prompts = micro
    tokenizer.padding_side = "left"
    encoded = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**encoded, do_sample=False, max_new_tokens=24, pad_token_id=tokenizer.pad_token_id)
    expected = tokenizer.batch_decode(out[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True)
    for batch_size in (1, 2, 64):
        assert [c[0] for c in sample(model, tokenizer, prompts, max_new_tokens=24, batch_size=batch_size)] == expected


def test_a_prompts_samples_depend_on_the_seed_not_on_the_batching(micro):
    from o1lite.generation import sample

    model, tokenizer, prompts = micro
    options = dict(n=5, temperature=1.0, max_new_tokens=12, seed=3)
    together = sample(model, tokenizer, prompts, batch_size=64, **options)
    assert [len(c) for c in together] == [5] * len(prompts)
    assert sample(model, tokenizer, prompts, batch_size=2, **options) == together  # n split over batches too
    assert sample(model, tokenizer, prompts, batch_size=7, **options) == together
    assert sample(model, tokenizer, prompts, batch_size=64, **{**options, "seed": 4}) != together
    with pytest.raises(ValueError, match="temperature > 0"):
        sample(model, tokenizer, prompts, n=2)


def _steered(model, probabilities: dict[int, float]):
    """Make every next-token distribution `probabilities` (a forward hook on the LM head)."""
    def steer(module, inputs, logits):
        fixed = torch.full_like(logits, float("-inf"))
        for token, p in probabilities.items():
            fixed[..., token] = float(torch.tensor(p).log())
        return fixed

    return model.lm_head.register_forward_hook(steer)


@pytest.mark.parametrize("temperature, top_p, expected", [
    (1.0, 1.0, {10: 0.5, 11: 0.3, 12: 0.2}),
    (0.5, 1.0, {10: 0.25 / 0.38, 11: 0.09 / 0.38, 12: 0.04 / 0.38}),  # p^2, renormalised
    (1.0, 0.6, {10: 0.5 / 0.8, 11: 0.3 / 0.8, 12: 0.0}),  # the nucleus: the likeliest tokens holding 0.6
])
def test_samples_follow_the_tempered_and_truncated_distribution(micro, temperature, top_p, expected):
    from o1lite.generation import sample

    model, tokenizer, prompts = micro
    handle = _steered(model, {10: 0.5, 11: 0.3, 12: 0.2})
    try:
        (rows,) = sample(model, tokenizer, prompts[:1], n=3000, temperature=temperature, top_p=top_p, max_new_tokens=1,
                         batch_size=1000, seed=0)
    finally:
        handle.remove()
    counts = Counter(rows)
    names = {token: tokenizer.decode([token]) for token in expected}
    assert set(counts) <= set(names.values())
    for token, p in expected.items():
        assert abs(counts[names[token]] / 3000 - p) < 0.03, (token, counts)
