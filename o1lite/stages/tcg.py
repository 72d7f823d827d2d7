"""The test case generator (TCG): data, SFT then DPO, evaluation, and an API.

o1-Coder's first component writes test cases for a problem and a solution,
so that later steps (MCTS rewards, RL, test-time selection) can run code
against tests nobody wrote by hand. This module rebuilds it in four steps:

1. **SFT data** (`sft_examples`): for each training problem, the paper's
   template (`o1lite.stages.prompts.tcg_prompt`) holding the reference solution,
   completed by `n_cases` cases whose outputs come from running the
   reference on chosen inputs in the sandbox.
2. **SFT** (`o1lite.training.sft_lora`): LoRA, loss on the cases only.
3. **DPO pairs** (`dpo_pairs`) from the SFT model's own samples on training
   problems, judged by running the reference in the sandbox; then DPO
   (`o1lite.training.dpo_lora`).
4. **Evaluation** (`evaluate_tcg`) on held-out problems: the paper's pass
   rate, the parse rate, the distinct-input rate and a mutation score.

Definitions the paper leaves open, chosen here (and used everywhere):

- a case is *correct* when the reference, run on its input in the sandbox,
  returns exactly (same types) its output; an input the reference rejects
  (it raises) makes the case incorrect;
- per problem, the **pass rate** is the number of correct cases among the
  first `n_cases` the model wrote, divided by `n_cases` (a case that does
  not parse counts as incorrect, so writing fewer cases never helps); the
  reported number is the mean over problems;
- the **parse rate** is parsed cases / `n_cases`; the **distinct-input
  rate** is distinct parsed inputs / `n_cases`;
- the **mutation score** of a problem is the fraction of its mutants
  (`o1lite.mutation`, only those the official tests can tell apart from the
  reference) caught by the generated cases that are correct; a mutant is
  caught when one of those cases fails on it.

`generate_tests` is what later chapters call; `load_tcg` gives them the
trained TCG, training it first if it is not cached. Generated cases are
literals (`TestCase`) read with `ast.literal_eval`; model-written text is
never evaluated, and all code runs in `o1lite.sandbox`. Introduced in
chapter 02.
"""

from __future__ import annotations

import ast
import json
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

from ..metrics import estimate
from .. import mutation
from ..problems import Problem, TestCase, load_problems, synthetic
from ..pool import run_jobs
from ..problems.asserts import is_literal
from ..profiles import get_profile, run_dir
from ..record import source_hash, stable_hash
from ..sandbox import Sandbox, exact_equal
from .prompts import (
    TCG_MAX_CASE_CHARS,
    TCG_PARSE_ERRORS,
    ParsedTests,
    case_chars,
    format_cases,
    parse_tests,
    tcg_prompt,
)


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True)
class TCGConfig:
    """Everything that determines a trained TCG; its hash names the cache folder."""

    n_cases: int = 3  # cases per sample (the official code asks for 3)
    sft_problems: int = 2000  # training problems turned into SFT examples
    sft_steps: int = 100  # optimiser steps of LoRA SFT
    sft_batch_size: int = 16
    sft_learning_rate: float = 4e-3
    dpo_problems: int = 120  # training problems the SFT model samples on for DPO pairs
    dpo_samples: int = 4  # samples per problem
    dpo_temperature: float = 0.7
    dpo_pairs_per_problem: int = 2  # at most this many sampled pairs from one problem
    dpo_min_pairs: int = 120  # top up with shuffled-output pairs below this
    dpo_steps: int = 20
    dpo_batch_size: int = 16
    dpo_learning_rate: float = 2e-4
    dpo_beta: float = 0.2
    dpo_sft_weight: float = 1.0  # weight of an NLL term on the chosen sets (RPO); 0: plain DPO
    controls: bool = True  # also train plain DPO and SFT continued on the chosen sets (see STAGES)
    lora_rank: int = 16
    max_new_tokens: int = 112  # three synthetic cases take 40-100 tokens
    seed: int = 0

    def key(self, base: str = "") -> str:
        """Names the cache: the config, the base, and the code that builds a TCG."""
        return stable_hash({"config": asdict(self), "base": base, "code": source_hash(*CODE)})


