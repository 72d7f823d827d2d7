"""The process reward model: a model that scores each reasoning step before any code runs.

o1-Coder's fifth step. Chapter 04's search trees say, for every visited step,
how often the paths through it ended in code that passed the reward tests
(its value). A PRM learns that signal from the step's text, so that RL
(chapter 06) and test-time search (chapter 07) can reward a path without
running it. Two forms, both a Qwen2 model with a one-logit head and LoRA
(the head trained in full):

- **Point-wise** (Math-Shepherd; o1-Coder's code): the head reads the last
  token of every step; the loss is binary cross-entropy there, on *hard*
  labels (value above a threshold) or *soft* ones (the value itself).
  `PointwiseTrainer` is that loss on `transformers.Trainer`; TRL's own
  `PRMTrainer` cast labels to int and was removed after TRL 1.13.
- **Pair-wise** (rStar-Math's process preference model): Bradley-Terry on
  pairs of sibling steps whose values differ by at least `min_gap`, the
  higher one chosen, trained with TRL's `RewardTrainer` (prompt = problem +
  earlier steps, chosen / rejected = the next step).

Tokenisation: byte-level BPE may merge across the boundary between two
steps, so tokenising a whole solution gives other tokens, and other step
ends, than tokenising it step by step. Training and scoring both go through
`encode_steps` (each piece tokenised on its own, then concatenated), so the
model is scored on exactly the token sequences it learned from.

Scoring (`StepScorer`): one forward pass per batch of partial or complete
solutions gives every step's score (a probability: the sigmoid of the head
at the step's last token; causal attention makes it the same whether later
steps follow or not). `aggregate` folds a path's step scores into one:
`min` (a path is as good as its weakest step), `last` (the score of the
final step, which for a complete solution judges the code) or `mean`.

Also here: `beam_search`, step-level beam search guided by a scorer, and
`pick`, the expected pass of choosing the best-scored of N candidates. What
is not here: the data (chapter 04's `o1lite.stages.mcts`), the RL reward
that mixes outcome and process (chapter 06). Introduced in chapter 05.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from ..profiles import Profile, get_profile, run_dir
from ..record import source_hash, stable_hash
from .mcts import State, derive_seed, lineage, reference_values

KINDS = ("pointwise", "pairwise")
LABELS = ("hard", "soft")
LABEL_SOURCES = ("reward", "reference")
AGGREGATIONS = ("min", "last", "mean")


@dataclass(frozen=True)
class PRMConfig:
    """Everything that shapes one trained PRM; its hash names the cache."""

    kind: str = "pointwise"  # "pointwise" (BCE per step) or "pairwise" (Bradley-Terry on sibling steps)
    labels: str = "hard"  # point-wise targets: "hard" (value > threshold) or "soft" (the value)
    label_source: str = "reward"  # "reward": the tree's own values (TCG tests, the paper's self-play); "reference": re-scored by the reference tests
    threshold: float = 0.5  # a step is valid when its value is above this
    min_gap: float = 0.3  # pair-wise: siblings whose values differ by at least this make a pair
    steps: int = 150  # optimiser steps
    batch_size: int = 16
    learning_rate: float = 2e-3
    rank: int = 16
    max_length: int = 512
    seed: int = 0

    def __post_init__(self):
        for name, value, allowed in (("kind", self.kind, KINDS), ("labels", self.labels, LABELS),
                                     ("label_source", self.label_source, LABEL_SOURCES)):
            if value not in allowed:
                raise ValueError(f"unknown PRM {name} {value!r}: choose one of {', '.join(allowed)}")


# ---------------------------------------------------------------- data
def path_rows(records: Sequence[dict], source: str = "reward") -> list[dict]:
    """One row per visited root-to-end path of chapter 04's trees: `prompt`,
    `completions` (the steps), `values` (each step's value under `source`:
    the tree's own rewards, or the reference tests via `mcts.reference_values`),
    `task_id`. TRL's stepwise-supervision format, with values for labels."""
    rows = []
    for record in records:
        nodes = record["nodes"]
        values = reference_values(record) if source == "reference" else {n["id"]: n["value"] for n in nodes}
        for end in nodes:
            if not end["terminal"] or end["visits"] == 0:
                continue
            path = lineage(nodes, end)[1:]  # the root holds no step
            rows.append({"prompt": record["prompt"], "completions": [n["step"] for n in path],
                         "values": [float(values.get(n["id"], 0.0)) for n in path], "task_id": record["task_id"]})
    return rows


def sibling_pairs(records: Sequence[dict], source: str = "reward", min_gap: float = 0.3) -> list[dict]:
    """Pairs of visited sibling steps whose values (under `source`) differ by
    at least `min_gap`: `prompt` (problem), `steps` (the parent's path),
    `chosen` and `rejected` (the higher- and lower-valued next step), `task_id`,
    and the two nodes' ids."""
    pairs = []
    for record in records:
        nodes = record["nodes"]
        values = reference_values(record) if source == "reference" else {n["id"]: n["value"] for n in nodes}
        children_of: dict[int, list[dict]] = {}
        for node in nodes:
            if node["parent"] is not None and node["visits"] > 0:
                children_of.setdefault(node["parent"], []).append(node)
        for parent in nodes:
            children = children_of.get(parent["id"], [])
            before = [n["step"] for n in lineage(nodes, parent)[1:]]
            for i, a in enumerate(children):
                for b in children[i + 1:]:
                    va, vb = values.get(a["id"], 0.0), values.get(b["id"], 0.0)
                    if abs(va - vb) >= min_gap and a["step"] != b["step"]:
                        high, low = (a, b) if va > vb else (b, a)
                        pairs.append({"prompt": record["prompt"], "steps": before, "chosen": high["step"],
                                      "rejected": low["step"], "task_id": record["task_id"],
                                      "chosen_id": high["id"], "rejected_id": low["id"]})
    return pairs


def pair_outcomes(records: Sequence[dict], scores: Sequence[dict[int, float]], pairs: Sequence[dict]) -> list[list[float]]:
    """How a PRM orders held-out sibling pairs (from `sibling_pairs`), per record (problem) of
    `records`: 1 when it scores the higher-valued step above the lower, 0.5 on a tie, 0 otherwise.
    `scores[i]` maps node id to score for `records[i]`. The mean over a problem's pairs, then over
    problems, is the pair accuracy."""
    by_task = {record["task_id"]: i for i, record in enumerate(records)}
    outcomes: list[list[float]] = [[] for _ in records]
    for pair in pairs:
        i = by_task[pair["task_id"]]
        good, bad = scores[i][pair["chosen_id"]], scores[i][pair["rejected_id"]]
        outcomes[i].append(1.0 if good > bad else 0.5 if good == bad else 0.0)
    return outcomes


def split_completion(text: str, delimiter: str = "<step>") -> list[str]:
    """A whole generated solution cut into the steps a search tree would hold:
    each step keeps its delimiter (and the newline after it), so the pieces
    join back into the text. Contrast `prompts.split_steps`, which drops them."""
    pieces = re.split(f"({re.escape(delimiter)}[ \\t]*\\n?)", text)
    steps = [body + mark for body, mark in zip(pieces[0::2], pieces[1::2] + [""])]
    return [s for s in steps if s.strip()] or [text]


def encode_steps(tokenizer, prompt: str, steps: Sequence[str]) -> tuple[list[int], list[int]]:
    """(token ids, index of each step's last token): the prompt and each step
    tokenised on their own and concatenated. Used for training and scoring alike."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ends = []
    for step in steps:
        ids = ids + tokenizer(step, add_special_tokens=False)["input_ids"]
        ends.append(len(ids) - 1)
    return ids, ends


def pointwise_dataset(rows: Sequence[dict], tokenizer, labels: str = "hard", threshold: float = 0.5, max_length: int = 512):
    """A `datasets.Dataset` of `input_ids`, `step_ends` and `step_labels` (hard
    0/1 or soft values, as floats); paths longer than `max_length` tokens dropped."""
    from datasets import Dataset

    columns = {"input_ids": [], "step_ends": [], "step_labels": []}
    for row in rows:
        ids, ends = encode_steps(tokenizer, row["prompt"], row["completions"])
        if len(ids) > max_length:
            continue
        targets = [float(v > threshold) if labels == "hard" else float(v) for v in row["values"]]
        columns["input_ids"].append(ids)
        columns["step_ends"].append(ends)
        columns["step_labels"].append(targets)
    return Dataset.from_dict(columns)


def pairwise_dataset(pairs: Sequence[dict], tokenizer, max_length: int = 512):
    """A `datasets.Dataset` of `chosen_ids` and `rejected_ids` (TRL's tokenised
    preference columns): problem + earlier steps + the next step, by `encode_steps`."""
    from datasets import Dataset

    chosen, rejected = [], []
    for pair in pairs:
        good, _ = encode_steps(tokenizer, pair["prompt"], [*pair["steps"], pair["chosen"]])
        bad, _ = encode_steps(tokenizer, pair["prompt"], [*pair["steps"], pair["rejected"]])
        if max(len(good), len(bad)) <= max_length:
            chosen.append(good)
            rejected.append(bad)
    return Dataset.from_dict({"chosen_ids": chosen, "rejected_ids": rejected})


# ---------------------------------------------------------------- the point-wise loss
@dataclass
class StepCollator:
    """Right-pads `input_ids`; `labels` is -100 everywhere except at step ends, where it holds the step's target."""

    pad_token_id: int

    def __call__(self, examples: list[dict]) -> dict:
        import torch

        length = max(len(e["input_ids"]) for e in examples)
        ids = torch.full((len(examples), length), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(examples), length), dtype=torch.long)
        labels = torch.full((len(examples), length), -100.0)
        for i, e in enumerate(examples):
            ids[i, : len(e["input_ids"])] = torch.tensor(e["input_ids"])
            mask[i, : len(e["input_ids"])] = 1
            labels[i, e["step_ends"]] = torch.tensor(e["step_labels"], dtype=torch.float)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def step_loss(logits, labels):
    """Binary cross-entropy at the step ends (labels != -100), averaged over steps."""
    import torch.nn.functional as F

    at_ends = labels != -100
    return F.binary_cross_entropy_with_logits(logits[at_ends], labels[at_ends])


