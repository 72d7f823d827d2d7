"""What a chapter needs from the chapters before it, found in the cache or built exactly as they build it.

A chapter must run on its own (an educator lifts one into a course), so it
cannot assume that the chapters before it ran. These functions give a later
chapter the artifacts of an earlier one under the same names and cache keys
that chapter uses, so that after `make reproduce` they are cache hits and on
a fresh machine they are built on first use:

- `policy(profile, fmt, seed)`: chapter 03's policy of one format and seed,
  as (adapter folder, (model, tokenizer)).
- `generated_tests(profile, seed, problem_sets)`: chapter 02's test-case
  generator of that seed, run on the problems; a problem it wrote no case for
  maps to an empty list (the caller counts and reports the fallback).
- `search_trees(...)`: chapter 04's MCTS over a problem set with a policy,
  one folder of JSONL records per setting (`o1lite.stages.mcts.synthesize`).
- `pointwise_prm(...)`: chapter 05's point-wise PRM of a seed (its training
  trees grown, its labels, started from chapter 03's pseudocode policy).

Nothing here trains a new kind of model or computes a result; each function
only names and calls the stage that owns the artifact. Introduced in chapter 05
(chapter 04 grows its trees through `search_trees` too).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Sequence

from ..problems import Problem, TestCase
from ..profiles import Profile, get_profile, run_dir
from ..record import source_hash, stable_hash, write_json
from ..sandbox import Sandbox
from . import mcts, policies, prm, tcg


def policy(profile: str | Profile, fmt: str, seed: int) -> tuple[Path, tuple]:
    """Chapter 03's `fmt` policy for `seed`: (adapter folder, (model, tokenizer)), trained first when missing.

    An instruct (chat) profile is prompted few-shot, as chapter 03 does by
    default (`FEW_SHOT_ONLY`): its "adapter" is `few_shot_adapter`, a LoRA
    adapter that changes nothing, so every later stage that starts from an
    adapter folder (search, PRM, RL, RFT, selection) takes it as it is. A tiny profile's policy of `seed` is trained on that seed's base."""

    profile = get_profile(profile).for_seed(seed)
    if profile.chat:
        adapter = few_shot_adapter(profile)
    else:
        adapter, _ = policies.train_policy(profile, fmt, policies.policy_training(profile, seed))
    return adapter, policies.load_policy(profile, adapter)


def few_shot_adapter(profile: str | Profile) -> Path:
    """A LoRA adapter whose B matrices are zero (peft's initialisation), saved once per
    checkpoint: merged, it leaves every weight exactly as it was, so the policy
    is the checkpoint itself, prompted few-shot."""
    from peft import get_peft_model

    from .. import models

    profile = get_profile(profile)
    folder = run_dir(profile, "03") / "few_shot" / stable_hash([profile.base_id, profile.lora_rank])
    if not (folder / "adapter_config.json").exists():
        model, _ = models.load_model(profile, device="cpu")
        get_peft_model(model, models.lora_config(profile.lora_rank)).save_pretrained(folder)
    return folder


def tcg_key(profile: str | Profile, seed: int) -> str:
    """The name of chapter 02's TCG build for `seed` (part of every cache key that depends on its tests)."""

    return tcg.tcg_dir(profile, tcg.tcg_config(profile, seed)).name


def generated_tests(profile: str | Profile, seed: int, problem_sets: Sequence[Sequence[Problem]]) -> dict[str, list]:
    """Chapter 02's TCG of `seed` (trained first when missing) run on every problem of `problem_sets`.

    Keys are `task_id + split` (a task id alone repeats across splits); a
    problem the TCG wrote no usable case for maps to `[]`. Each set's cases
    are cached in the TCG's folder (`generated/`), keyed by the problems and
    the TCG's own training record, so a re-run reads what it wrote (the same
    cases: greedy decoding, one batched call per set, as when computed)."""
    profile = get_profile(profile).for_seed(seed)
    config = tcg.tcg_config(profile, seed)
    folder = tcg.tcg_dir(profile, config)
    built = folder / "tcg.json"
    record = built.read_text() if built.exists() else None  # the TCG's training record: part of every cache key
    loaded = None
    found: dict[str, list] = {}

    def cache(problems) -> Path:  # where a set's cases are kept, keyed by the problems and the TCG's record
        ids = [(p.task_id + p.split, p.prompt, p.reference) for p in problems]
        return folder / "generated" / f"{stable_hash({'problems': ids, 'tcg': record})}.json"

    for problems in problem_sets:
        cases = _read_cases(cache(problems)) if record is not None else None
        if cases is None:
            if loaded is None:
                loaded = tcg.load_tcg(profile, config=config)  # trains the TCG when it is missing
                record = built.read_text()
            cases = tcg.generate_tests(*loaded, problems, n_cases=config.n_cases, max_new_tokens=config.max_new_tokens, seed=seed)
            write_json(cache(problems), {"cases": [[c.to_json() for c in row] for row in cases]})
        found.update({p.task_id + p.split: list(c) for p, c in zip(problems, cases)})
    return found


def _read_cases(path: Path) -> list[list] | None:
    """The cached cases at `path`, or None when there are none or one does not read back as it was
    written (a literal whose repr is not a literal, such as `...` or `1e999`): then they are generated again."""
    try:
        return [[TestCase.from_json(c) for c in row] for row in json.loads(path.read_text())["cases"]]
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):
        return None