CODE = ("stages/tcg.py", "stages/prompts.py", "training.py", "generation.py")  # what a TCG build runs
MICRO_TCG = TCGConfig(sft_problems=48, sft_steps=4, sft_batch_size=8, dpo_problems=8, dpo_samples=2,
                      dpo_min_pairs=8, dpo_steps=2, dpo_batch_size=4, max_new_tokens=48)


def tcg_config(profile="tiny", seed: int = 0) -> TCGConfig:
    """The default TCG configuration for a profile and seed, as chapter 02 trains it (MICRO_TCG for a
    smoke profile; longer outputs for hub models), so later chapters find its cached builds."""
    profile = get_profile(profile)
    if profile.smoke:
        return replace(MICRO_TCG, seed=seed)
    return replace(TCGConfig() if profile.is_tiny else replace(TCGConfig(), max_new_tokens=256), seed=seed)


# ---------------------------------------------------------------- problems and inputs
def arity(program: str, entry_point: str) -> tuple[int, int] | None:
    """(fewest, most) positional arguments `entry_point` accepts; None if not found."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            positional = node.args.posonlyargs + node.args.args
            most = 10**6 if node.args.vararg else len(positional)
            return (len(positional) - len(node.args.defaults), most)
    return None


def statement_of(problem: Problem) -> str:
    return problem.statement or problem.prompt


def usable(problems: Sequence[Problem]) -> list[Problem]:
    """The problems a TCG can train or be scored on: literal tests and a known arity."""
    return [p for p in problems if p.literal_tests and arity(p.reference, p.entry_point)]


def _fresh_synthetic_input(problem: Problem, rng: random.Random):
    """A new short input of the synthetic suite's own kind (None for other suites)."""
    kind = problem.meta.get("input_type")
    if kind == "list[int]":
        return [rng.choice(synthetic.INT_VALUES) for _ in range(rng.randint(0, 4))]
    if kind == "str":
        alphabet = synthetic.LETTERS * 3 + synthetic.DIGITS + "  "
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7)))
    return None


def candidate_inputs(problem: Problem, rng: random.Random, fresh: int = 6) -> list[tuple]:
    """The problem's own test inputs plus, for the synthetic suite, `fresh` new short ones; distinct."""
    pool = [tuple(case.args) for case in problem.tests]
    if problem.suite == "synthetic":
        for _ in range(fresh):
            value = _fresh_synthetic_input(problem, rng)
            if value is not None:
                pool.append((value,))
    distinct: dict[str, tuple] = {}
    for args in pool:
        distinct.setdefault(repr(args), args)
    return list(distinct.values())


def reference_cases(sandbox, problems: Sequence[Problem], inputs: Sequence[Sequence[tuple]],
                    solutions: Sequence[str] | None = None) -> list[list[TestCase | None]]:
    """Run each solution (default: the reference) on its inputs in the sandbox.

    Returns, per problem, a `TestCase` per input (None where the solution
    raised, timed out, or returned something that is not a literal).
    """
    programs = solutions or [p.reference for p in problems]
    jobs = [(program, p.entry_point, list(args)) for p, program, args in zip(problems, programs, inputs)]
    results = sandbox.call_many(jobs) if jobs else []
    cases = []
    for args_list, outcomes in zip(inputs, results):
        row = []
        for args, outcome in zip(args_list, outcomes):
            ok = outcome.ok and is_literal(outcome.value)
            row.append(TestCase(tuple(args), outcome.value) if ok else None)
        cases.append(row)
    return cases