def _trainer_classes():
    from dataclasses import dataclass as _dataclass

    from transformers import Trainer, TrainingArguments

    @_dataclass
    class StepTrainingArguments(TrainingArguments):
        max_length: int = 512  # read by the dataset builder, kept here so every trainer takes the same settings

    class PointwiseTrainer(Trainer):
        """`transformers.Trainer` with `step_loss` on a one-logit token head; takes
        `peft_config` and `processing_class` as TRL's trainers do."""

        def __init__(self, model, args, train_dataset, processing_class, peft_config=None):
            from peft import get_peft_model

            super().__init__(model=get_peft_model(model, peft_config) if peft_config else model, args=args,
                             train_dataset=train_dataset, processing_class=processing_class,
                             data_collator=StepCollator(processing_class.pad_token_id))

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            loss = step_loss(outputs.logits.squeeze(-1), labels)
            return (loss, outputs) if return_outputs else loss

    return PointwiseTrainer, StepTrainingArguments


# ---------------------------------------------------------------- models
def _head_class(kind: str):
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    return AutoModelForTokenClassification if kind == "pointwise" else AutoModelForSequenceClassification


def backbone_dir(profile: str | Profile, adapter: str | Path | None) -> str:
    """What a PRM starts from: the profile's base, or (given a policy adapter) the base with
    that adapter merged, saved once under runs/<profile>/05/backbone/ so a head can be put on it."""
    from ..models import load_adapter, resolve_model_path

    if adapter is None:
        return resolve_model_path(profile)
    out = run_dir(profile, "05") / "backbone" / stable_hash([get_profile(profile).base_id, str(Path(adapter).resolve())])
    if not (out / "config.json").exists():
        model, tokenizer = load_adapter(profile, adapter)
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    return str(out)


