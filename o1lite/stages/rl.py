"""Self-play reinforcement learning: GRPO on outcome and process rewards, in rounds.

o1-Coder's sixth step. The policy writes whole solutions (outline, refinement,
code); the sandbox runs the code on the test-case generator's tests (the
outcome reward R, the share of cases passed); the process reward model of
chapter 05 scores each step (r_1 .. r_m); the update mixes the two:

    phi = alpha(t) * R + (1 - alpha(t)) * (1/m) * sum_{j=1..m} gamma^j * r_j

with alpha falling linearly from `alpha_start` to `alpha_end` over the run's
updates (the paper: 1.0 to 0.1, by 0.01 an update) and gamma = 0.9.

- `alpha`, `process_reward`: the schedule and the discounted step term.
- `SelfPlayReward`: the reward function in TRL's signature. It reads the
  update count from `trainer_state`, runs each program once through
  `o1lite.stages.mcts.SandboxJudge` on the reward tests *and* the reference
  tests, rewards with the first and only *monitors* with the second (the
  reward-hacking rate: the share of fully rewarded programs the reference
  tests fail), and logs its terms with `log_metric`.
- `train_round`: one round of TRL's `GRPOTrainer` with a fresh LoRA adapter
  on the current policy (earlier adapters merged), cached in
  `runs/<profile>/06/<reward>/<hash of everything that shaped it>/`; the
  log (TRL's `log_history`, the reward's counts, seconds) is written last,
  so a folder with a log is a finished round.
- `self_play`: rounds. Round k samples with the current policy (chapter 04's
  search grows trees on fresh train problems), refreshes the PRM on all the
  trees so far (chapter 05's `train_prm`), then runs `train_round`. Finished
  rounds are found in the cache, so a killed run resumes at the last one.
- `rft_control`: the matched-compute control: as many completions sampled,
  the ones that pass the same reward tests kept, SFT for as many updates.

Group normalisation: GRPO's advantage is the reward minus its group's mean,
divided by the group's standard deviation by default. Then a group whose
outcome is the same for every sample gets its whole (unit-sized) advantage
from the process term, whatever alpha is. `scale_rewards="none"` (Dr. GRPO)
keeps the aggregator's weights: such a group's advantages are (1 - alpha)
times the spread of its process scores. Introduced in chapter 06.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from ..problems import Problem
from ..profiles import Profile, get_profile, run_dir
from ..record import source_hash, stable_hash, write_json
from ..sandbox import Sandbox
from ..sandbox.reward import completion_text
from . import prm
from .mcts import SandboxJudge
from .policies import LanguagePolicy, evaluate_policy, initialise_policy

REWARDS = ("aggregate", "outcome", "process")
SCALINGS = ("none", "group", "batch")


@dataclass(frozen=True)
class RLConfig:
    """Everything that shapes one GRPO round; its hash names the cache."""

    reward: str = "aggregate"  # "aggregate" (phi), "outcome" (alpha = 1), "process" (alpha = 0)
    alpha_start: float = 1.0  # the paper's schedule: 1.0 ...
    alpha_end: float = 0.1  # ... to 0.1, linearly over all updates of all rounds
    gamma: float = 0.9  # discount over a solution's steps
    steps: int = 20  # GRPO updates per round
    batch_size: int = 16  # completions per update
    num_generations: int = 8  # completions per prompt (a GRPO group)
    learning_rate: float = 2e-3
    temperature: float = 0.8
    max_completion_length: int = 384
    beta: float = 0.0  # KL penalty to the round's starting policy (TRL's default: none)
    scale_rewards: str = "none"  # see the module docstring
    rank: int = 16
    seed: int = 0

    def __post_init__(self):
        if self.reward not in REWARDS:
            raise ValueError(f"unknown RL reward {self.reward!r}: choose one of {', '.join(REWARDS)}")
        if self.scale_rewards not in SCALINGS:
            raise ValueError(f"unknown scale_rewards {self.scale_rewards!r}: choose one of {', '.join(SCALINGS)}")
        if self.batch_size % self.num_generations:
            raise ValueError(f"batch_size {self.batch_size} must be a multiple of num_generations {self.num_generations}")


# ---------------------------------------------------------------- the reward
def alpha(update: int, total: int, start: float = 1.0, end: float = 0.1) -> float:
    """The outcome weight at `update` (0-based) of `total`: `start` at the first, `end` at the last, linear between."""
    if total <= 1:
        return start
    return start + (end - start) * min(1.0, max(0, update) / (total - 1))


def process_reward(scores: Sequence[float], gamma: float = 0.9) -> float:
    """(1/m) * sum_{j=1..m} gamma^j * r_j over a solution's m step scores (0.0 without steps)."""
    if not len(scores):
        return 0.0
    return sum(gamma ** j * float(r) for j, r in enumerate(scores, start=1)) / len(scores)