# ---------------------------------------------------------------- 1. SFT data
def sft_examples(problems: Sequence[Problem], sandbox, n_cases: int = 3, seed: int = 0) -> list[dict]:
    """One SFT example per problem: the template's prompt and `n_cases` reference-checked cases.

    Inputs: distinct candidates (`candidate_inputs`), the shorter half of
    them preferred (short cases are what a small model can compute), each
    case under `TCG_MAX_CASE_CHARS`. Outputs: what the reference returns in
    the sandbox. Problems with fewer than `n_cases` usable cases are skipped.
    """
    rng = random.Random(seed)
    problems = usable(problems)
    pools = [sorted(candidate_inputs(p, rng), key=lambda args: len(repr(args))) for p in problems]
    runs = reference_cases(sandbox, problems, pools)
    examples = []
    for problem, row in zip(problems, runs):
        cases = [case for case in row if case is not None and case_chars(case) < TCG_MAX_CASE_CHARS]
        if len(cases) < n_cases:
            continue
        shortlist = cases[: max(n_cases, (len(cases) + 1) // 2)]
        picked = sorted(rng.sample(range(len(shortlist)), n_cases))
        examples.append({
            "prompt": tcg_prompt(statement_of(problem), problem.reference, n_cases),
            "completion": format_cases([shortlist[i] for i in picked]),
            "task_id": problem.task_id,
        })
    return examples


# ---------------------------------------------------------------- generation and judging
def tcg_prompts(problems: Sequence[Problem], solutions: Sequence[str] | None = None, n_cases: int = 3) -> list[str]:
    solutions = solutions or [p.reference for p in problems]
    return [tcg_prompt(statement_of(p), s, n_cases) for p, s in zip(problems, solutions)]


def parse_completion(problem: Problem, text: str, n_cases: int = 3, solution: str | None = None) -> ParsedTests:
    """`parse_tests` with the entry point's arity and at most `n_cases` cases."""
    return parse_tests(text, arity(solution or problem.reference, problem.entry_point), max_cases=n_cases)


def check_cases(sandbox, problems: Sequence[Problem], parsed: Sequence[ParsedTests],
                solutions: Sequence[str] | None = None) -> list[list[bool]]:
    """Per problem, per parsed case: does the solution (default: the reference) return its output?"""
    truth = reference_cases(sandbox, problems, [[c.args for c in p.cases] for p in parsed], solutions)
    return [[t is not None and exact_equal(t.expected, c.expected) for c, t in zip(p.cases, row)]
            for p, row in zip(parsed, truth)]


def generate_tests(model, tokenizer, problems: Sequence[Problem], solutions: Sequence[str] | None = None,
                   n_cases: int = 3, sandbox=None, temperature: float = 0.0, n_samples: int = 1,
                   max_new_tokens: int = 112, batch_size: int = 64, seed: int = 0) -> list[list[TestCase]]:
    """Test cases for each problem, written by a TCG model (one batched `sample` call).

    The code section of the prompt holds `solutions[i]` (default: the
    problem's reference). With `n_samples > 1` (and `temperature > 0`) the
    cases of all samples are pooled, first occurrence of each input kept.
    With a `sandbox`, only the cases that solution agrees with are kept
    (useful when the solution is trusted, as a reference is); without one,
    the cases are returned as written. Every case is a literal `TestCase`
    ready for `Sandbox.run_tests`.
    """
    from ..generation import sample

    problems = list(problems)
    solutions = list(solutions) if solutions is not None else [p.reference for p in problems]
    completions = sample(model, tokenizer, tcg_prompts(problems, solutions, n_cases), n=n_samples,
                         temperature=temperature, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed)
    pooled = []
    for problem, solution, texts in zip(problems, solutions, completions):
        seen: dict[str, TestCase] = {}
        for text in texts:
            for case in parse_completion(problem, text, n_cases, solution).cases:
                seen.setdefault(repr(case.args), case)
        pooled.append(list(seen.values()))
    if sandbox is not None:
        verdicts = check_cases(sandbox, problems, [ParsedTests(cases=c) for c in pooled], solutions)
        pooled = [[c for c, ok in zip(cases, flags) if ok] for cases, flags in zip(pooled, verdicts)]
    return pooled


# ---------------------------------------------------------------- 3. DPO pairs
PAIR_SOURCES = ("sampled", "corrected", "shuffled")


def shuffled_outputs(cases: Sequence[TestCase]) -> list[TestCase] | None:
    """The paper's rejected set: the same inputs with the outputs rotated by one.

    None when rotating changes no output (fewer than two cases, or all
    outputs equal), since the result would not be wrong.
    """
    if len(cases) < 2:
        return None
    rotated = [TestCase(c.args, cases[(i + 1) % len(cases)].expected) for i, c in enumerate(cases)]
    if all(repr(a.expected) == repr(b.expected) for a, b in zip(cases, rotated)):
        return None
    return rotated


def dpo_pairs(problems: Sequence[Problem], completions: Sequence[Sequence[str]], sandbox, n_cases: int = 3,
              pairs_per_problem: int = 2, min_pairs: int = 0) -> tuple[list[dict], dict]:
    """Preference pairs from a model's own samples, judged against the reference in the sandbox.

    Per problem, a sample is *correct* when it has `n_cases` cases and the
    reference returns every output; *wrong* when some parsed case is not
    (samples that do not parse at all are left out). Each wrong sample (up
    to `pairs_per_problem`, distinct ones) becomes a rejected answer, paired
    with

    - a correct sample of the same problem (source `sampled`), or, when the
      problem has none,
    - its own inputs with the reference's outputs (source `corrected`; only
      when the reference accepts every input).

    If that gives fewer than `min_pairs` pairs, the paper's construction
    tops them up (source `shuffled`): a correct set, rejected = the same
    inputs with outputs rotated among the cases; problems that gave no
    pair yet go first, and problems with no correct set at all use their
    own first `n_cases` tests (reference-checked literals) last. Chosen and rejected are written in the template's
    canonical form. Returns (pairs, counts per source and of samples).
    """
    problems = list(problems)
    parsed = [[parse_completion(p, text, n_cases) for text in texts] for p, texts in zip(problems, completions)]
    flat_problems = [p for p, row in zip(problems, parsed) for _ in row]
    flat_parsed = [x for row in parsed for x in row]
    flat_truth = reference_cases(sandbox, flat_problems, [[c.args for c in x.cases] for x in flat_parsed])
    pairs: list[dict] = []
    counts = {source: 0 for source in PAIR_SOURCES}
    counts.update(samples=len(flat_parsed), correct_samples=0, wrong_samples=0, unparsed_samples=0)
    shuffle_pool: list[tuple[int, Problem, list[TestCase]]] = []  # (pairs already made, problem, correct set)
    position = 0
    for problem, row in zip(problems, parsed):
        prompt = tcg_prompt(statement_of(problem), problem.reference, n_cases)
        correct_sets, wrong_sets, seen = [], [], set()
        for sample_parse in row:
            truth = flat_truth[position]
            position += 1
            if not sample_parse.cases:
                counts["unparsed_samples"] += 1
                continue
            flags = [t is not None and exact_equal(t.expected, c.expected) for c, t in zip(sample_parse.cases, truth)]
            text = format_cases(sample_parse.cases)
            if all(flags) and len(sample_parse.cases) == n_cases:
                counts["correct_samples"] += 1
                if text not in seen:
                    correct_sets.append(sample_parse.cases)
            elif not all(flags):
                counts["wrong_samples"] += 1
                if text not in seen:
                    wrong_sets.append((sample_parse.cases, truth))
            seen.add(text)
        made, sampled_correct = 0, list(correct_sets)
        for cases, truth in wrong_sets[:pairs_per_problem]:
            rejected = format_cases(cases)
            if sampled_correct:
                chosen, source = format_cases(sampled_correct[made % len(sampled_correct)]), "sampled"
            elif all(t is not None for t in truth) and len(truth) == n_cases:
                chosen, source = format_cases(truth), "corrected"
                correct_sets.append(list(truth))
            else:
                continue
            pairs.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "source": source,
                          "task_id": problem.task_id})
            counts[source] += 1
            made += 1
        for cases in correct_sets[:1]:
            shuffle_pool.append((made, problem, cases))
    with_sets = {id(problem) for _, problem, _ in shuffle_pool}
    own_tests = [(0, p, list(p.tests[:n_cases])) for p in problems if id(p) not in with_sets]
    for _, problem, cases in sorted(shuffle_pool, key=lambda item: item[0]) + own_tests:
        if len(pairs) >= min_pairs:
            break
        wrong = shuffled_outputs(cases)
        if wrong is None:
            continue
        pairs.append({"prompt": tcg_prompt(statement_of(problem), problem.reference, n_cases),
                      "chosen": format_cases(cases), "rejected": format_cases(wrong), "source": "shuffled",
                      "task_id": problem.task_id})
        counts["shuffled"] += 1
    return pairs, counts


