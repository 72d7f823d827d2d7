"""Why does GRPO not raise the tiny policy's held-out pass@1, even rewarded by the reference tests? Setup checks, a placebo, practice breadth, and the RFT control.

`benchmarks/rl_reference_budget.py` found that GRPO rewarded by the reference
tests (a reward that cannot be fooled) moves held-out pass@1 by nothing we
can detect, however many updates it gets on chapter 06's 80 practice
problems. This script takes that apart, without touching the package (no
chapter goes stale):

1. **Setup checks** (`setup_checks` in the JSON; seed 0, 6 updates at learning
   rate 0): every prompt TRL hands the reward function is the prompt of the
   task id in its row; TRL's samples pass the reference tests as often as
   the project's own sampler on the same prompts (same temperature, same 384
   tokens); TRL's per-token log-probabilities of its left-padded, batched
   sequences equal a plain forward pass of each sequence alone.
2. **Measure the policy on what it practised**, before and after: greedy and
   8 samples at T = 0.8 on the practice problems (judged by the reference
   tests), beside the same two measures on chapter 06's 100 held-out `test`
   problems. (The share of training samples that pass, first against last
   updates, compares different prompts; it is kept in the JSON only to show
   that.)
3. **Placebo** (`placebo`): the same run with each batch's rewards shuffled
   across its completions: the same values, no link to the programs. What a
   true-reward run gains over its placebo is the reward's signal; what the
   placebo loses is drift.
4. **Breadth** (`--n-practice 400`): the same 200 updates of 16 completions
   on 400 practice problems, each seen once, instead of 80 seen five times.
5. **The RFT control** (`rft`, chapter 06's): as many samples from the start
   (8 for each of the 400 prompts GRPO draws), those passing every reward
   test kept, SFT for as many updates of 16 at chapter 06's `RFT_LR` (1e-3;
   the run keys name GRPO's learning rate). `rft_at_lr`: the same control
   with its SFT at GRPO's learning rate (`--lr`), to tell whether the
   learning rate alone separates the two.
6. **Self-play's reward** (`--tests tcg`): rewarded (and RFT filtered) by
   chapter 02's generated tests instead; problems without a case left out.

Every run otherwise as chapter 06 (groups of 8, temperature 0.8, 384 tokens,
`scale_rewards="none"`, no KL, LoRA rank 16, outcome reward only). Paired
differences over problems for one seed (a pointer), over seeds and problems
where a run was made with several (`over_seeds`). Results go to
`benchmarks/rl_signal.json`; runs are cached under `runs/tiny/06/`.

    python benchmarks/rl_signal.py --seed 0 --lr 2e-4 --updates 120 --runs true placebo
    python benchmarks/rl_signal.py --seed 0 --skip-checks --lr 5e-4 --updates 200 --runs true placebo batch64
    python benchmarks/rl_signal.py --seed S --skip-checks --lr 2e-4 --updates 200 --n-practice 400 --runs true rft  # S = 0, 1, 2
    python benchmarks/rl_signal.py --seed S --skip-checks --lr 2e-4 --updates 200 --n-practice 400 --runs rft_at_lr  # S = 0, 1, 2
    python benchmarks/rl_signal.py --seed S --skip-checks --lr 5e-4 --updates 200 --n-practice 400 --runs true  # S = 0, 1, 2
    python benchmarks/rl_signal.py --seed S --skip-checks --lr L --beta 0.04 --updates 200 --n-practice 400 --runs true  # L = 5e-4, 1e-3
    python benchmarks/rl_signal.py --seed 0 --skip-checks --lr 2e-4 --updates 200 --n-practice 400 --tests tcg --runs true rft

Measured 2026-12-05 on a 2-core AMD EPYC VM with AVX-512 (native kernels):

- The setup is sound: 0 of 96 prompts misaligned; samples passing the
  reference tests 0.365 (TRL) against 0.385 (the project's sampler, same
  prompts); log-probabilities agree to 4.5e-6.
- On 80 practice problems (seed 0, start: `test` greedy 0.29, practice greedy
  0.44, practice sampled 0.34), the policy learns what it practises and
  nothing else: 120 updates at 2e-4 give practice greedy 0.58 (+0.14
  [+0.03, +0.25]), sampled 0.48 (+0.13 [+0.08, +0.19]), `test` greedy 0.31
  (+0.02, none detectable); 200 at 5e-4: practice sampled 0.45 (+0.11), `test`
  0.28; 50 updates of 64: practice sampled 0.49 (+0.15), `test` 0.33 (+0.04,
  none detectable).
- The placebo drifts down: at 2e-4 for 120 updates practice sampled 0.34 ->
  0.29 (-0.06 [-0.10, -0.01]); at 5e-4 for 200 updates everything falls to
  0.00 (entropy 0.035 -> 0.26 nats a token), while the true reward's run at
  that rate gains on its practice problems. The updates carry the reward's
  signal, against a drift that grows with the learning rate.
- With 400 practice problems each seen once, over seeds 0-2 (start `test`
  greedy 0.25): GRPO 0.26 (+0.01 [-0.09, +0.12], none detectable; seed 0
  alone read +0.10, seeds 1 and 2 -0.01 and -0.06); the RFT control **0.35
  (+0.10 [+0.02, +0.18], higher)**, from 8 samples +0.08 [+0.03, +0.13];
  GRPO - RFT -0.09 [-0.17, +0.00] greedy (none detectable), -0.06
  [-0.09, -0.03] from samples (lower).
- **At GRPO's learning rate the control's lead is gone**: the same RFT
  control with its SFT at 2e-4 (same samples, same kept programs: 625, 382
  and 577 of 3,200) ends at `test` greedy 0.26 (+0.01 [-0.05, +0.08], none
  detectable), from samples +0.03 [+0.00, +0.06] (none detectable); GRPO -
  RFT at 2e-4 -0.00 [-0.12, +0.10] greedy, -0.01 [-0.05, +0.03] from
  samples: no difference we can detect. On its practice problems it gains
  less than at 1e-3 (greedy +0.10, +0.14, +0.07 against +0.15, +0.24,
  +0.14). Measured 2026-12-05, same VM.
- A larger GRPO learning rate does not close the gap: 5e-4 on the same
  400 problems, seeds 0-2: `test` greedy 0.25 -> 0.18 (-0.07 [-0.15, +0.02],
  none detectable); GRPO - RFT -0.17 [-0.28, -0.07] greedy (lower), -0.13
  [-0.21, -0.05] from samples (lower); from samples on its own practice problems it falls on seeds 0 and 1 (-0.08
  and -0.17, both CIs below 0; seed 1 collapses, `test` 0.18 -> 0.07) and
  stays put on seed 2 (-0.00).
- A KL leash to the starting policy (`--beta 0.04`, TRL's former default;
  seeds 0-2, the same 400 problems) stops the drift but buys no held-out
  gain: at 5e-4 every seed now gains on its own practice problems from
  samples (+0.06, +0.04, +0.05; without it two of three lost) and entropy
  falls instead of rising, yet `test` greedy goes 0.25 -> 0.23 (-0.01
  [-0.09, +0.08], none detectable; GRPO - RFT -0.11 [-0.20, -0.03], lower);
  at 1e-3 the practice gain is gone (+0.01, -0.01, +0.02) and `test` reads
  0.21 (-0.03 [-0.10, +0.04], none detectable; GRPO - RFT -0.13 [-0.20,
  -0.06], lower). About 285-370 s a run, as without the penalty.
- Rewarded (and RFT filtered) by chapter 02's generated tests on the same
  400 problems (398 with a case; seed 0): GRPO sinks `test` greedy from 0.29
  to **0.10 (-0.19 [-0.28, -0.11], lower)** and practice greedy (judged by
  the reference tests) from 0.49 to 0.20; the RFT control gives 0.31 (+0.02,
  none detectable). Breadth does not rescue a reward that pays for wrong
  programs: it gives GRPO more of them to learn.

So at this size, with a true reward and broad practice, plain rejection
sampling and SFT turns the same samples into a held-out gain and GRPO does
not, and cannot simply take the control's larger step: at 5e-4 it loses
ground even on the problems it practises on two seeds of three (the placebo
says why: the drift grows with the learning rate), while SFT on kept samples
runs at 1e-3. At GRPO's 2e-4 the control gains no more than GRPO: what
separates them is the step size each tolerates, not the signal in the
samples; a KL penalty lets GRPO run at 5e-4 without drifting but not
turn that into a held-out gain. About 1.5 s a GRPO update and 130 s an RFT control (3,200 samples
and 200 SFT updates).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "rl_signal.json"
RUNS = {  # name: (share of --updates, completions per update, shuffle the rewards): the same completions in all
    "true": (1, 16, False),
    "placebo": (1, 16, True),
    "batch64": (4, 64, False),
    "placebo64": (4, 64, True),
    "rft": (1, 16, None),  # rejection-sampling fine-tuning at the same samples and updates: keep what passes, SFT
    "rft_at_lr": (1, 16, None),  # the same control, its SFT at GRPO's --lr instead of chapter 06's RFT_LR
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--updates", type=int, default=200, help="updates of 16 completions; the 64-completion runs take a quarter")
    parser.add_argument("--runs", nargs="+", default=["true", "placebo", "batch64"], choices=sorted(RUNS))
    parser.add_argument("--n-practice", type=int, default=80, help="train problems to practise on (chapter 06: 80)")
    parser.add_argument("--tests", default="reference", choices=["reference", "tcg"],
                        help="what rewards (and filters RFT): the reference tests, or self-play's generated tests (chapter 02's TCG)")
    parser.add_argument("--beta", type=float, default=0.0, help="GRPO's KL penalty to the starting policy (chapter 06: 0)")
    parser.add_argument("--skip-checks", action="store_true")
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
    practice = suite.problems(profile, "train", n=args.n_practice, seed=args.seed + 3)  # chapter 06's draw (80)
    eval_problems = suite.problems(profile, "test", n=100, seed=args.seed)
    if args.tests == "tcg":  # self-play's reward: chapter 02's TCG of this seed, problems it wrote no case for left out
        generated = upstream.generated_tests(profile, args.seed, (practice,))
        practice = [p for p in practice if generated[p.task_id + p.split]]
        tests = {p.task_id: generated[p.task_id + p.split] for p in practice}
    else:
        tests = {p.task_id: list(p.tests) for p in practice}
    by_id = {p.task_id: p for p in practice}
    adapter, _ = upstream.policy(profile, "pseudocode", args.seed)
    data_key = stable_hash({"problems": [p.task_id for p in practice], "tests": args.tests, "benchmark": "rl_reference_budget"})
    host = machine()

    class Reward(rl.SelfPlayReward):
        """The outcome reward; with `shuffle`, each batch's rewards permuted across its completions."""

        def __init__(self, *a, shuffle=False, check_prompts=False, **k):
            super().__init__(*a, **k)
            self.rng, self.shuffle, self.check_prompts, self.misaligned, self.samples = random.Random(args.seed), shuffle, check_prompts, 0, []

        def __call__(self, prompts, completions, task_id, **k):
            rewards = super().__call__(prompts, completions, task_id, **k)
            if self.check_prompts:
                self.misaligned += sum(p != self.policy.prompt(by_id[t]) for p, t in zip(prompts, task_id))
                self.samples += [(t, rl.completion_text(c)) for t, c in zip(task_id, completions)]
            if self.shuffle:
                self.rng.shuffle(rewards)
            return rewards

    def measure(chain, tag) -> dict:
        """Pass rates of the policy `chain` by problem: greedy and from 8 samples at T = 0.8, on `test` and on the practice problems."""
        rates = {}
        for split, problems in (("test", eval_problems), ("practice", practice)):
            for mode, n, temperature in (("greedy", 1, 0.0), ("sampled", 8, 0.8)):
                cache = run_dir(profile, "06") / "eval" / f"signal_seed{args.seed}_{split}_{mode}_{tag}_{stable_hash([str(c) for c in chain])}.json"
                passed = rl.evaluate_chain(profile, chain, problems, cache, n=n, temperature=temperature, max_new_tokens=384,
                                           seed=args.seed)
                rates[f"{split}_{mode}"] = [float(np.mean(p)) for p in passed]
        return rates

    record = json.loads(OUT.read_text()) if OUT.exists() else {"runs": {}}
    if not args.skip_checks:
        record["setup_checks"] = setup_checks(profile, adapter, practice, tests, by_id, Reward, args.seed, host)
        OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")

    init = measure([adapter], f"init_practice{len(practice)}_{stable_hash([p.task_id for p in practice], length=8)}")
    print(f"seed {args.seed} start: " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in init.items()), flush=True)
    for name in args.runs:
        share, batch, shuffle = RUNS[name]
        updates = args.updates // share
        rft_lr = {"rft": 1e-3, "rft_at_lr": args.lr}.get(name)  # chapter 06's RFT_LR, or GRPO's learning rate
        config = rl.RLConfig(reward="outcome", steps=updates, batch_size=batch, num_generations=8, learning_rate=args.lr,
                             temperature=0.8, max_completion_length=384, rank=profile.lora_rank, seed=args.seed,
                             beta=0.0 if rft_lr else args.beta)
        if rft_lr:  # chapter 06's control, filtered by the same tests as GRPO's reward
            out, log = rl.rft_control(profile, adapter, practice, tests, config, 1, data_key, learning_rate=rft_lr)
            out = out or adapter  # nothing kept: the control is the start
            log = {"log_history": [], "seconds": log.get("sample_seconds"), "kept": log.get("kept"), "completions": log.get("completions")}
        else:  # exactly chapter 06's round (cached where benchmarks/rl_reference_budget.py caches it), or the placebo:
            # the same round, seeds and data with a reward that shuffles each batch, cached apart
            placebo = dict(reward_class=functools.partial(Reward, shuffle=True), variant="shuffled rewards") if shuffle else {}
            out, log = rl.train_round(profile, [adapter], practice, tests, config, data_key, **placebo)
        after = measure([adapter] if out == adapter else [adapter, out], f"{name}_after")
        curves = rl.curves(log)
        entropy = [r["entropy"] for r in log["log_history"] if "entropy" in r]
        reference = [v for v in curves["reference_pass"] if v is not None]
        window = max(1, 160 // batch)  # the first and last 160 completions

        def mean(values):  # None where there is no GRPO log (the RFT control)
            return round(float(np.mean(values)), 4) if values else None

        row = {"updates": updates, "completions_per_update": batch, "shuffled_rewards": shuffle,
               "learning_rate": rft_lr or args.lr, "beta": config.beta,
               "practice_problems": len(practice), "reward_tests": args.tests, "seed": args.seed}
        for measure_name in init:
            row[f"{measure_name}_init"] = seeded_estimate([init[measure_name]])
            row[f"{measure_name}_after"] = seeded_estimate([after[measure_name]])
            row[f"{measure_name}_after_minus_init"] = paired_difference([after[measure_name]], [init[measure_name]])
        row["test_by_problem"] = {k: {"init": init[k], "after": after[k]} for k in ("test_greedy", "test_sampled")}
        if rft_lr:
            row.update(rft_kept=log["kept"], rft_completions=log["completions"])
        row.update({
               "train_reference_pass_first_160": mean(reference[:window]), "train_reference_pass_last_160": mean(reference[-window:]),
               "entropy_first_160": mean(entropy[:window]), "entropy_last_160": mean(entropy[-window:]),
               "seconds": log.get("seconds"), "cpu": host["cpu"], "kernel_path": host["kernel_path"]})
        record["runs"][f"seed={args.seed} {name} updates={updates} lr={args.lr:g} practice={len(practice)}"
                       + ("" if args.tests == "reference" else f" tests={args.tests}")
                       + (f" beta={args.beta:g}" if config.beta else "")] = row
        OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {updates} updates x {batch} completions, shuffled={shuffle}, {len(practice)} practice problems, "
              f"lr {row['learning_rate']:g} · {log.get('seconds', 0):.0f} s"
              + (f"; entropy {row['entropy_first_160']:.3f} -> {row['entropy_last_160']:.3f}" if entropy else ""), flush=True)
        for measure_name in init:
            print(f"  {measure_name:17s} {np.mean(init[measure_name]):.3f} -> {np.mean(after[measure_name]):.3f} "
                  f"({describe(row[measure_name + '_after_minus_init'])})", flush=True)

    summarise(record)
    OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def summarise(record: dict) -> None:
    """Where a run was made with several seeds, its `test` results over all of them (seeds x problems, paired)."""
    from o1lite.metrics import describe, paired_difference, seeded_estimate

    groups: dict[str, list[dict]] = {}
    for key, row in record["runs"].items():
        if "test_by_problem" in row:
            groups.setdefault(key.split(" ", 1)[1], []).append(row)
    record["over_seeds"] = {}
    for key, rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: r["seed"])
        if len(rows) < 2:
            continue
        summary = {"seeds": [r["seed"] for r in rows]}
        for measure in ("test_greedy", "test_sampled"):
            init = [r["test_by_problem"][measure]["init"] for r in rows]
            after = [r["test_by_problem"][measure]["after"] for r in rows]
            summary[f"{measure}_init"], summary[f"{measure}_after"] = seeded_estimate(init), seeded_estimate(after)
            summary[f"{measure}_after_minus_init"] = difference = paired_difference(after, init)
            print(f"{key}, seeds {summary['seeds']}: {measure} {summary[measure + '_init']['value']:.3f} -> "
                  f"{summary[measure + '_after']['value']:.3f} ({describe(difference)})", flush=True)
        record["over_seeds"][key] = summary

    def settings(key, ignored="lr|beta"):  # a group's settings without the fields an RFT control does not depend on
        return re.sub(rf" ({ignored})=\S+", "", key.split(" ", 1)[1])

    # the control at chapter 06's RFT_LR depends on neither GRPO's learning rate nor its KL weight; the one at GRPO's rate on the rate
    controls = {settings(k): k for k in record["over_seeds"] if k.startswith("rft ")}
    at_lr = {settings(k, "beta"): k for k in record["over_seeds"] if k.startswith("rft_at_lr ")}
    for key in [k for k in record["over_seeds"] if k.startswith("true ")]:
        for suffix, control in (("rft", controls.get(settings(key))), ("rft_at_lr", at_lr.get(settings(key, "beta")))):
            if control is None:
                continue
            rl_rows, rft_rows = sorted(groups[key], key=lambda r: r["seed"]), sorted(groups[control], key=lambda r: r["seed"])
            if [r["seed"] for r in rl_rows] != [r["seed"] for r in rft_rows]:
                continue  # GRPO against an RFT control only on the same seeds
            for measure in ("test_greedy", "test_sampled"):
                difference = paired_difference([r["test_by_problem"][measure]["after"] for r in rl_rows],
                                               [r["test_by_problem"][measure]["after"] for r in rft_rows])
                record["over_seeds"][key][f"{measure}_grpo_minus_{suffix}"] = difference
                print(f"{key}: {measure} GRPO - {suffix} {describe(difference)}", flush=True)