class SelfPlayReward:
    """`reward(prompts, completions, task_id, trainer_state, log_metric, **columns) -> phi per completion`.

    `tests[task_id]` are the reward tests (a TCG's in self-play); the
    reference tests of `problems` only monitor. `scorer` (a chapter-05
    `StepScorer`) gives the process term; None is allowed only for the
    outcome reward. `offset` and `total` place this round's updates in the
    whole run's alpha schedule. `counts` sums what the guards need.
    """

    def __init__(self, policy, problems: Sequence[Problem], tests: dict[str, Sequence], judge, config: RLConfig,
                 scorer=None, offset: int = 0, total: int | None = None):
        if config.reward != "outcome" and scorer is None:
            raise ValueError(f"the {config.reward!r} reward needs a PRM scorer (chapter 05's prm.load_prm)")
        self.policy, self.judge, self.config, self.scorer = policy, judge, config, scorer
        untested = [p.task_id for p in problems if not tests.get(p.task_id)]
        if untested:
            raise ValueError(f"{len(untested)} problems have no reward tests ({', '.join(untested[:3])}, ...): leave them out")
        self.by_id = {p.task_id: p for p in problems}
        self.tests = tests
        self.offset, self.total = offset, total or config.steps
        self.__name__ = f"phi_{config.reward}"  # TRL logs the reward under this name
        self.counts = {"completions": 0, "unparsable": 0, "rewarded": 0, "hacked": 0, "reference_passed": 0}

    def weight(self, update: int) -> float:
        """alpha for this update: the schedule for `aggregate`, 1 for `outcome`, 0 for `process`."""
        if self.config.reward == "outcome":
            return 1.0
        if self.config.reward == "process":
            return 0.0
        return alpha(self.offset + update, self.total, self.config.alpha_start, self.config.alpha_end)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], task_id: Sequence[str],
                 trainer_state=None, log_metric: Callable[[str, float], None] | None = None, **_: Any) -> list[float]:

        texts = [completion_text(c) for c in completions]
        problems = [self.by_id[t] for t in task_id]
        programs = [self.policy.program(p, text) for p, text in zip(problems, texts)]
        runnable = [i for i, program in enumerate(programs) if program is not None]
        verdicts = dict(zip(runnable, self.judge([(problems[i], programs[i], self.tests[problems[i].task_id])
                                                  for i in runnable]))) if runnable else {}
        outcome = [verdicts[i].reward if i in verdicts else 0.0 for i in range(len(texts))]
        process = [0.0] * len(texts)
        if self.scorer is not None and self.config.reward != "outcome":
            steps = [prm.split_completion(text) for text in texts]
            scores = self.scorer.step_scores([p.prompt for p in problems], steps)
            process = [process_reward(s, self.config.gamma) for s in scores]
        update = trainer_state.global_step if trainer_state is not None else 0
        a = self.weight(update)
        rewards = [a * r + (1 - a) * q for r, q in zip(outcome, process)]

        rewarded = [i for i in verdicts if verdicts[i].passed_reward]
        hacked = sum(not verdicts[i].passed_reference for i in rewarded)
        counts = {"completions": len(texts), "unparsable": len(texts) - len(runnable), "rewarded": len(rewarded),
                  "hacked": hacked, "reference_passed": sum(v.passed_reference for v in verdicts.values())}
        for key, value in counts.items():
            self.counts[key] += value
        if log_metric is not None:
            log_metric("alpha", a)
            log_metric("outcome_reward", sum(outcome) / len(texts))
            log_metric("process_reward", sum(process) / len(texts))
            log_metric("reference_pass_rate", counts["reference_passed"] / len(texts))
            log_metric("unparsable_fraction", counts["unparsable"] / len(texts))
            if rewarded:
                log_metric("reward_hacking_rate", hacked / len(rewarded))
        return rewards


