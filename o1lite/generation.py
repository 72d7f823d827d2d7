"""Batched sampling from a causal LM, whole completions or one step at a time.

`sample` turns a list of prompts into `n` completions each, greedy when
`temperature == 0`. Every prompt is run through the model once; its
key/value cache is copied for its `n` rows, all rows decode together one
token per forward pass, and rows that have ended leave the batch (a batch
of `generate` would keep decoding them until its longest row ends). The same
loop serves chapter 04's siblings (`sample_steps_shared`). Generation runs
in the model's own dtype (fp32 on CPU: bf16 autocast slows generation there).
Introduced in chapter 00; chapter 03 adds step-wise generation on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from .record import derive_seed

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

    Greedy when `temperature == 0`, otherwise sampling at `temperature`
    (nucleus sampling when `top_p < 1`). At most `batch_size` rows decode at
    once. Prompt i's rows draw from their own random stream, seeded by
    `seed` and i, so what a prompt gets does not depend on `batch_size` or on
    the prompts beside it (up to floating-point effects of the batch's shape).
    A row ends at an end-of-text token (the model's `generation_config` ones,
    else the tokenizer's) or after `max_new_tokens`. These arguments are the
    whole decoding: a `generation_config`'s own sampling settings (top-k, a
    repetition penalty) are not applied.
    """
    _check_copies(n, "n", "completion per prompt", temperature)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    # pieces of at most batch_size rows: (prompt index, first row, rows), grouped into batches
    pieces = [(i, first, min(batch_size, n - first)) for i in range(len(prompts)) for first in range(0, n, batch_size)]
    batches: list[list[tuple[int, int, int]]] = []
    used = batch_size
    for piece in pieces:
        if used + piece[2] > batch_size:
            batches.append([])
            used = 0
        batches[-1].append(piece)
        used += piece[2]
    outputs: list[list[str]] = [[] for _ in prompts]
    try:
        _sample_batches(model, tokenizer, prompts, n, batches, outputs, temperature, top_p, max_new_tokens, seed)
    except _NoSharedCache:
        return sample_with_generate(model, tokenizer, prompts, n, temperature, top_p, max_new_tokens, batch_size, seed)
    return outputs


def _sample_batches(model, tokenizer, prompts, n, batches, outputs, temperature, top_p, max_new_tokens, seed) -> None:
    for batch in batches:
        uniforms = None
        if temperature > 0:
            uniforms = torch.cat([_uniforms(derive_seed("sample", seed, i), n, max_new_tokens)[first:first + rows]
                                  for i, first, rows in batch])
        tokens, _, _ = _decode(model, tokenizer, [prompts[i] for i, _, _ in batch], [rows for _, _, rows in batch],
                               uniforms, stop=None, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                               logprobs=False)
        texts = iter(tokenizer.batch_decode(tokens, skip_special_tokens=True))
        for i, _, rows in batch:
            outputs[i].extend(next(texts) for _ in range(rows))


class _NoSharedCache(Exception):
    """The model's forward returned a cache `_decode` cannot copy rows of."""


