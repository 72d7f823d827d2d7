"""LoRA SFT with each step's batch split into two micro-batches of similar length, against one padded batch.

`o1lite.training.sft_lora` used to pad each step's 16 examples to the longest
of them. A pseudocode example runs from about 100 to 400 tokens, so most of a
batch was padding. Since this change a step's examples are still drawn at
random, but they run as two micro-batches: the longest examples in one, the
rest in the other (transformers' `BatchRebalanceSampler`, gradient
accumulation 2), with the loss averaged over all the step's completion tokens
as before (`tests/test_training.py` checks that three SGD steps give the
same adapter both ways).

This script trains chapter 03's two policies, as the chapter does (2000
`train` problems, 200 steps of 16, learning rate 1e-2, LoRA rank 16 with the
targets' token embeddings), for each seed once each way, alternating the two
(one padded batch, then two micro-batches) so that drift of the machine falls
on both, and prints:

- the training seconds each way (`trainer.train()`, as `sft_lora` logs
  them) and their ratio (median over seeds); the recorded outputs of
  2026-12-06 timed the whole `sft_lora` call, the trainer's set-up (TRL
  tokenising the dataset) included;
- each policy's greedy pass@1 on `test` problems, and the difference
  two micro-batches minus one batch, paired by seed and problem, with the
  two-level bootstrap CI of `o1lite.metrics.paired_difference`. Both ways
  take the same examples at every step (accelerate's seedable sampler and the
  rebalancing sampler draw the same permutation from the training's seed), so
  the two trainings differ only in the order of floating-point sums; the
  difference shows how far that moves a policy, and should hold 0.

    python benchmarks/length_balanced_sft.py                  # 3 seeds, about 12 minutes on 2 cores
    python benchmarks/length_balanced_sft.py --threads 1      # as chapter 03's side-by-side jobs train

It changes nothing and no chapter reads it. Measured: see RESULTS.md, Speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-eval", type=int, default=150, help="test problems each policy is judged on (greedy)")
    args = parser.parse_args(argv)

    from dataclasses import replace

    import torch

    from o1lite import metrics, models, suite
    from o1lite.profiles import get_profile
    from o1lite.sandbox import Sandbox
    from o1lite.stages import policies
    from o1lite.teaching import quiet

    quiet()  # no library logs or progress bars
    torch.set_num_threads(args.threads)
    profile = get_profile("tiny")
    models.ensure_tiny_base(profile.tiny, progress=False)
    print(f"{args.threads} torch thread(s); {torch.__config__.parallel_info().splitlines()[0]}")
    problems = suite.problems(profile, "test", n=args.n_eval, seed=0)
    new_tokens = {"vanilla": 96, "pseudocode": 320}
    ways = {"one batch": 1, "two micro-batches": 2}
    seconds = {(fmt, way): [] for fmt in new_tokens for way in ways}
    scores = {(fmt, way): [] for fmt in new_tokens for way in ways}
    with Sandbox(workers=2) as sandbox, tempfile.TemporaryDirectory() as scratch:
        for seed in range(args.seeds):
            training = replace(policies.PolicyTraining(), seed=seed)
            for fmt in new_tokens:
                for way, micro in ways.items():
                    out = Path(scratch) / f"{fmt}-{seed}-{micro}"
                    _, log = policies.train_policy(profile, fmt, training, retrain=True, out_dir=out, micro_batches=micro)
                    seconds[fmt, way].append(log["seconds"])  # trainer.train(), as sft_lora logs it
                    policy, tokenizer = policies.load_policy(profile, out)
                    evaluation = policies.evaluate_policy(policy.eval(), tokenizer, problems, fmt, sandbox,
                                                          max_new_tokens=new_tokens[fmt], batch_size=128)
                    scores[fmt, way].append([float(p[0]) for p in evaluation.passed])
                    print(f"seed {seed} {fmt:>10} {way:>17}: {seconds[fmt, way][-1]:6.1f} s · greedy pass@1 "
                          f"{sum(scores[fmt, way][-1]) / len(problems):.3f}", flush=True)
    print(f"\nchapter 03's policies, {args.seeds} seed(s), {len(problems)} test problems, {args.threads} thread(s)")
    for fmt in new_tokens:
        one, two = (statistics.median(seconds[fmt, way]) for way in ways)
        difference = metrics.paired_difference(scores[fmt, "two micro-batches"], scores[fmt, "one batch"])
        print(f"  {fmt:>10}: one batch {one:6.1f} s · two micro-batches {two:6.1f} s · {one / two:.2f}x (median over seeds)")
        print(f"  {'':>10}  greedy pass@1 {metrics.seeded_estimate(scores[fmt, 'one batch'])['value']:.3f} -> "
              f"{metrics.seeded_estimate(scores[fmt, 'two micro-batches'])['value']:.3f} · two - one "
              f"{metrics.describe(difference)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