# ---------------------------------------------------------------- one round of GRPO
def grpo_settings(config: RLConfig, out_dir: str | Path, **overrides: Any) -> dict:
    """`GRPOConfig` arguments for one round: CPU-friendly (no bf16, no gradient
    checkpointing) and gloo for several CPU processes under torchrun."""
    import os

    import torch

    on_gpu = torch.cuda.is_available()
    settings = dict(
        output_dir=str(Path(out_dir) / "checkpoints"), max_steps=config.steps,
        per_device_train_batch_size=config.batch_size, num_generations=config.num_generations,
        max_completion_length=config.max_completion_length, temperature=config.temperature,
        learning_rate=config.learning_rate, beta=config.beta, scale_rewards=config.scale_rewards,
        lr_scheduler_type="constant", seed=config.seed, data_seed=config.seed, logging_steps=1, logging_first_step=True,
        bf16=on_gpu, gradient_checkpointing=False, use_cpu=not on_gpu, report_to=[], save_strategy="no",
        disable_tqdm=True, dataloader_num_workers=0,
    )
    if not on_gpu and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        settings["ddp_backend"] = "gloo"
    settings.update(overrides)
    return settings


def lora_fingerprint(model) -> str:
    """A hash of every LoRA weight of `model`: equal on every rank after a DDP run."""
    weights = [(name, parameter.detach().float().cpu().numpy().tobytes().hex())
               for name, parameter in sorted(model.named_parameters()) if "lora_" in name]
    return stable_hash(repr(weights), length=16)


def grpo_lora(model, tokenizer, dataset, reward_funcs, config: RLConfig, out_dir: str | Path, **overrides: Any) -> dict:
    """One GRPO run with a fresh LoRA adapter on `model`; saves the adapter
    (main process) and returns the log: TRL's `log_history`, seconds,
    completions generated and the adapter's fingerprint."""
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from ..generation import check_same_base
    from ..models import lora_config

    check_same_base(model, tokenizer)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    trainer = GRPOTrainer(model=model, args=GRPOConfig(**grpo_settings(config, out, **overrides)),
                          train_dataset=dataset, processing_class=tokenizer, reward_funcs=list(reward_funcs),
                          peft_config=lora_config(config.rank))
    trainer.remove_callback(PrinterCallback)  # the curves are in the returned log; no dict printed per update
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    if trainer.state.global_step < config.steps:
        raise RuntimeError(f"GRPO stopped after {trainer.state.global_step} of {config.steps} updates: "
                           f"{len(dataset)} prompts are too few for batches of {config.batch_size // config.num_generations}")
    if trainer.accelerator.is_main_process:
        trainer.model.save_pretrained(out)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    world = trainer.accelerator.num_processes
    return {"seconds": round(seconds, 2), "updates": config.steps, "completions": config.steps * config.batch_size * world,
            "log_history": trainer.state.log_history, "fingerprint": lora_fingerprint(trainer.model),
            "rank": trainer.accelerator.process_index, "world_size": world}


def round_dir(profile: str | Profile, config: RLConfig, chain: Sequence[str | Path], data_key: str, prm_name: str | None,
              round_index: int, total: int, variant: str | None = None) -> Path:
    """runs/<profile>/06/<reward>/<hash of config, the adapters before it, data, PRM, place in the run, variant, code>/"""
    profile = get_profile(profile)
    key = stable_hash({"config": asdict(config), "chain": [Path(c).name for c in chain], "data": data_key, "prm": prm_name,
                       "round": round_index, "total": total, "base": profile.base_id,
                       **({"variant": variant} if variant else {}),
                       "code": source_hash("stages/rl.py", "stages/prm.py", "stages/policies.py")})
    return run_dir(profile, "06") / config.reward / key