# ---------------------------------------------------------------- 4. evaluation
@dataclass
class TCGEvaluation:
    """Generated test sets for a list of problems, and how good they are (per problem)."""

    problems: list[Problem]
    completions: list[str]
    parsed: list[ParsedTests]
    correct: list[list[bool]]
    n_cases: int
    caught: list[list[bool]] | None = None  # per problem, per mutant
    extra: dict = field(default_factory=dict)

    def pass_rates(self) -> list[float]:
        return [sum(flags) / self.n_cases for flags in self.correct]

    def parse_rates(self) -> list[float]:
        return [len(p.cases) / self.n_cases for p in self.parsed]

    def distinct_rates(self) -> list[float]:
        return [len({repr(c.args) for c in p.cases}) / self.n_cases for p in self.parsed]

    def distinct_correct_rates(self) -> list[float]:
        """Correct cases with distinct inputs / `n_cases`: a repeated correct case counts once
        (`pass_rates` counts it each time, so repetition alone can raise it)."""
        return [len({repr(c.args) for c in self.correct_cases(i)}) / self.n_cases for i in range(len(self.parsed))]

    def mutation_scores(self) -> list[float]:
        """Per problem with at least one mutant: the fraction caught."""
        return [sum(row) / len(row) for row in (self.caught or []) if row]

    def parse_errors(self) -> dict[str, int]:
        counts = {kind: 0 for kind in TCG_PARSE_ERRORS}
        for p in self.parsed:
            for error in p.errors:
                counts[error] += 1
        return counts

    def correct_cases(self, index: int) -> list[TestCase]:
        return [c for c, ok in zip(self.parsed[index].cases, self.correct[index]) if ok]

    def summary(self) -> dict:
        """{"pass_rate", "parse_rate", "distinct_rate", "distinct_correct_rate", "mutation_score"}, each an
        estimate with a 95% CI."""
        result = {"pass_rate": estimate(self.pass_rates()), "parse_rate": estimate(self.parse_rates()),
                  "distinct_rate": estimate(self.distinct_rates()),
                  "distinct_correct_rate": estimate(self.distinct_correct_rates())}
        if self.caught is not None:
            result["mutation_score"] = estimate(self.mutation_scores())
        return result


