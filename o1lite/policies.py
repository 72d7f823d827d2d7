"""Chapter 03's two policies, vanilla and pseudocode: data, training, evaluation.

- `policy_dataset`: the train split as prompt/completion pairs in one format
  (templates in `o1lite.prompts`).
- `train_policy`: LoRA SFT (`o1lite.training.sft_lora`) from the profile's
  base, the same budget for every format; the adapter lands in
  `runs/<profile>/03/<format>/<hash of everything that shaped it>/` and is
  reused when it is already there.
- `evaluate_policy`: sample solutions, parse them, run the programs in the
  sandbox; for pseudocode also check the outline against the reference.
- `agreement_table`: steps right or wrong against code right or wrong.

Instruct (chat) profiles are prompted with the paper's instructions and one
worked example by default; `train_policy` fine-tunes them the same way when
asked. Introduced in chapter 03; the MCTS chapter reuses the pseudocode policy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Sequence

from . import models
from .evaluate import Evaluation, run_programs
from .generation import function_body, sample
from .problems import Problem, load_problems
from .profiles import Profile, get_profile, run_dir
from .prompts import chat_completion, outline_matches, parse_solution, policy_completion, policy_prompt

# Bump when a template in o1lite.prompts changes: cached adapters are then retrained.
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class PolicyTraining:
    """The SFT budget, shared by both formats so that they compare fairly."""

    n_train: int = 2000  # synthetic train problems
    steps: int = 200  # on tiny, 100 steps left the pseudocode policy at 0.05 greedy pass@1 on test, 200 at 0.31
    batch_size: int = 16
    learning_rate: float = 1e-2
    rank: int = 16
    train_embeddings: bool = True  # tiny only: also train the embeddings of the tokens the targets use
    seed: int = 0

    def key(self, fmt: str, base: str) -> str:
        blob = json.dumps({"format": fmt, "base": base, "version": FORMAT_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


MICRO_TRAINING = PolicyTraining(n_train=40, steps=3, batch_size=4)  # smoke runs: seconds


def policy_training(smoke: bool = False, seed: int = 0) -> PolicyTraining:
    """The budget chapter 03 trains with by default, so later chapters find its cached adapters."""
    return replace(MICRO_TRAINING if smoke else PolicyTraining(), seed=seed)


def policy_dataset(problems: Sequence[Problem], fmt: str, tokenizer=None, chat: bool = False):
    """A `datasets.Dataset` of prompt/completion pairs in `fmt` (no end-of-text: TRL adds it)."""
    from datasets import Dataset

    prompts = [policy_prompt(p, fmt, tokenizer, chat) for p in problems]
    completions = [chat_completion(p, fmt) if chat else policy_completion(p, fmt) for p in problems]
    return Dataset.from_dict({"prompt": prompts, "completion": completions})


def _base_key(profile: Profile, tiny: models.TinyConfig) -> str:
    return f"tiny-{tiny.key()}" if profile.is_tiny else str(profile.model_id)


def policy_dir(profile: str | Profile, fmt: str, training: PolicyTraining, tiny: models.TinyConfig = models.TinyConfig()) -> Path:
    """Where the adapter for this format, base and budget lives."""
    profile = get_profile(profile)
    return run_dir(profile, "03") / fmt / training.key(fmt, _base_key(profile, tiny))


def train_policy(
    profile: str | Profile,
    fmt: str,
    training: PolicyTraining = PolicyTraining(),
    tiny: models.TinyConfig = models.TinyConfig(),
    retrain: bool = False,
) -> tuple[Path, dict]:
    """LoRA SFT of the profile's base in `fmt` on the synthetic train split.

    Returns the adapter folder and its training log (`seconds`, loss curve,
    and `cached: True` when an earlier run's adapter was reused).
    """
    from transformers import set_seed

    from .training import sft_lora

    profile = get_profile(profile)
    out = policy_dir(profile, fmt, training, tiny)
    log_path = out / "train_log.json"
    if log_path.exists() and (out / "adapter_config.json").exists() and not retrain:
        return out, {**json.loads(log_path.read_text()), "cached": True}
    set_seed(training.seed)
    model, tokenizer = models.load_model(profile, tiny)
    problems = load_problems("synthetic", "train", n=training.n_train, seed=training.seed)
    dataset = policy_dataset(problems, fmt, tokenizer, chat=profile.chat)
    peft_config = models.lora_config(training.rank)
    options = {}
    if profile.is_tiny and training.train_embeddings:
        # The tiny base never saw English at the start of a line ("Refine", "1."), so those
        # embeddings are near their random start and LoRA on the linear layers cannot move them.
        used = sorted({i for text in dataset["completion"] for i in tokenizer(text)["input_ids"]})
        peft_config = replace(peft_config, trainable_token_indices=used)
        options["loss_type"] = "nll"  # TRL's chunked loss does not see through peft's tied-token wrapper
    log = sft_lora(
        model, tokenizer, dataset, out, steps=training.steps, batch_size=training.batch_size,
        learning_rate=training.learning_rate, rank=training.rank, seed=training.seed,
        peft_config=peft_config, **options,
    )
    return out, {**log, "cached": False}


def load_policy(profile: str | Profile, adapter_dir: str | Path | None, tiny: models.TinyConfig = models.TinyConfig()):
    """(model, tokenizer): the base with the adapter merged, or the bare base when `adapter_dir` is None."""
    if adapter_dir is None:
        return models.load_model(profile, tiny)
    return models.load_adapter(profile, adapter_dir, tiny)


def solution_program(problem: Problem, code: str | None) -> str | None:
    """The program to run for a parsed solution's code: the code itself when
    it defines the entry point (a chat model's whole function), else the
    problem prompt plus the code as a function body. None when there is no code."""
    if code is None:
        return None
    if f"def {problem.entry_point}(" in code:
        return code
    return problem.prompt + function_body(code)


def evaluate_policy(
    model,
    tokenizer,
    problems: Sequence[Problem],
    fmt: str,
    sandbox,
    n: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 96,
    batch_size: int = 64,
    seed: int = 0,
    chat: bool = False,
) -> Evaluation:
    """Sample `n` whole solutions per problem in `fmt`, parse, and judge them.

    One `generate` per batch for the whole solution (sampling step by step
    gives the same distribution, but costs a call per step). A solution
    without code fails without being run. `extra` holds, per sample, the
    parsed solution (`parsed`) and whether its outline names the reference
    outline's steps (`outline_right`: None for vanilla or without a
    reference outline).
    """
    prompts = [policy_prompt(p, fmt, tokenizer, chat) for p in problems]
    completions = sample(
        model, tokenizer, prompts, n=n, temperature=temperature, max_new_tokens=max_new_tokens,
        batch_size=batch_size, seed=seed,
    )
    parsed = [[parse_solution(c, fmt) for c in cs] for cs in completions]
    programs = [[solution_program(p, s.code) for s in ss] for p, ss in zip(problems, parsed)]
    runnable = [[program for program in candidates if program is not None] for candidates in programs]
    passed = []
    for candidates, judged in zip(programs, run_programs(sandbox, problems, runnable)):
        verdict = iter(judged)  # verdicts of the runnable candidates, in order
        passed.append([next(verdict) if program is not None else False for program in candidates])
    outline_right = [
        [outline_matches(s.outline, p.pseudocode[0]) if fmt == "pseudocode" and p.pseudocode else None for s in ss]
        for p, ss in zip(problems, parsed)
    ]
    extra = {"format": fmt, "parsed": parsed, "outline_right": outline_right}
    return Evaluation(list(problems), completions, passed, n, temperature, extra)


def agreement_table(evaluation: Evaluation) -> dict[str, int]:
    """Counts of samples by (steps right?, code right?) for a pseudocode evaluation.

    Steps are right when the outline names the reference outline's steps,
    constants included. Samples without a reference outline are left out.
    """
    table = {"steps_right_code_right": 0, "steps_right_code_wrong": 0,
             "steps_wrong_code_right": 0, "steps_wrong_code_wrong": 0}
    for rights, passes in zip(evaluation.extra["outline_right"], evaluation.passed):
        for steps_right, code_right in zip(rights, passes):
            if steps_right is None:
                continue
            key = f"steps_{'right' if steps_right else 'wrong'}_code_{'right' if code_right else 'wrong'}"
            table[key] += 1
    return table