def train_round(profile: str | Profile, chain: Sequence[str | Path], problems: Sequence[Problem],
                tests: dict[str, Sequence], config: RLConfig, data_key: str, scorer=None, prm_name: str | None = None,
                round_index: int = 1, rounds: int = 1, workers: int = 2, reward_class=None,
                variant: str | None = None) -> tuple[Path, dict]:
    """One cached round: GRPO on the policy `chain` (its adapters merged, in
    order) over `problems`, rewarded by `tests` (and `scorer` for the process
    term). Returns (adapter folder, log); the log says `cached` when found.
    `reward_class` (default `SelfPlayReward`, called with its arguments) swaps
    the reward for an experiment, such as a placebo; `variant` names it in
    the cache key, so that its rounds are kept apart from the chapter's."""
    from transformers import set_seed

    from ..models import load_adapter

    profile = get_profile(profile)
    if len(problems) < config.batch_size // config.num_generations:
        raise ValueError(f"{len(problems)} problems cannot fill a GRPO batch of {config.batch_size // config.num_generations} prompts: "
                         "give more problems or a smaller batch_size")
    total = rounds * config.steps
    if reward_class is not None and not variant:
        raise ValueError("a swapped reward_class needs a variant name: its rounds must not share the chapter's cache")
    profile = profile.for_seed(config.seed)  # the policy was trained on the base of its seed
    out = round_dir(profile, config, chain, data_key, prm_name, round_index, total, variant)
    log_path = out / "round_log.json"
    if log_path.exists() and (out / "adapter_config.json").exists():
        return out, {**json.loads(log_path.read_text()), "cached": True}
    set_seed(config.seed + round_index)
    model, tokenizer = load_adapter(profile, list(chain))
    policy = LanguagePolicy(model, tokenizer, "pseudocode", chat=profile.chat)
    dataset = policy.prompt_dataset(problems, {p.task_id: tests[p.task_id] for p in problems})
    round_config = replace(config, seed=config.seed + 1000 * round_index)  # each round draws its own prompts
    with Sandbox(workers=workers) as sandbox:
        reward = (reward_class or SelfPlayReward)(policy, problems, tests, SandboxJudge(sandbox), config, scorer,
                                offset=(round_index - 1) * config.steps, total=total)
        log = grpo_lora(model, tokenizer, dataset, [reward], round_config, out)
        log.update(sandbox.check_losses())
    log.update(counts=reward.counts, round=round_index, reward=config.reward, prm=prm_name, chain=[str(c) for c in chain])
    write_json(log_path, log)  # last: a folder with a log is a finished round
    return out, {**log, "cached": False}


def curves(log: dict) -> dict[str, list]:
    """The per-update curves of a round's log: reward, outcome and process terms,
    alpha, truncated fraction, zero-spread groups, mean length, KL, hacking rate."""
    keys = {"reward": "reward", "outcome": "outcome_reward", "process": "process_reward", "alpha": "alpha",
            "truncated": "completions/clipped_ratio", "zero_spread": "frac_reward_zero_std",
            "length": "completions/mean_length", "kl": "kl", "hacking": "reward_hacking_rate",
            "reference_pass": "reference_pass_rate"}
    rows = [r for r in log["log_history"] if "reward" in r]
    return {"step": [r["step"] for r in rows]} | {name: [r.get(key) for r in rows] for name, key in keys.items()}


# ---------------------------------------------------------------- rounds of self-play
def refresh_prm(profile: str | Profile, records: Sequence[dict], prm_config, start_adapter):
    """Chapter 05's PRM trained on `records` (every tree so far), from `start_adapter`'s backbone: (folder, scorer)."""
    folder, _ = prm.train_prm(profile, records, prm_config, adapter=start_adapter)
    return folder, prm.load_prm(profile, folder)


def self_play(profile: str | Profile, start_adapter: str | Path | None, problems: Sequence[Problem], tests: dict[str, Sequence],
              config: RLConfig, rounds: int, data_key: str, first_trees: Sequence[dict] | None = None, prm_config=None,
              grow: Callable[[int, list, tuple], list[dict]] | None = None, workers: int = 2,
              on_round: Callable[[int, Path, dict], None] | None = None) -> list[tuple[Path, dict]]:
    """`rounds` rounds from chapter 03's policy `start_adapter`. For a reward
    with a process term, round k's PRM is trained (chapter 05's code, cached)
    on `first_trees` plus the trees `grow(k, chain, (model, tokenizer))` grows
    with the current policy for every round after the first. Returns each
    round's (adapter folder, log); finished rounds come from the cache.
    `start_adapter` None starts from the bare base."""
    from ..models import load_adapter

    profile = get_profile(profile).for_seed(config.seed)  # the policy was trained on the base of its seed
    chain: list[str | Path] = [start_adapter] if start_adapter is not None else []
    trees = list(first_trees or [])
    done = []
    for k in range(1, rounds + 1):
        scorer = prm_name = None
        if config.reward != "outcome":
            if prm_config is None:
                raise ValueError("a process reward needs prm_config (chapter 05's PRMConfig)")
            if k > 1 and grow is not None:
                trees += grow(k, list(chain), load_adapter(profile, list(chain)))
            folder, scorer = refresh_prm(profile, trees, prm_config, start_adapter)
            prm_name = folder.name
        adapter, log = train_round(profile, chain, problems, tests, config, data_key, scorer, prm_name, k, rounds, workers)
        chain.append(adapter)
        done.append((adapter, log))
        if on_round is not None:
            on_round(k, adapter, log)
    return done


