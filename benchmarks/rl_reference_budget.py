"""Can GRPO raise the tiny policy's pass@1 when its reward is the truth, given more updates than chapter 06 spends?

Chapter 06 finds that self-play RL lowers held-out pass@1 (the generated
tests pay for wrong programs) and that the same 40 updates rewarded by the
*reference* tests move it by nothing it can detect. That leaves open whether
RL can raise this policy at all at this size, or only not in 40 updates.
This script measures it, without touching the package (no chapter goes
stale): for one seed, chapter 06's practice draw (80 `train` problems, all
of them, rewarded by their reference tests: the outcome-only reward, no PRM),
one GRPO run of `--steps` updates at each `--lr`, everything else as chapter
06 (16 completions an update, groups of 8, temperature 0.8, 384 tokens,
`scale_rewards="none"`, no KL, LoRA rank 16), then greedy pass@1 on
chapter 06's 100 `test` problems against the starting policy (chapter 03's
pseudocode policy of that seed), as a paired difference over problems
(one seed: the CI carries no seed-to-seed spread, so read it as a pointer,
not as a chapter's result). Runs are cached by `o1lite.stages.rl` as the
chapter's are; results are appended to `benchmarks/rl_reference_budget.json`.

    python benchmarks/rl_reference_budget.py --seed 0 --steps 120 --lr 2e-4 1e-3

Measured 2026-12-05 on a 2-core AMD EPYC VM with AVX-512 (native kernels),
seed 0, starting policy 0.29 on the 100 `test` problems:

| updates | learning rate | test pass@1 after | after - start [95% CI] | training samples passing the reference tests, first 10 -> last 10 updates |
|---|---|---|---|---|
| 120 | 2e-4 | 0.31 | +0.02 [-0.07, +0.11] | 0.51 -> 0.56 |
| 400 | 2e-4 | 0.32 | +0.03 [-0.07, +0.12] | 0.51 -> 0.57 |
| 200 | 5e-4 | 0.28 | -0.01 [-0.10, +0.07] | 0.53 -> 0.31 |
| 120 | 1e-3 | 0.14 | -0.15 [-0.24, -0.05] | 0.52 -> 0.13 |
| 200 | 5e-4, KL beta 0.04 | 0.32 | +0.03 [-0.06, +0.12] | 0.53 -> 0.36 |
| 200 | 2e-4, `scale_rewards="group"` | 0.32 | +0.03 [-0.06, +0.12] | 0.51 -> 0.33 |

Ten times chapter 06's updates with a reward that cannot be fooled move
held-out pass@1 by nothing we can detect at the chapter's learning rate, and
1e-3 makes the policy much worse. The last column is **not** a learning
curve (an earlier version of this docstring, and of chapter 06, read it as
one): the first and the last ten updates see different prompts, drawn in
the same order in every run (the 400-update run, which climbs, reads 0.39 at
updates 191-200, where the 200-update rows end, and 0.56 at updates 111-120,
where the 1e-3 row reads 0.13). So the 200-update rows' falling share says
those prompts are harder, not that the policy got worse at its own reward;
the 1e-3 row's fall is real. `benchmarks/rl_signal.py` measures the same practice problems
before and after instead: there the 120-update 2e-4 row's policy *did*
learn them (greedy 0.44 -> 0.58, +0.14 [+0.03, +0.25]) and so did the
200-update 5e-4 row's (from 8 samples 0.34 -> 0.45, +0.11 [+0.04, +0.18]);
a placebo with shuffled rewards sank, and the setup checked out. What fails
is transfer from 80 practice problems to held-out ones.
About 1.3 s an update here (120 updates in 155 s).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "rl_reference_budget.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--lr", type=float, nargs="+", default=[2e-4, 1e-3])
    parser.add_argument("--beta", type=float, default=0.0, help="KL penalty to the starting policy (chapter 06: 0)")
    parser.add_argument("--scale-rewards", default="none", help="TRL's scale_rewards (chapter 06: none)")
    parser.add_argument("--n-practice", type=int, default=80)
    parser.add_argument("--n-eval", type=int, default=100)
    args = parser.parse_args()

    import datasets
    import numpy as np
    import transformers

    from o1lite import models, suite
    from o1lite.metrics import describe, paired_difference, seeded_estimate
    from o1lite.profiles import get_profile, run_dir
    from o1lite.record import machine, stable_hash
    from o1lite.stages import rl, upstream

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    models.configure_threads()
    profile = get_profile("tiny")
    practice = suite.problems(profile, "train", n=args.n_practice, seed=args.seed + 3)  # chapter 06's draw (SEED + 3)
    eval_problems = suite.problems(profile, "test", n=args.n_eval, seed=args.seed)
    tests = {p.task_id: list(p.tests) for p in practice}
    adapter, _ = upstream.policy(profile, "pseudocode", args.seed)
    data_key = stable_hash({"problems": [p.task_id for p in practice], "tests": "reference", "benchmark": "rl_reference_budget"})

    def greedy(chain, tag):
        cache = run_dir(profile, "06") / "eval" / f"bench_seed{args.seed}_{tag}_{stable_hash([str(c) for c in chain])}.json"
        passed = rl.evaluate_chain(profile, chain, eval_problems, cache, max_new_tokens=384, seed=args.seed)
        return [float(np.mean(p)) for p in passed]

    record = json.loads(OUT.read_text()) if OUT.exists() else {"runs": {}}
    host = machine()  # read once: the CPU and torch's kernel path do not change within a run
    init = greedy([adapter], "init")
    print(f"seed {args.seed} start: test pass@1 {np.mean(init):.3f}", flush=True)
    for lr in args.lr:
        config = rl.RLConfig(reward="outcome", steps=args.steps, batch_size=16, num_generations=8, learning_rate=lr,
                             temperature=0.8, max_completion_length=384, beta=args.beta, scale_rewards=args.scale_rewards,
                             rank=profile.lora_rank, seed=args.seed)
        folder, log = rl.train_round(profile, [adapter], practice, tests, config, data_key)
        after = greedy([adapter, folder], "after")
        difference = paired_difference([after], [init])
        curves = rl.curves(log)
        reference_pass = [v for v in curves["reference_pass"] if v is not None]
        first, last = float(np.mean(reference_pass[:10])), float(np.mean(reference_pass[-10:]))
        key = f"seed={args.seed} steps={args.steps} lr={lr:g}"
        if args.beta or args.scale_rewards != "none":
            key += f" beta={args.beta:g} scale_rewards={args.scale_rewards}"
        record["runs"][key] = {
            "seed": args.seed, "steps": args.steps, "learning_rate": lr, "beta": args.beta, "scale_rewards": args.scale_rewards,
            "pass_at_1_init": seeded_estimate([init]), "pass_at_1_after": seeded_estimate([after]), "after_minus_init": difference,
            "train_reference_pass_first_10": round(first, 4), "train_reference_pass_last_10": round(last, 4),
            "seconds": log.get("seconds"), "cpu": host["cpu"], "kernel_path": host["kernel_path"]}
        OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{key}: test pass@1 {np.mean(init):.3f} -> {np.mean(after):.3f}, difference {difference['value']:+.3f} "
              f"[{difference['ci95'][0]:+.3f}, {difference['ci95'][1]:+.3f}] ({describe(difference)}); training samples "
              f"passing the reference tests {first:.2f} (first 10 updates) -> {last:.2f} (last 10)"
              + ("" if log.get("cached") else f" · {log['seconds']:.0f} s"), flush=True)


if __name__ == "__main__":
    main()
