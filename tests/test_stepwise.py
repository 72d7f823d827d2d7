"""Step-wise generation on the micro base: k steps per prefix, each stopped at
the delimiter on its own, with log-probabilities that a forward pass confirms."""

import pytest
import torch

from o1lite.generation import complete_solution, sample_steps
from o1lite.problems import load_problems

NEWLINE = "\n"  # the micro base writes code, so a line is its natural "step"


@pytest.fixture(scope="module")
def model_and_tokenizer(micro_base):
    from o1lite.models import load_model
    from o1lite.profiles import get_profile

    return load_model(get_profile("tiny", smoke=True), device="cpu")


@pytest.fixture(scope="module")
def prefixes():
    problems = load_problems("synthetic", "test", n=3, seed=0)
    # different lengths, so the batch is left-padded
    return [problems[0].prompt, problems[1].prompt + "    ", problems[2].reference.split("\n    return")[0] + "\n"]


def forward_logprob(model, tokenizer, prefix, step_ids):
    """log p(step | prefix) from one unpadded forward pass."""
    prefix_ids = tokenizer(prefix)["input_ids"]
    ids = prefix_ids + list(step_ids)
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1)
    return sum(logprobs[i - 1, ids[i]].item() for i in range(len(prefix_ids), len(ids)))


def test_k_steps_per_prefix_each_stopped_at_the_delimiter(model_and_tokenizer, prefixes):
    model, tokenizer = model_and_tokenizer
    steps = sample_steps(model, tokenizer, prefixes, k=3, temperature=1.0, max_new_tokens=40, stop=NEWLINE, seed=1)
    assert [len(group) for group in steps] == [3, 3, 3]
    finished = [step for group in steps for step in group]
    assert any(step.finished == "delimiter" for step in finished)
    for step in finished:
        assert step.logprob <= 0 and 1 <= step.n_tokens <= 40
        if step.finished == "delimiter":
            assert step.text.endswith(NEWLINE) and step.text.count(NEWLINE) == 1  # stopped at the first one
        elif step.finished == "length":
            assert step.n_tokens == 40 and NEWLINE not in step.text


def test_logprobs_match_a_forward_pass_despite_left_padding(model_and_tokenizer, prefixes):
    model, tokenizer = model_and_tokenizer
    steps = sample_steps(model, tokenizer, prefixes, k=2, temperature=0.7, max_new_tokens=30, stop=NEWLINE, seed=3)
    for prefix, group in zip(prefixes, steps):
        for step in group:
            assert len(step.token_ids) == step.n_tokens
            assert tokenizer.decode(step.token_ids, skip_special_tokens=True) == step.text
            expected = forward_logprob(model, tokenizer, prefix, step.token_ids)
            assert step.logprob == pytest.approx(expected, abs=1e-3)


def test_same_seed_same_steps_and_greedy_rules(model_and_tokenizer, prefixes):
    model, tokenizer = model_and_tokenizer
    options = dict(k=2, temperature=1.0, max_new_tokens=20, stop=NEWLINE, seed=7)
    first = sample_steps(model, tokenizer, prefixes, **options)
    assert sample_steps(model, tokenizer, prefixes, **options) == first
    with pytest.raises(ValueError):
        sample_steps(model, tokenizer, prefixes, k=2, temperature=0.0, stop=NEWLINE)
    greedy = sample_steps(model, tokenizer, prefixes[:1], k=1, temperature=0.0, max_new_tokens=20, stop=NEWLINE)
    assert greedy == sample_steps(model, tokenizer, prefixes[:1], k=1, temperature=0.0, max_new_tokens=20, stop=NEWLINE, seed=99)


def test_complete_solution_chains_steps_until_one_ends_it(model_and_tokenizer, prefixes):
    model, tokenizer = model_and_tokenizer
    steps = complete_solution(model, tokenizer, prefixes[0], max_steps=8, max_new_tokens=30, stop=NEWLINE)
    assert 1 <= len(steps) <= 8
    assert all(not step.terminal for step in steps[:-1])
    assert steps[-1].terminal or len(steps) == 8
    # the steps, concatenated, are what one greedy pass over the same stops writes
    whole = sample_steps(model, tokenizer, prefixes[:1], temperature=0.0, max_new_tokens=30, stop=NEWLINE)[0][0]
    assert "".join(step.text for step in steps).startswith(whole.text)