def problem_mutants(sandbox, problems: Sequence[Problem], per_problem: int = 8) -> list[list]:
    """For each problem, up to `per_problem` mutants its official tests tell apart from the reference."""
    return [mutation.distinguishable(sandbox, p.reference, p.entry_point,
                                     mutation.mutants(p.reference, limit=per_problem),
                            [tuple(c.args) for c in p.tests]) for p in problems]


def evaluate_tcg(model, tokenizer, problems: Sequence[Problem], sandbox, n_cases: int = 3,
                 mutants: Sequence[Sequence] | None = None, max_new_tokens: int = 112,
                 batch_size: int = 64, seed: int = 0) -> TCGEvaluation:
    """Greedy test sets for `problems` (reference in the code section), judged in the sandbox.

    With `mutants` (from `problem_mutants`), also records which mutants the
    correct generated cases catch.
    """
    from ..generation import sample
    problems = list(problems)
    texts = [row[0] for row in sample(model, tokenizer, tcg_prompts(problems, None, n_cases), n=1,
                                      temperature=0.0, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                      seed=seed)]
    parsed = [parse_completion(p, t, n_cases) for p, t in zip(problems, texts)]
    correct = check_cases(sandbox, problems, parsed)
    evaluation = TCGEvaluation(problems, texts, parsed, correct, n_cases)
    if mutants is not None:
        evaluation.caught = [mutation.mutants_caught(sandbox, p.entry_point, m, evaluation.correct_cases(i))
                             for i, (p, m) in enumerate(zip(problems, mutants))]
    return evaluation


# ---------------------------------------------------------------- training and the cached TCG
def template_tokens(tokenizer, examples: Sequence[dict]) -> list[int]:
    """Every token id the SFT examples use (prompt and completion)."""
    ids: set[int] = set()
    for example in examples:
        ids.update(tokenizer(example["prompt"] + example["completion"])["input_ids"])
    return sorted(ids)