def load_backbone(profile: str | Profile, kind: str = "pointwise", adapter: str | Path | None = None):
    """(model, tokenizer): the profile's base (or the policy `adapter` merged into it) with a
    fresh one-logit head (token head for point-wise, sequence head for pair-wise),
    float32 on CPU and bfloat16 on a GPU."""
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    source = backbone_dir(profile, adapter)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the new head is reported "missing" from the checkpoint: it is meant to be
    try:
        model = _head_class(kind).from_pretrained(source, num_labels=1, dtype=dtype)
    finally:
        hf_logging.set_verbosity(verbosity)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def prm_dir(profile: str | Profile, config: PRMConfig, data_key: str, adapter: str | Path | None = None) -> Path:
    """runs/<profile>/05/<kind>_<labels>_<source>/<hash of config, data, starting model and this module>/"""
    profile = get_profile(profile)
    name = f"{config.kind}_{config.labels if config.kind == 'pointwise' else 'pairs'}_{config.label_source}"
    start = Path(adapter).name if adapter is not None else None
    key = stable_hash({"config": asdict(config), "data": data_key, "base": profile.base_id, "start": start,
                       "code": source_hash("stages/prm.py", "stages/mcts.py")})
    return run_dir(profile, "05") / name / key


def train_prm(profile: str | Profile, records: Sequence[dict], config: PRMConfig = PRMConfig(),
              adapter: str | Path | None = None, retrain: bool = False) -> tuple[Path, dict]:
    """Train one PRM on chapter 04's records (LoRA on every linear layer, the head
    trained in full), starting from the base or, given `adapter`, from the policy
    (rStar-Math starts its PPM from the policy: it already reads the step format).
    Cached by config, data, start and code. Returns (folder, log): the log holds
    the loss curve, seconds, the examples used and `cached`."""
    from transformers import set_seed

    from ..models import lora_config
    from ..training import _train  # the CPU-aware TRL runner every chapter trains through

    profile = get_profile(profile).for_seed(config.seed)  # the base of the seed (`Profile.for_seed`)
    if config.kind == "pointwise":
        data = path_rows(records, config.label_source)
    else:
        data = sibling_pairs(records, config.label_source, config.min_gap)
    if not data:
        raise ValueError("the trees hold no labelled steps to learn from: grow more (more problems or simulations)")
    out = prm_dir(profile, config, stable_hash(json.dumps(data, sort_keys=True)), adapter)
    log_path = out / "train_log.json"
    if log_path.exists() and (out / "adapter_config.json").exists() and not retrain:
        return out, {**json.loads(log_path.read_text()), "cached": True}
    set_seed(config.seed)
    model, tokenizer = load_backbone(profile, config.kind, adapter)
    task = "TOKEN_CLS" if config.kind == "pointwise" else "SEQ_CLS"
    peft_config = replace(lora_config(config.rank), task_type=task, modules_to_save=["score"])
    common = dict(steps=config.steps, batch_size=config.batch_size, learning_rate=config.learning_rate, rank=config.rank,
                  max_length=config.max_length, seed=config.seed, peft_config=peft_config)
    if config.kind == "pointwise":
        trainer, arguments = _trainer_classes()
        dataset = pointwise_dataset(data, tokenizer, config.labels, config.threshold, config.max_length)
        log = _train(trainer, arguments, model, tokenizer, dataset, out, extra_log={"paths": len(dataset)},
                     remove_unused_columns=False, **common)
    else:
        from trl import RewardConfig, RewardTrainer

        dataset = pairwise_dataset(data, tokenizer, config.max_length)
        log = _train(RewardTrainer, RewardConfig, model, tokenizer, dataset, out, extra_log={"pairs": len(dataset)},
                     **common)
    (out / "prm_config.json").write_text(json.dumps({**asdict(config), "adapter": str(adapter) if adapter else None}, indent=2) + "\n")
    return out, {**log, "cached": False}