@torch.no_grad()
def sample_with_generate(model, tokenizer, prompts: Sequence[str], n: int = 1, temperature: float = 0.0,
                         top_p: float = 1.0, max_new_tokens: int = 96, batch_size: int = 64, seed: int = 0) -> list[list[str]]:
    """`sample` through `transformers`' `generate`: each prompt repeated `n` times, torch's
    generator seeded once, left-padded batches of `batch_size` rows, each decoded until its
    longest row ends. `sample` falls back to it for a model whose cache it cannot share
    (one patched by unsloth); `benchmarks/sampling_decoder.py` measures `sample` against it."""
    outputs: list[str] = []
    for _batch, encoded, decoding in _batches(model, tokenizer, prompts, n, "n", "completion per prompt", temperature,
                                              top_p, batch_size, seed):
        generated = model.generate(**encoded, **decoding, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
        outputs.extend(tokenizer.batch_decode(generated[:, encoded["input_ids"].shape[1]:], skip_special_tokens=True))
    return [outputs[i * n:(i + 1) * n] for i in range(len(prompts))]


def check_same_base(model, tokenizer) -> None:
    """Refuse a model and a tokenizer read from two different folders. Each tiny base trains its own
    tokenizer (one per seed, `Profile.for_seed`), so another base's tokenizer encodes the prompt into
    ids the model never learned and every completion comes out wrong, without an error (the samplers
    and the trainings, `training._train` and `rl.grpo_lora`, call it). A model or
    tokenizer not read from a folder (built in memory, or a hub id) is not checked."""
    model_source = getattr(getattr(model, "config", None), "_name_or_path", None) or ""
    tokenizer_source = getattr(tokenizer, "name_or_path", None) or ""
    if not (model_source and tokenizer_source and Path(model_source).is_dir() and Path(tokenizer_source).is_dir()):
        return
    if Path(model_source).resolve() != Path(tokenizer_source).resolve():
        raise ValueError(f"the model was read from {model_source} but the tokenizer from {tokenizer_source}: "
                         f"load both from one base (models.load_model(profile.for_seed(seed)) gives a matching pair)")


def _check_copies(copies: int, count_name: str, unit: str, temperature: float) -> None:
    if copies < 1:
        raise ValueError(f"{count_name} must be at least 1")
    if temperature == 0 and copies > 1:
        raise ValueError(f"greedy decoding gives one {unit}: set temperature > 0 for {count_name} > 1")


def _uniforms(seed: int, rows: int, steps: int) -> torch.Tensor:
    """The random numbers `rows` sampled rows draw from, one per token: a stream of its own per seed."""
    return torch.rand(rows, steps, generator=torch.Generator().manual_seed(int(seed) % 2**63))


def _end_token_ids(model, tokenizer) -> set[int]:
    """The tokens that end a completion: the model's `generation_config.eos_token_id`
    (one id or several, what `generate` stops at), else the tokenizer's end-of-text."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is None:
        configured = tokenizer.eos_token_id
    return set(configured) if isinstance(configured, (list, tuple)) else {configured}


def _batches(model, tokenizer, texts, copies: int, count_name: str, unit: str, temperature: float, top_p: float,
             batch_size: int, seed: int):
    """`sample_steps`' batching: check `copies`, repeat each text that
    many times, seed once, and yield (batch, left-padded encoding, decoding
    options: greedy at temperature 0, else sampling with `top_p`)."""
    _check_copies(copies, count_name, unit, temperature)
    check_same_base(model, tokenizer)
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    if temperature > 0:
        decoding = dict(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
    else:
        decoding = dict(do_sample=False)
    expanded = [text for text in texts for _ in range(copies)]
    torch.manual_seed(seed)
    for start in range(0, len(expanded), batch_size):
        batch = expanded[start : start + batch_size]
        yield batch, tokenizer(batch, return_tensors="pt", padding=True).to(device), decoding


# ---------------------------------------------------------------- step-wise generation (chapter 03)
# A reasoning policy writes its solution one step at a time: each call below
# extends every prefix by one step, stopping each sequence on its own at the
# step delimiter (or end-of-text), and returns the step's log-probability, which
# the search (chapter 04) and the reward models (chapters 05-06) need. A whole
# solution is a sequence of such calls.
from dataclasses import dataclass

from transformers import StoppingCriteria, StoppingCriteriaList



@dataclass
class GeneratedStep:
    """One generated step.

    - `text`: the decoded new tokens, up to and including the token that
      completed the delimiter (so it ends with the delimiter, plus whatever
      else that last token spelled); end-of-text itself is not in the text.
      `prefix + text` is the prefix for the next step.
    - `logprob`: the sum of the log-probabilities of the step's tokens under
      the model itself (temperature 1, no top-p: what a forward pass gives),
      end-of-text included when it ended the step.
    - `n_tokens`: how many tokens that sum covers.
    - `finished`: "delimiter", "eos" (the solution ended) or "length"
      (`max_new_tokens` ran out mid-step).
    - `token_ids`: the generated ids themselves (a sampled step need not be
      the tokenizer's own spelling of `text`, so re-tokenizing can differ).
    """

    text: str
    logprob: float
    n_tokens: int
    finished: str
    token_ids: tuple[int, ...] = ()

    @property
    def terminal(self) -> bool:
        """True when no further step should follow (end-of-text or cut off)."""
        return self.finished != "delimiter"


class StopAtString(StoppingCriteria):
    """Stops each sequence of a batch, on its own, once its new tokens contain `stop`.

    Only the last few tokens are decoded at each step (a token spells at
    least one character, so `len(stop) + 1` tokens always cover the stop
    string); `stopped_at[i]` records how many new tokens sequence i had.
    """

    def __init__(self, tokenizer, stop: str, prompt_length: int, batch_size: int):
        self.tokenizer = tokenizer
        self.stop = stop
        self.prompt_length = prompt_length
        self.window = len(stop) + 1
        self.stopped_at: list[int | None] = [None] * batch_size

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        n_new = input_ids.shape[1] - self.prompt_length
        for i in range(input_ids.shape[0]):
            if self.stopped_at[i] is not None:
                done[i] = True
                continue
            tail = input_ids[i, max(self.prompt_length, input_ids.shape[1] - self.window):]
            if self.stop in self.tokenizer.decode(tail, skip_special_tokens=True):
                self.stopped_at[i] = n_new
                done[i] = True
        return done


@torch.no_grad()
def sample_steps(
    model,
    tokenizer,
    prefixes: Sequence[str],
    *,
    stop: str,
    k: int = 1,
    temperature: float = 0.8,
    top_p: float = 1.0,
    max_new_tokens: int = 96,
    batch_size: int = 64,
    seed: int = 0,
) -> list[list[GeneratedStep]]:
    """`k` next steps for each prefix (a list of lists of `GeneratedStep`, in prefix order).

    Each batch is one `generate` call: prefixes left-padded, every sequence
    stopped on its own at `stop` or end-of-text. Greedy when
    `temperature == 0` (then `k` must be 1). Deterministic for a given seed.
    Log-probabilities come from the raw logits `generate` returns
    (`output_logits`), so they are the model's own, whatever the sampling
    temperature.
    """
    ends = _end_token_ids(model, tokenizer)
    steps: list[GeneratedStep] = []
    batches = _batches(model, tokenizer, prefixes, k, "k", "step per prefix", temperature, top_p, batch_size, seed)
    for batch, encoded, decoding in batches:
        prompt_length = encoded["input_ids"].shape[1]
        stopper = StopAtString(tokenizer, stop, prompt_length, len(batch))
        out = model.generate(
            **encoded,
            **decoding,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            stopping_criteria=StoppingCriteriaList([stopper]),
            return_dict_in_generate=True,
            output_logits=True,
        )
        new_tokens = out.sequences[:, prompt_length:]
        # log p(token) under the untempered model, for every generated position
        token_logprobs = torch.stack(
            [torch.log_softmax(logits.float(), dim=-1).gather(-1, new_tokens[:, t : t + 1]).squeeze(-1)
             for t, logits in enumerate(out.logits)],
            dim=1,
        )
        for i in range(len(batch)):
            ids = new_tokens[i].tolist()
            length, finished = len(ids), "length"
            end = next((t for t, token in enumerate(ids) if token in ends), None)
            if end is not None and (stopper.stopped_at[i] is None or end < stopper.stopped_at[i]):
                length, finished = end + 1, "eos"
            elif stopper.stopped_at[i] is not None:
                length, finished = stopper.stopped_at[i], "delimiter"
            text = tokenizer.decode(ids[:length], skip_special_tokens=True)
            logprob = float(token_logprobs[i, :length].sum())
            steps.append(GeneratedStep(text, logprob, length, finished, tuple(ids[:length])))
    return [steps[i * k : (i + 1) * k] for i in range(len(prefixes))]


def complete_solution(
    model,
    tokenizer,
    prompt: str,
    *,
    stop: str,
    temperature: float = 0.0,
    max_steps: int = 12,
    max_new_tokens: int = 96,
    seed: int = 0,
) -> list[GeneratedStep]:
    """Generate one solution step by step, until a step ends the solution
    (end-of-text, or `max_new_tokens` cut it off) or `max_steps` steps.

    `prompt + "".join(step.text for step in steps)` is the whole solution.
    """
    steps: list[GeneratedStep] = []
    prefix = prompt
    for index in range(max_steps):
        (step,) = sample_steps(
            model, tokenizer, [prefix], k=1, temperature=temperature, max_new_tokens=max_new_tokens,
            stop=stop, seed=seed + index,
        )[0]
        steps.append(step)
        prefix += step.text
        if step.terminal:
            break
    return steps


# ---------------------------------------------------------------- siblings sharing a prefix (chapter 04)
_NEWLINE_TOKENS: dict[int, torch.Tensor] = {}


def _newline_tokens(tokenizer, vocab_size: int) -> torch.Tensor:
    """A mask of the token ids whose text holds a newline (every delimiter
    ends with one, so only those tokens can complete it)."""
    key = id(tokenizer)
    if key not in _NEWLINE_TOKENS:
        mask = torch.zeros(vocab_size, dtype=torch.bool)
        for token_id in range(min(vocab_size, len(tokenizer))):
            mask[token_id] = "\n" in tokenizer.decode([token_id])
        _NEWLINE_TOKENS[key] = mask
    return _NEWLINE_TOKENS[key]


@torch.no_grad()
def sample_steps_shared(
    model,
    tokenizer,
    prefixes: Sequence[str],
    counts: Sequence[int],
    seeds: Sequence[int],
    *,
    stop: str,
    temperature: float = 0.8,
    max_new_tokens: int = 96,
    top_p: float = 1.0,
) -> list[list[GeneratedStep]]:
    """`counts[i]` next steps for `prefixes[i]`, as `sample_steps` returns them,
    with each prefix run through the model once.

    Siblings share their prefix: one decoding loop (`_decode`, which `sample`
    uses too) encodes each prefix once and decodes its rows from copies of
    its cache. Sampling draws from the model's
    distribution at `temperature` (nucleus sampling when `top_p < 1`) with
    one random stream per prefix, seeded by `seeds[i]`, so a prefix's steps
    do not depend on the other prefixes of the batch (up to floating-point
    effects of the batch's shape). Log-probabilities are under
    the untempered model, as in `sample_steps`.
    """
    if len(prefixes) != len(counts) or len(prefixes) != len(seeds):
        raise ValueError("one count and one seed per prefix")
    uniforms = None
    if temperature > 0 and any(counts):
        uniforms = torch.cat([_uniforms(s, n, max_new_tokens) for n, s in zip(counts, seeds) if n])
    try:
        tokens, logprob, finished = _decode(model, tokenizer, prefixes, counts, uniforms, stop=stop,
                                            temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens,
                                            logprobs=True)
    except _NoSharedCache:  # one `generate` per prefix, seeded by its own seed
        return [sample_steps(model, tokenizer, [prefix], stop=stop, k=n, temperature=temperature, top_p=top_p,
                             max_new_tokens=max_new_tokens, seed=s)[0] if n else []
                for prefix, n, s in zip(prefixes, counts, seeds)]
    steps = [GeneratedStep(tokenizer.decode(ids, skip_special_tokens=True), value, len(ids), end or "length", tuple(ids))
             for ids, value, end in zip(tokens, logprob, finished)]
    grouped, start = [], 0
    for n in counts:
        grouped.append(steps[start:start + n])
        start += n
    return grouped


@torch.no_grad()
def _decode(model, tokenizer, prefixes: Sequence[str], counts: Sequence[int], uniforms: torch.Tensor | None, *,
            stop: str | None, temperature: float, top_p: float, max_new_tokens: int, logprobs: bool):
    """The decoding loop of `sample` and `sample_steps_shared`: `counts[i]` rows
    continue `prefixes[i]`; row r draws its t-th token with `uniforms[r, t]`
    (inverse-CDF sampling; None when greedy). A row ends at an end-of-text
    token, or once its new tokens spell `stop`. Returns each row's token ids
    (the ending token included), the sum of their log-probabilities under the
    untempered model (zeros unless `logprobs`) and how it ended ("eos",
    "delimiter", or None when `max_new_tokens` ran out).

    Each distinct prefix is encoded in one batched forward pass; its
    key/value cache is copied `counts[i]` times
    (`DynamicCache.batch_select_indices`) and all rows decode together, one
    forward pass per token; ended rows leave the batch once half of the rows
    still in it are done (a copy costs a whole cache).
    """
    check_same_base(model, tokenizer)
    device = next(model.parameters()).device
    rows = [i for i, n in enumerate(counts) for _ in range(n)]
    if not rows:
        return [], [], []
    tokenizer.padding_side = "left"
    encoded = tokenizer(list(prefixes), return_tensors="pt", padding=True).to(device)
    mask = encoded["attention_mask"]
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # logits of the last position only: all of them would be prompt tokens x vocabulary (GBs for Qwen2.5)
    try:
        out = model(input_ids=encoded["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True,
                    logits_to_keep=1)
    except TypeError:  # a forward that does not take the argument (one patched by another library)
        out = model(input_ids=encoded["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True)
    cache = out.past_key_values
    if not hasattr(cache, "batch_select_indices"):  # e.g. a model patched by unsloth returns tuples
        raise _NoSharedCache(type(cache).__name__)
    index = torch.tensor(rows, device=device)
    cache.batch_select_indices(index)
    logits = out.logits[:, -1, :].float()[index]
    del out
    mask, next_position = mask[index], positions[index, -1] + 1
    if uniforms is not None:
        uniforms = uniforms.to(device)
    newline = _newline_tokens(tokenizer, logits.shape[-1]).to(device) if stop else None
    ends, window = _end_token_ids(model, tokenizer), len(stop or "") + 1
    tokens: list[list[int]] = [[] for _ in rows]
    logprob = [0.0] * len(rows)
    finished: list[str | None] = [None] * len(rows)
    active = list(range(len(rows)))  # original row of each batch position
    for t in range(max_new_tokens):
        if temperature > 0:
            probs = torch.softmax(logits / temperature, dim=-1)
            order = None
            if top_p < 1.0:  # keep the smallest set of likeliest tokens holding top_p of the mass
                probs, order = probs.sort(dim=-1, descending=True)
                probs = probs * ((probs.cumsum(-1) - probs) < top_p)
            cdf = probs.cumsum(-1)
            # u in (0, total]: u = 0 would pick token 0 even where its probability is 0
            u = (uniforms[active, t].unsqueeze(-1) * cdf[:, -1:]).clamp(min=torch.finfo(cdf.dtype).tiny)
            chosen = (cdf < u).sum(-1).clamp(max=logits.shape[-1] - 1)
            if order is not None:
                chosen = order.gather(-1, chosen[:, None]).squeeze(-1)
        else:
            chosen = logits.argmax(-1)
        chosen_logprob = (torch.log_softmax(logits, dim=-1).gather(-1, chosen[:, None]).squeeze(-1).tolist()
                          if logprobs else None)
        check = newline[chosen].tolist() if stop else None
        for position, (row, token) in enumerate(zip(active, chosen.tolist())):
            if finished[row] is not None:  # done, still in the batch until the next compaction
                continue
            tokens[row].append(token)
            if logprobs:
                logprob[row] += chosen_logprob[position]
            if token in ends:
                finished[row] = "eos"
            elif stop and check[position] and stop in tokenizer.decode(tokens[row][-window:], skip_special_tokens=True):
                finished[row] = "delimiter"
        keep = [position for position, row in enumerate(active) if finished[row] is None]
        if not keep or t == max_new_tokens - 1:
            break
        if len(keep) <= len(active) // 2:  # compact only when half the rows are done: a copy costs a whole cache
            keep_index = torch.tensor(keep, device=device)
            cache.batch_select_indices(keep_index)
            chosen, mask, next_position = chosen[keep_index], mask[keep_index], next_position[keep_index]
            active = [active[p] for p in keep]
        mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=-1)
        out = model(input_ids=chosen[:, None], attention_mask=mask, position_ids=next_position[:, None],
                    past_key_values=cache, use_cache=True)
        cache, logits, next_position = out.past_key_values, out.logits[:, -1, :].float(), next_position + 1
    return tokens, logprob, finished
