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
        if p == 0:
            assert counts[names[token]] == 0, (token, counts)  # outside the nucleus: never drawn
        assert abs(counts[names[token]] / 3000 - p) < 0.03, (token, counts)


def test_copied_rows_carry_their_own_prefix_through_the_cache(micro):
    """Rows decoded from copies of a prefix's cache, prompts of different lengths, rows
    leaving the batch as they end: each row's log-probability is what one forward pass
    over prefix + its tokens, without any cache, gives."""
    from o1lite.generation import sample_steps_shared

    model, tokenizer, prompts = micro
    prefixes = [prompts[0], prompts[1][:40], prompts[2] + "    x = 1\n"]
    assert len({len(tokenizer(p)["input_ids"]) for p in prefixes}) == 3
    steps = sample_steps_shared(model, tokenizer, prefixes, [3, 2, 1], [5, 6, 7], stop="\n", temperature=1.0,
                                max_new_tokens=24)
    assert len({s.n_tokens for group in steps for s in group}) > 1  # rows of one batch ended at different steps
    for prefix, group in zip(prefixes, steps):
        prompt_ids = tokenizer(prefix)["input_ids"]
        for step in group:
            ids = torch.tensor([prompt_ids + list(step.token_ids)])
            with torch.no_grad():
                log_probs = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
            own = sum(float(log_probs[len(prompt_ids) - 1 + t, token]) for t, token in enumerate(step.token_ids))
            assert abs(own - step.logprob) < 1e-3, (prefix[:20], step.text)


def test_a_zero_draw_never_picks_a_token_of_probability_zero(micro, monkeypatch):
    from o1lite import generation

    model, tokenizer, prompts = micro
    monkeypatch.setattr(generation, "_uniforms", lambda seed, rows, steps: torch.zeros(rows, steps))
    handle = _steered(model, {10: 0.5, 11: 0.3, 12: 0.2})  # token 0 (and 1-9) has probability 0
    try:
        (rows,) = generation.sample(model, tokenizer, prompts[:1], n=4, temperature=1.0, max_new_tokens=3)
    finally:
        handle.remove()
    assert rows == [tokenizer.decode([10]) * 3] * 4


def test_a_model_whose_cache_cannot_be_shared_samples_through_generate(micro, monkeypatch):
    """An unsloth-patched model returns its cache as tuples: `sample` then falls back to
    `generate`, and the chapters' steps to one `generate` per prefix."""
    from transformers.cache_utils import Cache

    from o1lite.generation import sample, sample_steps_shared, sample_with_generate

    model, tokenizer, prompts = micro
    shared = sample(model, tokenizer, prompts, max_new_tokens=12)
    monkeypatch.delattr(Cache, "batch_select_indices")
    assert sample(model, tokenizer, prompts, max_new_tokens=12) == shared  # greedy: the same either way
    assert sample(model, tokenizer, prompts, n=3, temperature=1.0, max_new_tokens=12, seed=2) == \
        sample_with_generate(model, tokenizer, prompts, n=3, temperature=1.0, max_new_tokens=12, seed=2)
    steps = sample_steps_shared(model, tokenizer, prompts[:2], [2, 0], [1, 2], stop="\n\n", max_new_tokens=8)
    assert [len(group) for group in steps] == [2, 0] and all(s.n_tokens <= 8 for s in steps[0])


def test_a_checkpoints_repetition_penalty_is_reset_at_load(micro_base, tmp_path):
    """Qwen2.5-Instruct ships one; `generate` would apply it even to greedy decoding."""
    import json
    import shutil

    from o1lite import models

    folder = tmp_path / "penalised"
    shutil.copytree(micro_base, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "repetition_penalty": 1.1}))
    model, _ = models.load_model(str(folder))
    assert model.generation_config.repetition_penalty == 1.0


def test_a_policy_samples_from_its_own_nucleus(micro):
    """`LanguagePolicy.sample` passes the policy's `top_p` on: a nucleus of one token is greedy decoding."""
    from o1lite.problems import load_problems
    from o1lite.stages.policies import LanguagePolicy

    model, tokenizer, _ = micro
    problems = load_problems("synthetic", "test", n=4, seed=0)
    greedy = LanguagePolicy(model, tokenizer, "vanilla", temperature=0.0, max_new_tokens=16).sample(problems)
    narrow = LanguagePolicy(model, tokenizer, "vanilla", temperature=1.5, max_new_tokens=16, top_p=1e-6)
    wide = LanguagePolicy(model, tokenizer, "vanilla", temperature=1.5, max_new_tokens=16)
    assert narrow.sample(problems, n=3, seed=1) == [c * 3 for c in greedy]
    assert wide.sample(problems, n=3, seed=1) != [c * 3 for c in greedy]


def test_a_tokenizer_from_another_seeds_base_is_refused(micro):
    """Each seed's tiny base trains its own tokenizer: sampling a model with another base's tokenizer
    gives wrong programs without an error (chapter 02 once scored seeds 1 and 2 this way), so the
    samplers refuse the pair in one line. A model with adapters merged keeps its base's folder."""
    from peft import get_peft_model

    from o1lite import models
    from o1lite.generation import sample, sample_steps_shared, sample_with_generate

    model, tokenizer, prompts = micro
    _, other_tokenizer = models.load_model(get_profile("tiny", smoke=True).for_seed(1))
    assert other_tokenizer.name_or_path != tokenizer.name_or_path
    with pytest.raises(ValueError, match="the tokenizer from .*load both from one base"):
        sample(model, other_tokenizer, prompts[:1], max_new_tokens=4)
    with pytest.raises(ValueError, match="load both from one base"):
        sample_with_generate(model, other_tokenizer, prompts[:1], max_new_tokens=4)
    with pytest.raises(ValueError, match="load both from one base"):
        sample_steps_shared(model, other_tokenizer, prompts[:1], [1], [0], stop="\n", max_new_tokens=4)
    fresh, _ = models.load_model(get_profile("tiny", smoke=True))
    merged = get_peft_model(fresh, models.lora_config(rank=2)).merge_and_unload()
    assert len(sample(merged, tokenizer, prompts[:1], max_new_tokens=4)[0]) == 1