def load_prm(profile: str | Profile, folder: str | Path) -> "StepScorer":
    """A trained PRM (its adapter merged into a fresh copy of the base) as a `StepScorer`."""
    from ..models import merge_adapters

    settings = json.loads((Path(folder) / "prm_config.json").read_text())
    adapter = settings.pop("adapter", None)
    profile = get_profile(profile).for_seed(settings["seed"])  # trained on that seed's base
    model, tokenizer = load_backbone(profile, PRMConfig(**settings).kind, adapter)
    model = merge_adapters(model, folder)
    return StepScorer(model, tokenizer, name=Path(folder).parent.name)


# ---------------------------------------------------------------- scoring
class StepScorer:
    """Scores every step of many (prompt, steps) paths: the sigmoid of the head
    at each step's last token, one forward pass per batch."""

    def __init__(self, model, tokenizer, name: str = "prm", batch_size: int = 32):
        self.model, self.tokenizer, self.name, self.batch_size = model, tokenizer, name, batch_size

    def step_scores(self, prompts: Sequence[str], paths: Sequence[Sequence[str]]) -> list[list[float]]:
        import torch

        encoded = [encode_steps(self.tokenizer, prompt, steps) for prompt, steps in zip(prompts, paths)]
        scores: list[list[float]] = []
        device = next(self.model.parameters()).device
        for start in range(0, len(encoded), self.batch_size):
            batch = encoded[start : start + self.batch_size]
            length = max(len(ids) for ids, _ in batch)
            ids = torch.full((len(batch), length), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, (row, _) in enumerate(batch):
                ids[i, : len(row)], mask[i, : len(row)] = torch.tensor(row), 1
            with torch.no_grad():
                hidden = self.model.base_model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
                logits = self.model.score(hidden).squeeze(-1).float().sigmoid().cpu()
            scores.extend([logits[i, ends].tolist() for i, (_, ends) in enumerate(batch)])
        return scores


def tree_step_scores(scorer: StepScorer, records: Sequence[dict]) -> list[dict[int, float]]:
    """Every visited step of each record scored, as {node id: score}: one scored
    path per visited end, each node read off a path through it (the same score
    on every such path: attention is causal)."""
    prompts, paths, owners = [], [], []
    for index, record in enumerate(records):
        nodes = record["nodes"]
        for end in nodes:
            if end["visits"] and end["terminal"]:
                path = lineage(nodes, end)[1:]
                if path:
                    prompts.append(record["prompt"])
                    paths.append([n["step"] for n in path])
                    owners.append((index, [n["id"] for n in path]))
    found: list[dict[int, float]] = [{} for _ in records]
    for (index, ids), scores in zip(owners, scorer.step_scores(prompts, paths)):
        found[index].update(zip(ids, scores))
    return found


def aggregate(scores: Sequence[float], how: str = "last") -> float:
    """One score for a path from its step scores: `min`, `last` or `mean` (0.0 for an empty path)."""
    if how not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {how!r}: choose one of {', '.join(AGGREGATIONS)}")
    if not len(scores):
        return 0.0
    return {"min": min, "last": lambda s: s[-1], "mean": lambda s: sum(s) / len(s)}[how](list(scores))


def pick(scores: Sequence[float], passed: Sequence[bool]) -> float:
    """The expected pass of choosing the best-scored candidate, ties broken
    uniformly at random (the mean pass over the tied best)."""
    best = max(scores)
    tied = [bool(p) for s, p in zip(scores, passed) if s == best]
    return sum(tied) / len(tied)


# ---------------------------------------------------------------- search guided by a PRM
@dataclass
class BeamResult:
    """What `beam_search` found for one problem."""

    program: str | None  # the best-scored finished solution's code (None: nothing finished)
    steps: list[str] = field(default_factory=list)
    score: float = 0.0
    tokens: int = 0  # tokens the policy generated for this problem
    finished: int = 0  # complete solutions among the candidates


def beam_search(policy, scorer: StepScorer, problems: Sequence, width: int = 2, expand: int = 4, max_depth: int = 6,
                how: str = "last", seed: int = 0) -> list[BeamResult]:
    """Step-level beam search: keep the `width` best partial solutions per problem
    (by `aggregate(step scores, how)`), expand each into `expand` next steps
    with `policy` (an `o1lite.stages.mcts.Policy`), score, repeat; a code step
    finishes a candidate, a dead end drops it. Returns the best-scored finished
    candidate per problem, with the tokens generated. All problems advance in lockstep."""
    beams = [[()] for _ in problems]
    done: list[list[tuple[float, tuple, Any]]] = [[] for _ in problems]
    tokens = [0] * len(problems)
    for depth in range(max_depth):
        open_states = [(i, steps) for i, beam in enumerate(beams) for steps in beam]
        if not open_states:
            break
        states = [State(problems[i], steps, derive_seed(seed, problems[i].task_id, depth, j))
                  for j, (i, steps) in enumerate(open_states)]
        children = policy.expand(states, expand)
        candidates: list[list[tuple[tuple, Any]]] = [[] for _ in problems]
        for (i, steps), kids in zip(open_states, children):
            for kid in kids:
                tokens[i] += kid.n_tokens
                if not (kid.terminal and kid.program is None) and depth + 1 <= max_depth:
                    candidates[i].append(((*steps, kid.text), kid))
        flat = [(i, path, kid) for i, cands in enumerate(candidates) for path, kid in cands]
        scored = scorer.step_scores([problems[i].prompt for i, _, _ in flat], [list(path) for _, path, _ in flat])
        beams = [[] for _ in problems]
        ranked: list[list[tuple[float, tuple, Any]]] = [[] for _ in problems]
        for (i, path, kid), step_scores in zip(flat, scored):
            ranked[i].append((aggregate(step_scores, how), path, kid))
        for i, options in enumerate(ranked):
            options.sort(key=lambda o: -o[0])  # stable: ties keep generation order
            done[i].extend(o for o in options if o[2].terminal)
            beams[i] = [path for _, path, kid in options if not kid.terminal][:width]
    results = []
    for i in range(len(problems)):
        if done[i]:
            score, path, kid = max(done[i], key=lambda o: o[0])
            results.append(BeamResult(kid.program, list(path), score, tokens[i], len(done[i])))
        else:
            results.append(BeamResult(None, [], 0.0, tokens[i], 0))
    return results