def search_trees(profile: str | Profile, fmt: str, problems: Sequence[Problem], purpose: str, seed: int,
                 model_and_tokenizer: tuple, adapter: Path, tests: dict[str, list] | None, *, simulations: int = 8,
                 k: int = 3, c: float = 2.0, temperature: float = 0.8, selection: str = "uct", batch_problems: int = 40,
                 workers: int = 2, threads: int = 1, progress: bool = True) -> tuple[Path, list[dict], dict]:
    """Chapter 04's search of `problems` with the `fmt` policy, rewarded by `tests`
    (`task_id + split` -> cases; None: the reference tests), cached in
    `runs/<profile>/04/<purpose>_<fmt>/<hash of the settings and the search's code>/`.

    Returns (folder, records, stats): `stats` holds the sandbox's job and
    lost-worker counts (`Sandbox.check_losses`, which fails loudly above its
    threshold) and the steps and tokens the policy generated in `seconds`
    (zero when every shard was already there)."""
    import torch


    profile = get_profile(profile).for_seed(seed)
    model, tokenizer = model_and_tokenizer
    policy = policies.LanguagePolicy(model, tokenizer, fmt, temperature=temperature, max_new_tokens=profile.max_new_tokens,
                                     chat=profile.chat, name=f"{fmt}:{adapter.name}")
    source = tcg_key(profile, seed) if tests is not None else "reference"
    settings = [policy.name, source, profile.base_id, simulations, k, c, temperature, selection, seed, len(problems),
                source_hash("stages/mcts.py", "generation.py")]  # the search's code too: a changed search never reuses old trees
    folder = run_dir(profile, "04") / f"{purpose}_{fmt}" / stable_hash(repr(settings))
    reward_tests = {p.task_id: tests.get(p.task_id + p.split, []) for p in problems} if tests is not None else None
    started, before = time.perf_counter(), torch.get_num_threads()
    torch.set_num_threads(threads)  # small-batch decoding gains little from a second thread, and loses a lot on a busy machine
    try:
        with Sandbox(workers=workers) as sandbox:
            mcts.synthesize(problems, policy, folder, mcts.SandboxJudge(sandbox), reward_tests=reward_tests,
                            simulations=simulations, k=k, c=c, rule=selection, seed=seed, batch_problems=batch_problems,
                            policy_id=policy.name, progress=progress)
            losses = sandbox.check_losses()
    finally:
        torch.set_num_threads(before)
    stats = {**losses, "steps": policy.steps_generated, "tokens": policy.tokens_generated,
             "seconds": round(time.perf_counter() - started, 2)}
    return folder, mcts.load_records(folder), stats


def pointwise_prm(profile: str | Profile, seed: int, problems: Sequence[Problem], config, **search) -> Path:
    """Chapter 05's point-wise PRM for `seed` (`config`, a `prm.PRMConfig`): the
    pseudocode policy's search trees on `problems` rewarded by the TCG's tests,
    the PRM trained on them from the policy. Returns its folder (`prm.load_prm`
    loads it); a cache hit after chapter 05 ran with the same settings."""
    profile = get_profile(profile).for_seed(seed)
    adapter, loaded = policy(profile, "pseudocode", seed)
    tests = generated_tests(profile, seed, (problems,))
    _, records, _ = search_trees(profile, "pseudocode", problems, "prm_train", seed, loaded, adapter, tests,
                                 progress=False, **search)
    folder, _ = prm.train_prm(profile, records, config, adapter=adapter)
    return folder