def train_sft(model, tokenizer, examples: Sequence[dict], out_dir: str | Path, config: TCGConfig,
              train_embeddings: bool = False) -> dict:
    """LoRA SFT on (prompt, completion) examples; the adapter goes to `out_dir`.

    `train_embeddings=True` also trains the embeddings of the tokens the
    examples use (peft's `trainable_token_indices`). The tiny base needs it:
    pretrained on bare solutions, it never saw `#`, a line that starts with
    `[` or most negative numbers, so those embeddings are still random, and
    LoRA on the linear layers alone cannot move them. Real checkpoints know
    every token and leave it off.
    """
    from datasets import Dataset

    from ..models import lora_config
    from ..training import sft_lora

    dataset = Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])
    peft_config = lora_config(config.lora_rank)
    if train_embeddings:
        peft_config = replace(peft_config, trainable_token_indices=template_tokens(tokenizer, examples))
    return sft_lora(model, tokenizer, dataset, out_dir, steps=config.sft_steps, batch_size=config.sft_batch_size,
                    learning_rate=config.sft_learning_rate, rank=config.lora_rank, seed=config.seed,
                    peft_config=peft_config, loss_type="nll")  # TRL's default chunked loss cannot see through peft's tied token wrapper


def train_dpo(model, tokenizer, pairs: Sequence[dict], out_dir: str | Path, config: TCGConfig,
              nll_weight: float | None = None) -> dict:
    """LoRA DPO on (prompt, chosen, rejected) pairs, starting from `model` (the merged SFT model).

    `nll_weight` (default `config.dpo_sft_weight`) weighs an NLL term on the
    chosen sets added to the DPO loss (TRL's `loss_type=["sigmoid", "sft"]`,
    as in RPO); 0 is plain DPO."""
    from datasets import Dataset

    from ..training import dpo_lora

    dataset = Dataset.from_list([{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs])
    # Plain DPO lowers the likelihood of chosen and rejected alike, which a tiny model does not survive
    # (its pass rate fell from 0.38 to 0.24 in our runs); an NLL term on the chosen sets keeps them likely.
    weight = config.dpo_sft_weight if nll_weight is None else nll_weight
    loss = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, weight]} if weight else {}
    return dpo_lora(model, tokenizer, dataset, out_dir, steps=config.dpo_steps, batch_size=config.dpo_batch_size,
                    learning_rate=config.dpo_learning_rate, beta=config.dpo_beta, rank=config.lora_rank,
                    seed=config.seed, **loss)


def train_sft_more(model, tokenizer, pairs: Sequence[dict], out_dir: str | Path, config: TCGConfig) -> dict:
    """The matched-compute control for DPO: from the same SFT model, SFT continued
    on the pairs' *chosen* sets only, for DPO's steps and batch size (at the SFT
    learning rate). DPO's gain counts only beyond what this gives."""
    from datasets import Dataset

    from ..training import sft_lora

    dataset = Dataset.from_list([{"prompt": p["prompt"], "completion": p["chosen"]} for p in pairs])
    return sft_lora(model, tokenizer, dataset, out_dir, steps=config.dpo_steps, batch_size=config.dpo_batch_size,
                    learning_rate=config.sft_learning_rate, rank=config.lora_rank, seed=config.seed, loss_type="nll")


# The trained stages of a TCG folder: each is an adapter on the one before (SFT on the base, the rest on SFT).
# "dpo" is DPO with the NLL term (`dpo_sft_weight`); with `controls`, "dpo_plain" (NLL weight 0) and
# "sft_more" (`train_sft_more`) are trained from the same SFT model on the same pairs.
STAGES = ("sft", "dpo", "dpo_plain", "sft_more")


def train_controls(profile, folder: Path, pairs: Sequence[dict], config: TCGConfig) -> dict:
    """Train the two controls into `folder`, each from a fresh load of its SFT stage; return their logs."""
    profile = get_profile(profile).for_seed(config.seed)
    model, tokenizer = load_stage(profile, folder, "sft")  # a trainer wraps its model in place: one load each
    logs = {"dpo_plain": train_dpo(model, tokenizer, pairs, folder / "dpo_plain", config, nll_weight=0.0)}
    model, tokenizer = load_stage(profile, folder, "sft")
    logs["sft_more"] = train_sft_more(model, tokenizer, pairs, folder / "sft_more", config)
    return logs


