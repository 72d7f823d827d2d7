"""The policy: one object that generation, search, RL and selection all use;
chapter 03's two formats of it, vanilla and pseudocode; its training.

- `LanguagePolicy`: a causal LM in one format. It writes prompts, samples
  whole solutions, reads the program out of a completion, proposes next
  steps for the search (`o1lite.stages.mcts.Policy`), and gives the sandbox
  reward function in TRL's signature with the prompt dataset it reads
  (`prompt_dataset`, `reward_function`).

- `policy_dataset`: the train split as prompt/completion pairs in one format
  (templates in `o1lite.stages.prompts`).
- `train_policy`: LoRA SFT (`o1lite.training.sft_lora`) from the profile's
  base, the same budget for every format; the adapter lands in
  `runs/<profile>/03/<format>/<hash of everything that shaped it>/` and is
  reused when it is already there.
- `evaluate_policy`: sample solutions, parse them, run the programs in the
  sandbox; for pseudocode also check the outline against the reference.
- `agreement_table`: steps right or wrong against code right or wrong.

- `initialise_policy`: the paper's step 4, fine-tuning a policy on the
  correct paths a search found (chapter 04).

Instruct (chat) profiles are prompted with the paper's instructions and one
worked example by default; `train_policy` fine-tunes them the same way when
asked. Introduced in chapter 03; the MCTS chapter reuses the pseudocode policy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .. import programs
from ..problems import Problem, load_problems
from ..profiles import Profile, get_profile, run_dir
from ..record import source_hash, stable_hash
from ..sandbox import ExecutionReward, Sandbox, encode_tests
from .mcts import SearchStep, State
from .prompts import (
    ACTION_CODE, POLICY_FORMATS, STEP_DELIMITER, chat_completion, extract_code, outline_matches, parse_solution,
    policy_completion, policy_prompt, split_steps, step_action,
)

if TYPE_CHECKING:
    from ..evaluate import Evaluation

# Bump when a template in o1lite.stages.prompts changes: cached adapters are then retrained.
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class PolicyTraining:
    """The SFT budget, shared by both formats so that they compare fairly."""

    n_train: int = 2000  # synthetic train problems
    steps: int = 200  # the pseudocode format needs more steps than vanilla to learn (chapter 03, exercise 1)
    batch_size: int = 16
    learning_rate: float = 1e-2
    rank: int = 16
    train_embeddings: bool = True  # tiny only: also train the embeddings of the tokens the targets use
    seed: int = 0

    def key(self, fmt: str, base: str) -> str:
        return stable_hash({"format": fmt, "base": base, "version": FORMAT_VERSION, **asdict(self),
                            "code": source_hash("stages/policies.py", "stages/prompts.py", "training.py")})


MICRO_TRAINING = PolicyTraining(n_train=40, steps=3, batch_size=4)  # smoke runs: seconds


def policy_training(profile: str | Profile = "tiny", seed: int = 0) -> PolicyTraining:
    """The budget chapter 03 trains with by default (micro for a smoke profile), so later chapters find its cached adapters."""
    return replace(MICRO_TRAINING if get_profile(profile).smoke else PolicyTraining(), seed=seed)


def policy_dataset(problems: Sequence[Problem], fmt: str, tokenizer=None, chat: bool = False):
    """A `datasets.Dataset` of prompt/completion pairs in `fmt` (no end-of-text: TRL adds it)."""
    from datasets import Dataset

    prompts = [policy_prompt(p, fmt, tokenizer, chat) for p in problems]
    completions = [chat_completion(p, fmt) if chat else policy_completion(p, fmt) for p in problems]
    return Dataset.from_dict({"prompt": prompts, "completion": completions})


def policy_dir(profile: str | Profile, fmt: str, training: PolicyTraining) -> Path:
    """Where the adapter for this format, base and budget lives (the base of `training.seed`)."""
    profile = get_profile(profile).for_seed(training.seed)
    return run_dir(profile, "03") / fmt / training.key(fmt, profile.base_id)


def train_policy(
    profile: str | Profile,
    fmt: str,
    training: PolicyTraining = PolicyTraining(),
    retrain: bool = False,
    out_dir: str | Path | None = None,
    micro_batches: int = 2,
) -> tuple[Path, dict]:
    """LoRA SFT in `fmt` on the synthetic train split, of the profile's base for `training.seed`.

    Returns the adapter folder and its training log (`seconds`, loss curve,
    and `cached: True` when an earlier run's adapter was reused, in `out_dir`
    too unless `retrain`). `out_dir` replaces the cached folder `policy_dir`
    names; `micro_batches` goes to `o1lite.training.sft_lora`
    (`benchmarks/length_balanced_sft.py` compares 1 and 2) and needs an
    `out_dir` when it is not 2, since the cache's key does not hold it.
    """
    from transformers import set_seed

    from .. import models
    from ..training import sft_lora

    if micro_batches != 2 and out_dir is None:
        raise ValueError(f"micro_batches={micro_batches} needs an out_dir: the cached policies are trained with 2")
    profile = get_profile(profile).for_seed(training.seed)
    out = Path(out_dir) if out_dir is not None else policy_dir(profile, fmt, training)
    log_path = out / "train_log.json"
    if log_path.exists() and (out / "adapter_config.json").exists() and not retrain:
        return out, {**json.loads(log_path.read_text()), "cached": True}
    set_seed(training.seed)
    model, tokenizer = models.load_model(profile)
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
        peft_config=peft_config, micro_batches=micro_batches, **options,
    )
    return out, {**log, "cached": False}


def load_policy(profile: str | Profile, adapter_dir: str | Path | None):
    """(model, tokenizer): the base with the adapter merged, or the bare base when `adapter_dir` is None."""
    from .. import models

    if adapter_dir is None:
        return models.load_model(profile)
    return models.load_adapter(profile, adapter_dir)


def _program(problem: Problem, code: str | None) -> str | None:
    """The program to run for a parsed solution's code (`o1lite.programs.solution_program`)."""
    return programs.solution_program(problem.prompt, problem.entry_point, code)