def setup_checks(profile, adapter, practice, tests, by_id, Reward, seed, host) -> dict:
    """Six updates at learning rate 0: prompt alignment, TRL's sampling against ours, TRL's log-probabilities against a plain forward."""
    import torch
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    from o1lite import models
    from o1lite.sandbox import Sandbox
    from o1lite.stages import rl
    from o1lite.stages.mcts import SandboxJudge
    from o1lite.stages.policies import LanguagePolicy

    config = rl.RLConfig(reward="outcome", steps=6, batch_size=16, num_generations=8, learning_rate=0.0, temperature=0.8,
                         max_completion_length=384, rank=profile.lora_rank, seed=seed)
    model, tokenizer = models.load_adapter(profile, [adapter])
    policy = LanguagePolicy(model, tokenizer, "pseudocode", chat=profile.chat, max_new_tokens=384)
    captured = []
    with Sandbox(workers=2) as sandbox:
        judge = SandboxJudge(sandbox)
        reward = Reward(policy, practice, tests, judge, config, check_prompts=True)
        trainer = GRPOTrainer(model=model, args=GRPOConfig(**rl.grpo_settings(config, "/tmp/o1lite_rl_signal")),
                              train_dataset=policy.prompt_dataset(practice, tests), processing_class=tokenizer,
                              reward_funcs=[reward], peft_config=models.lora_config(config.rank))
        trainer.remove_callback(PrinterCallback)
        inner = trainer._get_per_token_logps_and_entropies

        def capture(m, input_ids, attention_mask, logits_to_keep, *a, **k):
            out = inner(m, input_ids, attention_mask, logits_to_keep, *a, **k)
            if len(captured) < 2:
                captured.append((input_ids.detach().clone(), attention_mask.detach().clone(), logits_to_keep, out[0].detach().clone()))
            return out

        trainer._get_per_token_logps_and_entropies = capture
        trainer.train()

        def reference_rate(pairs):
            programs = [(by_id[t], policy.program(by_id[t], text)) for t, text in pairs]
            verdicts = judge([(p, prog, tests[p.task_id]) for p, prog in programs if prog is not None])
            return sum(v.passed_reference for v in verdicts) / len(pairs)

        trl_rate = reference_rate(reward.samples)
        drawn = [by_id[t] for t, _ in reward.samples[::8]]
        ours = policy.sample(drawn, n=8, temperature=0.8, seed=seed)
        own_rate = reference_rate([(p.task_id, c) for p, cs in zip(drawn, ours) for c in cs])
    worst = 0.0
    trainer.model.eval()
    for input_ids, mask, keep, logps in captured:
        for i in range(input_ids.shape[0]):
            ids = input_ids[i][mask[i].bool()]
            n = int(mask[i, -keep:].sum())
            if not n:
                continue
            with torch.no_grad():
                logits = trainer.model(input_ids=ids[None]).logits[0, :-1].float() / config.temperature
            alone = torch.log_softmax(logits, -1).gather(-1, ids[1:, None])[:, 0][-n:]
            worst = max(worst, float((alone - logps[i, :n]).abs().max()))
    checks = {"misaligned_prompts": reward.misaligned, "rows": len(reward.samples),
              "trl_reference_pass": round(trl_rate, 4), "own_sampler_reference_pass": round(own_rate, 4),
              "logp_max_abs_difference": worst, "cpu": host["cpu"], "kernel_path": host["kernel_path"]}
    print(f"setup: {checks['misaligned_prompts']} of {checks['rows']} prompts misaligned; samples passing the reference tests: "
          f"TRL {trl_rate:.3f}, the project's sampler {own_rate:.3f} (same prompts, 8 each); largest |log p| difference, "
          f"TRL's batch vs each sequence alone: {worst:.2e}", flush=True)
    return checks


if __name__ == "__main__":
    main()