# ---------------------------------------------------------------- the control and the judge
def rft_control(profile: str | Profile, start_adapter: str | Path, problems: Sequence[Problem], tests: dict[str, Sequence],
                config: RLConfig, rounds: int, data_key: str, learning_rate: float = 1e-3, workers: int = 2):
    """Rejection-sampling fine-tuning at RL's compute: `num_generations`
    completions for each of the `rounds * steps * batch_size / num_generations`
    prompts RL drew (cycling through `problems`), the ones whose code passes
    every reward test kept (distinct per problem), then SFT for as many
    updates with the same batch size. Returns (adapter folder, log); the
    folder is None when no completion passed (the control is then the
    starting policy)."""
    from ..models import load_adapter

    profile = get_profile(profile).for_seed(config.seed)  # the policy was trained on the base of its seed
    updates = rounds * config.steps
    n_prompts = updates * config.batch_size // config.num_generations
    drawn = [problems[i % len(problems)] for i in range(n_prompts)]
    key = stable_hash({"config": asdict(config), "rounds": rounds, "start": Path(start_adapter).name, "data": data_key,
                       "lr": learning_rate, "code": source_hash("stages/rl.py", "stages/policies.py", "training.py", "generation.py")})
    out = run_dir(profile, "06") / "rft" / key
    log_path = out / "rft_log.json"
    if log_path.exists() and (out / "adapter_config.json").exists():
        return out, {**json.loads(log_path.read_text()), "cached": True}
    model, tokenizer = load_adapter(profile, start_adapter)
    policy = LanguagePolicy(model, tokenizer, "pseudocode", temperature=config.temperature,
                            max_new_tokens=config.max_completion_length, chat=profile.chat)
    started = time.perf_counter()
    completions = policy.sample(drawn, n=config.num_generations, seed=config.seed)

    items = [(p, policy.program(p, c), c) for p, cs in zip(drawn, completions) for c in cs]
    with Sandbox(workers=workers) as sandbox:
        verdicts = iter(SandboxJudge(sandbox)([(p, prog, tests[p.task_id]) for p, prog, _ in items if prog is not None]))
        losses = sandbox.check_losses()
    kept, seen, hacked = [], set(), 0
    for p, prog, c in items:
        verdict = next(verdicts) if prog is not None else None
        if verdict is not None and verdict.passed_reward and (p.task_id, c) not in seen:
            seen.add((p.task_id, c))
            kept.append({"prompt": policy.prompt(p), "completion": c})
            hacked += not verdict.passed_reference
    sample_seconds = time.perf_counter() - started
    log = {"completions": len(items), "kept": len(kept), "kept_hacked": hacked, "sample_seconds": round(sample_seconds, 2), **losses}
    if not kept:  # nothing passed: the control is the starting policy, unchanged
        write_json(out / "rft_nothing_kept.json", log)
        return None, {**log, "cached": False}
    _, _, train_log = initialise_policy(profile, start_adapter, kept, out, steps=updates, batch_size=config.batch_size,
                                       learning_rate=learning_rate, seed=config.seed)
    log["train"] = train_log
    write_json(log_path, log)
    return out, {**log, "cached": False}


def evaluate_chain(profile: str | Profile, chain: Sequence[str | Path], problems: Sequence[Problem], cache: str | Path,
                   n: int = 1, temperature: float = 0.0, max_new_tokens: int = 384, seed: int = 0, workers: int = 2) -> list[list[bool]]:
    """Per problem, whether each of `n` solutions of the policy `chain` passes
    the reference tests (greedy at temperature 0); cached as JSON at `cache`."""
    from ..models import load_adapter

    cache = Path(cache)
    key = stable_hash({"chain": [Path(c).name for c in chain], "problems": [p.task_id + p.split for p in problems],
                       "n": n, "temperature": temperature, "max_new_tokens": max_new_tokens, "seed": seed,
                       "code": source_hash("stages/policies.py", "stages/prompts.py", "generation.py")})
    if cache.exists():
        found = json.loads(cache.read_text())
        if found.get("key") == key:
            return found["passed"]
    model, tokenizer = load_adapter(get_profile(profile), list(chain))
    with Sandbox(workers=workers) as sandbox:
        evaluation = evaluate_policy(model, tokenizer, problems, "pseudocode", sandbox, n=n, temperature=temperature,
                                     max_new_tokens=max_new_tokens, seed=seed, chat=get_profile(profile).chat)
        sandbox.check_losses()
    write_json(cache, {"key": key, "passed": evaluation.passed})
    return evaluation.passed