def tcg_dir(profile, config: TCGConfig) -> Path:
    """runs/<profile>/02/tcg_<hash of the config and the base>/ (holds sft/, dpo/, tcg.json); the base is
    the profile's for `config.seed` (`Profile.for_seed`)."""
    return run_dir(profile, "02") / f"tcg_{config.key(get_profile(profile).for_seed(config.seed).base_id)}"


def load_stage(profile, folder: str | Path, stage: str = "dpo"):
    """(model, tokenizer) for one of a trained TCG folder's `STAGES`: the base plus SFT, plus the stage's adapter.
    `profile` is the one the folder was built on: `profile.for_seed(seed)` for a seed's build."""
    from ..models import load_adapter

    if stage not in STAGES:
        raise ValueError(f"unknown TCG stage {stage!r}: use one of {', '.join(STAGES)}")
    folder = Path(folder)
    stages = ("sft",) if stage == "sft" else ("sft", stage)
    return load_adapter(profile, [folder / name for name in stages])


def training_problems(profile, count: int, seed: int = 0, **options) -> list[Problem]:
    """The profile's training problems a TCG can use (synthetic train split, or MBPP's train split)."""
    suite = get_profile(profile).suite
    if suite == "synthetic":
        return usable(load_problems("synthetic", "train", n=count, seed=seed))
    return usable(load_problems(suite, "train", **options))[:count]


def training_split(profile, config: TCGConfig, **problem_options) -> tuple[list[Problem], list[Problem]]:
    """(SFT problems, DPO problems) from the profile's training problems.

    The DPO problems follow the SFT ones; a suite too small for both (MBPP's
    train split) samples the DPO pairs on the first SFT problems instead.
    """
    problems = training_problems(profile, config.sft_problems + config.dpo_problems, config.seed, **problem_options)
    sft_set, dpo_set = problems[: config.sft_problems], problems[config.sft_problems:][: config.dpo_problems]
    if len(dpo_set) < config.dpo_problems:
        dpo_set = problems[: config.dpo_problems]
    return sft_set, dpo_set


def pair_samples(model, tokenizer, problems: Sequence[Problem], config: TCGConfig) -> list[list[str]]:
    """The SFT model's `config.dpo_samples` test sets per problem, which `dpo_pairs` turns into pairs."""
    from ..generation import sample

    return sample(model, tokenizer, tcg_prompts(problems, None, config.n_cases), n=config.dpo_samples,
                  temperature=config.dpo_temperature, max_new_tokens=config.max_new_tokens, seed=config.seed)


def save_build(folder: Path, config: TCGConfig, base: str, sft_examples: int, pairs: Sequence[dict], counts: dict,
               sft_log: dict, dpo_log: dict, seconds: float, control_logs: dict | None = None) -> Path:
    """Write the DPO pairs (`pairs.jsonl`) and then `tcg.json`, which marks the build finished."""
    with (folder / "pairs.jsonl").open("w") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair) + "\n")
    record = {"config": asdict(config), "base": base, "sft_examples": sft_examples, "pair_counts": counts,
              "sft_log": sft_log, "dpo_log": dpo_log, "control_logs": control_logs or {}, "seconds": round(seconds, 2)}
    (folder / "tcg.json").write_text(json.dumps(record, indent=2) + "\n")
    return folder / "tcg.json"


def read_build(folder: Path) -> tuple[dict, list[dict]]:
    """(tcg.json, the DPO pairs) of a finished build."""
    record = json.loads((folder / "tcg.json").read_text())
    with (folder / "pairs.jsonl").open() as handle:
        return record, [json.loads(line) for line in handle if line.strip()]