# ---------------------------------------------------------------- the policy object
class LanguagePolicy:
    """A causal LM (base + adapters, merged) as the policy of every later stage,
    in one of chapter 03's formats (`o1lite.stages.prompts`).

    - `prompt(problem)`, `sample(problems, n)`: whole solutions
      (`o1lite.generation.sample`); `program(problem, completion)`: the program to run.
    - `expand(states, k)`: the search's `Policy` protocol. For `vanilla`
      every step is the whole code (a depth-1 tree); for `pseudocode` a step
      is an outline, a refinement or the code, ended by the step delimiter.
      One call of `o1lite.generation.sample_steps_shared`: every state's
      prefix is encoded once and its siblings decode from copies of its
      cache; each state's `seed` seeds its rows.
    - `prompt_dataset(problems)` and `reward_function(sandbox)`: what TRL's
      `GRPOTrainer` takes as `train_dataset` and `reward_funcs`.

    Counters (`calls`, `steps_generated`, `tokens_generated`) measure the search's work.
    """

    def __init__(self, model, tokenizer, fmt: str = "pseudocode", temperature: float = 0.8,
                 max_new_tokens: int = 96, chat: bool = False, name: str = "", top_p: float = 1.0):
        if fmt not in POLICY_FORMATS:
            raise ValueError(f"unknown policy format {fmt!r}: choose one of {', '.join(POLICY_FORMATS)}")
        self.model, self.tokenizer, self.fmt = model, tokenizer, fmt
        self.temperature, self.max_new_tokens, self.chat, self.top_p = temperature, max_new_tokens, chat, top_p
        self.name = name or fmt
        self.calls = self.steps_generated = self.tokens_generated = 0

    # ------------------------------------------------ whole solutions
    def prompt(self, problem: Problem) -> str:
        return policy_prompt(problem, self.fmt, self.tokenizer, self.chat)

    def sample(self, problems: Sequence[Problem], n: int = 1, temperature: float | None = None, seed: int = 0,
               batch_size: int = 64) -> list[list[str]]:
        """`n` completions per problem (greedy at temperature 0), from the nucleus `top_p`."""
        from ..generation import sample

        return sample(self.model, self.tokenizer, [self.prompt(p) for p in problems], n=n,
                      temperature=self.temperature if temperature is None else temperature, top_p=self.top_p,
                      max_new_tokens=self.max_new_tokens, batch_size=batch_size, seed=seed)

    def code(self, completion: str) -> str | None:
        """The code of a completion in this format, None when there is none."""
        return parse_solution(completion, self.fmt).code

    def program(self, problem: Problem, completion: str) -> str | None:
        return _program(problem, self.code(completion))

    # ------------------------------------------------ the search's protocol
    def prefix(self, state: State) -> str:
        return self.prompt(state.problem) + "".join(state.steps)

    def generate(self, prefixes: list[str], counts: list[int], seeds: list[int]) -> list[list]:
        """`counts[i]` next steps (`GeneratedStep`s) after `prefixes[i]`, seeded by `seeds[i]`."""
        from ..generation import sample_steps_shared

        return sample_steps_shared(self.model, self.tokenizer, prefixes, counts, seeds, stop=STEP_DELIMITER,
                                   temperature=self.temperature, max_new_tokens=self.max_new_tokens, top_p=self.top_p)

    def expand(self, states: Sequence[State], k: int | Sequence[int]) -> list[list[SearchStep]]:
        counts = [k] * len(states) if isinstance(k, int) else list(k)
        generated = self.generate([self.prefix(s) for s in states], counts, [s.seed for s in states])
        self.calls += 1
        self.steps_generated += sum(counts)
        self.tokens_generated += sum(g.n_tokens for gs in generated for g in gs)
        return [[self.to_step(state.problem, g) for g in gs] for state, gs in zip(states, generated)]

    def to_step(self, problem: Problem, generated) -> SearchStep:
        """Classify one generated step (an `o1lite.generation.GeneratedStep`):
        code is terminal; a step that ended without code (end-of-text, out of
        tokens, empty) is a dead end (terminal, no program)."""
        text = generated.text
        dead = SearchStep(text, generated.logprob, True, None, generated.n_tokens)
        if self.fmt == "vanilla":
            if not text.strip():
                return dead
            return SearchStep(text, generated.logprob, True, _program(problem, extract_code(text)), generated.n_tokens)
        pieces = split_steps(text)
        action, body = step_action(pieces[0] if pieces else "")
        if action == ACTION_CODE and body.strip():
            return SearchStep(text, generated.logprob, True, _program(problem, extract_code(body)), generated.n_tokens)
        if generated.finished != "delimiter" or not body.strip():
            return dead
        return SearchStep(text, generated.logprob, False, None, generated.n_tokens)

    # ------------------------------------------------ RL: TRL's data and reward
    def prompt_dataset(self, problems: Sequence[Problem], tests: dict[str, Sequence] | None = None):
        """A `datasets.Dataset` for `GRPOTrainer`: `prompt` (this policy's), and
        the columns `reward_function` reads: `tests` (JSON, `encode_tests`),
        `entry_point`, `problem_prompt`, `task_id`, and `reward_source`.

        The tests are the ones `tests` maps the task id to (a TCG's, say), or
        the problem's reference tests where it maps none or an empty list
        (`reward_source` says which for every row). A problem without literal
        tests (a HumanEval check function) cannot be rewarded this way.
        """
        from datasets import Dataset

        unusable = [p.task_id for p in problems if not p.literal_tests and not (tests and tests.get(p.task_id))]
        if unusable:
            raise ValueError(f"{len(unusable)} problems have no literal tests to reward with ({', '.join(unusable[:3])}, ...): "
                             "leave them out, or pass generated tests for them in `tests`")
        own = [bool(tests and tests.get(p.task_id)) for p in problems]
        chosen = [list(tests[p.task_id]) if mine else list(p.tests) for p, mine in zip(problems, own)]
        return Dataset.from_dict({
            "prompt": [self.prompt(p) for p in problems],
            "tests": [encode_tests(cases) for cases in chosen],
            "entry_point": [p.entry_point for p in problems],
            "problem_prompt": [p.prompt for p in problems],
            "task_id": [p.task_id for p in problems],
            "reward_source": ["given" if mine else "reference" for mine in own],
        })

    def reward_function(self, sandbox, all_or_nothing: bool = False) -> ExecutionReward:
        """The sandbox reward for completions in this format, reading `prompt_dataset`'s columns.

        Unparsable completions (no code step) get 0.0 without running."""
        def to_program(prompt: str, completion: str, entry_point: str, problem_prompt: str, **_) -> str | None:
            return programs.solution_program(problem_prompt, entry_point, self.code(completion))

        return ExecutionReward(sandbox, to_program, all_or_nothing, name=f"execution_reward_{self.fmt}")


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

    Whole solutions are sampled in one decoding pass (`o1lite.generation.sample`;
    stopping at every step gives the same distribution, but costs a call per step). A solution
    without code fails without being run. `extra` holds, per sample, the
    parsed solution (`parsed`) and whether its outline names the reference
    outline's steps (`outline_right`: None for vanilla or without a
    reference outline).
    """
    from ..evaluate import Evaluation, run_programs

    policy = LanguagePolicy(model, tokenizer, fmt, temperature, max_new_tokens, chat)
    completions = policy.sample(problems, n=n, seed=seed, batch_size=batch_size)
    parsed = [[parse_solution(c, fmt) for c in cs] for cs in completions]
    per_problem = [[_program(p, s.code) for s in ss] for p, ss in zip(problems, parsed)]
    runnable = [[program for program in candidates if program is not None] for candidates in per_problem]
    passed = []
    for candidates, judged in zip(per_problem, run_programs(sandbox, problems, runnable)):
        verdict = iter(judged)  # verdicts of the runnable candidates, in order
        passed.append([next(verdict) if program is not None else False for program in candidates])
    outline_right = [
        [outline_matches(s.outline, p.pseudocode[0]) if fmt == "pseudocode" and p.pseudocode else None for s in ss]
        for p, ss in zip(problems, parsed)
    ]
    extra = {"format": fmt, "parsed": parsed, "outline_right": outline_right}
    return Evaluation(list(problems), completions, passed, n, temperature, extra)


def evaluate_adapter(profile: str | Profile, adapter_dir: str | Path | None, fmt: str, splits: dict[str, Sequence[Problem]],
                     n_samples: int, temperature: float, sandbox_workers: int = 2,
                     options: dict | None = None) -> dict[str, tuple[Evaluation, Evaluation]]:
    """One policy's greedy and sampled `evaluate_policy` on each split, as {split: (greedy, sampled)}:
    chapter 03's evaluation of one format and seed, a job for `o1lite.pool.run_jobs` (it loads the
    policy and opens its own sandbox). `profile` is the one the adapter was trained on: `profile.for_seed(seed)`."""
    options = options or {}
    model, tokenizer = load_policy(profile, adapter_dir)
    with Sandbox(workers=sandbox_workers) as sandbox:
        return {split: (evaluate_policy(model, tokenizer, problems, fmt, sandbox, **options),
                        evaluate_policy(model, tokenizer, problems, fmt, sandbox, n=n_samples, temperature=temperature, **options))
                for split, problems in splits.items()}


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


# ---------------------------------------------------------------- policy initialisation (the paper's step 4)
def initialise_policy(profile, adapter_dir, examples: Sequence[dict], out_dir: str | Path, steps: int = 60,
                      batch_size: int = 16, learning_rate: float = 1e-3, seed: int = 0):
    """Fine-tune a chapter-03 policy (its adapter merged) on search paths
    (prompt/completion pairs, e.g. `o1lite.stages.mcts.correct_paths`) with a
    fresh LoRA adapter in `out_dir`; reuse the adapter when `out_dir` already
    holds one. Returns (model with both adapters merged, tokenizer, training log). `adapter_dir`
    was trained on the base of `seed` (`Profile.for_seed`)."""
    from datasets import Dataset
    from transformers import set_seed

    from .. import models
    from ..training import sft_lora

    profile = get_profile(profile).for_seed(seed)
    out = Path(out_dir)
    log_path = out / "train_log.json"
    if not (log_path.exists() and (out / "adapter_config.json").exists()):
        if not examples:
            raise ValueError("no correct paths to fine-tune on: search more problems or simulations")
        set_seed(seed)
        model, tokenizer = load_policy(profile, adapter_dir)
        sft_lora(model, tokenizer, Dataset.from_list(list(examples)), out, steps=steps, batch_size=batch_size,
                 learning_rate=learning_rate, seed=seed)
    adapters = [folder for folder in (adapter_dir, out) if folder is not None]
    model, tokenizer = models.load_adapter(profile, adapters)
    return model, tokenizer, json.loads(log_path.read_text())


def sampled_correct_paths(policy: LanguagePolicy, problems: Sequence[Problem], reward_tests: dict[str, Sequence],
                          sandbox, n: int, per_problem: int = 4, seed: int = 0) -> list[dict]:
    """The matched control for policy initialisation from search: `n` whole
    solutions sampled per problem, kept when their code passes the problem's
    reward tests (`reward_tests[task_id]`, the reference tests where it has
    none), at most `per_problem` distinct ones per problem, in sampling
    order. Same prompt/completion pairs as `mcts.correct_paths(by="reward")`,
    found by plain sampling and filtering instead of a tree search."""
    completions = policy.sample(problems, n=n, seed=seed)
    jobs, owners = [], []
    for index, (problem, samples) in enumerate(zip(problems, completions)):
        tests = list(reward_tests.get(problem.task_id) or problem.tests)
        for completion in samples:
            program = policy.program(problem, completion)
            if program is not None:
                jobs.append((program, problem.entry_point, tests))
                owners.append((index, completion))
    examples, kept = [], {}
    for (index, completion), result in zip(owners, sandbox.run_many(jobs)):
        seen = kept.setdefault(index, set())
        if result.passed and completion not in seen and len(seen) < per_problem:
            seen.add(completion)
            examples.append({"prompt": problems[index].prompt, "completion": completion})
    return examples