def build_tcg(profile, config: TCGConfig, sandbox=None, progress=print, sandbox_workers: int = 2, **problem_options) -> Path:
    """Train a TCG end to end (SFT data, SFT, DPO pairs, DPO) into `tcg_dir`; return the folder.

    Writes `tcg.json` (the config, pair counts, training logs, seconds) last,
    so a folder without it is an unfinished build. Without a `sandbox`, it
    opens one of `sandbox_workers` workers and closes it at the end.
    """
    from ..models import load_model

    profile = get_profile(profile).for_seed(config.seed)  # each seed's TCG trains on that seed's base
    folder = tcg_dir(profile, config)
    own_sandbox = sandbox is None
    sandbox = sandbox or Sandbox(workers=sandbox_workers)
    try:
        started = time.perf_counter()
        sft_set, dpo_set = training_split(profile, config, **problem_options)
        examples = sft_examples(sft_set, sandbox, config.n_cases, config.seed)
        model, tokenizer = load_model(profile)
        sft_log = train_sft(model, tokenizer, examples, folder / "sft", config, train_embeddings=get_profile(profile).is_tiny)
        progress(f"SFT: {len(examples)} examples, {config.sft_steps} steps, {sft_log['seconds']:.0f} s")
        model, tokenizer = load_stage(profile, folder, "sft")
        samples = pair_samples(model, tokenizer, dpo_set, config)
        pairs, counts = dpo_pairs(dpo_set, samples, sandbox, config.n_cases, config.dpo_pairs_per_problem,
                                  config.dpo_min_pairs)
        dpo_log = train_dpo(model, tokenizer, pairs, folder / "dpo", config)
        progress(f"DPO: {len(pairs)} pairs {counts}, {config.dpo_steps} steps, {dpo_log['seconds']:.0f} s")
        control_logs = train_controls(profile, folder, pairs, config) if config.controls else {}
        save_build(folder, config, get_profile(profile).base_id, len(examples), pairs, counts, sft_log, dpo_log,
                   time.perf_counter() - started, control_logs)
    finally:
        if own_sandbox:
            sandbox.close()
    return folder


def _build_job(profile, config: TCGConfig, sandbox_workers: int, problem_options: dict) -> tuple[Path, list[str]]:
    lines: list[str] = []
    return build_tcg(profile, config, progress=lines.append, sandbox_workers=sandbox_workers, **problem_options), lines


def build_tcgs(profile, configs: Sequence[TCGConfig], progress=print, sandbox_workers: int = 2, **problem_options) -> list[Path]:
    """`build_tcg` for each config (chapter 02's seeds), side by side in `pool.run_jobs`'s processes on a CPU,
    each with a sandbox of `sandbox_workers`; each build's progress lines are shown, prefixed with its seed,
    once it is done."""
    bases = [get_profile(profile).for_seed(config.seed) for config in configs]
    builds = run_jobs(_build_job, [(profile, config, sandbox_workers, problem_options) for config in configs], bases)
    for config, (_, lines) in zip(configs, builds):
        for line in lines:
            progress(f"seed {config.seed} · {line}")
    return [folder for folder, _ in builds]


def load_tcg(profile="tiny", config: TCGConfig | None = None, stage: str = "dpo", sandbox=None, **problem_options):
    """The trained TCG as (model, tokenizer): from the cache, or trained first (see `build_tcg`).

    A smoke profile (`get_profile(name, smoke=True)`) uses the micro tiny base
    and `MICRO_TCG` (seconds; for tests). `stage="sft"` gives the model before DPO.
    """
    config = config or tcg_config(profile)
    profile = get_profile(profile).for_seed(config.seed)
    folder = tcg_dir(profile, config)
    if not (folder / "tcg.json").exists():
        build_tcg(profile, config, sandbox=sandbox, progress=lambda _: None, **problem_options)
    return load_stage(profile, folder, stage)


__all__ = [
    "TCGConfig", "MICRO_TCG", "tcg_config", "arity", "usable", "candidate_inputs", "reference_cases",
    "sft_examples", "tcg_prompts", "parse_completion", "check_cases", "generate_tests", "PAIR_SOURCES",
    "shuffled_outputs", "dpo_pairs", "TCGEvaluation", "problem_mutants", "evaluate_tcg", "train_sft",
    "train_dpo", "train_sft_more", "STAGES", "train_controls", "tcg_dir", "load_stage", "save_build", "read_build", "build_tcg", "build_tcgs", "load_tcg", "training_problems", "training_split", "pair_samples",
]
