"""How fast the tree search generates steps: shared-prefix batching vs one `generate` per child.

Runs the same tree budget (problems x simulations, k children per
expansion) three times with one of chapter 03's policies (pseudocode by
default):

- `naive`: every child is its own `model.generate` call on its full prompt
  (`o1lite.generation.sample_steps` with one prefix, k=1);
- `batched generate`: one `sample_steps` call per round for all children
  (the prompt is still encoded once per child);
- `shared prefix` (what `o1lite.stages.policies.LanguagePolicy` does): each prefix is
  encoded once, its cache copied to its siblings, all rows decoded together
  (`o1lite.generation.sample_steps_shared`).

Prints steps ("expansions": generated child steps) per second and generated
tokens per second, measured on the time spent inside the policy, and the
ratio to the naive run. Rewards come from the sandbox, as in the chapter.

    python benchmarks/mcts_bench.py                 # tiny profile, 12 problems, 4 simulations
    python benchmarks/mcts_bench.py --threads 1     # on a loaded machine one thread is much faster
"""

from __future__ import annotations

import argparse
import time

import torch

from o1lite import models
from o1lite.generation import sample_steps
from o1lite.problems import load_problems
from o1lite.profiles import get_profile
from o1lite.sandbox import Sandbox
from o1lite.stages import mcts, policies
from o1lite.stages.prompts import STEP_DELIMITER


class NaivePolicy(policies.LanguagePolicy):
    """One full-prompt `generate` per child."""

    def generate(self, prefixes, counts, seeds):
        return [[sample_steps(self.model, self.tokenizer, [prefix], stop=STEP_DELIMITER, k=1, temperature=self.temperature,
                              max_new_tokens=self.max_new_tokens, seed=mcts.derive_seed(seed, j) % 2**31)[0][0]
                 for j in range(n)] for prefix, n, seed in zip(prefixes, counts, seeds)]


class BatchedGeneratePolicy(policies.LanguagePolicy):
    """One batched `generate` for all children of a round (no prefix sharing)."""

    def generate(self, prefixes, counts, seeds):
        flat = sample_steps(self.model, self.tokenizer, [p for p, n in zip(prefixes, counts) for _ in range(n)],
                            stop=STEP_DELIMITER, k=1, temperature=self.temperature, max_new_tokens=self.max_new_tokens,
                            batch_size=256, seed=seeds[0] % 2**31 if seeds else 0)
        out, start = [], 0
        for n in counts:
            out.append([steps[0] for steps in flat[start:start + n]])
            start += n
        return out


class Timed:
    """Wraps a policy and adds up the seconds spent in `expand`."""

    def __init__(self, policy):
        self.policy, self.seconds = policy, 0.0

    def expand(self, states, k):
        started = time.perf_counter()
        try:
            return self.policy.expand(states, k)
        finally:
            self.seconds += time.perf_counter() - started


def run(policy_class, model, tokenizer, fmt, problems, sandbox, simulations, k, seed) -> dict:
    policy = Timed(policy_class(model, tokenizer, fmt, temperature=0.8))
    trees = [mcts.Tree(p, seed=seed, k=k) for p in problems]
    started = time.perf_counter()
    mcts.search(trees, policy, mcts.SandboxJudge(sandbox), simulations)
    inner = policy.policy
    return {
        "steps": inner.steps_generated, "tokens": inner.tokens_generated, "calls": inner.calls,
        "policy_seconds": policy.seconds, "total_seconds": time.perf_counter() - started,
        "steps_per_s": inner.steps_generated / policy.seconds, "tokens_per_s": inner.tokens_generated / policy.seconds,
        "pass_at_1": sum(t.to_record()["pass_at_1"] for t in trees) / len(trees),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--problems", type=int, default=12)
    parser.add_argument("--simulations", type=int, default=4)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", default="pseudocode", choices=("pseudocode", "vanilla"), help="which chapter-03 policy")
    parser.add_argument("--adapter", default=None, help="a policy adapter folder (default: chapter 03's, trained if missing)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    parser.add_argument("--smoke", action="store_true", help="micro model and policy (seconds; numbers meaningless)")
    parser.add_argument("--skip-batched", action="store_true", help="leave out the batched-generate run")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        models.configure_threads()
    profile = get_profile(args.profile, smoke=args.smoke)
    training = policies.PolicyTraining(n_train=200, steps=10) if args.smoke else policies.PolicyTraining()
    adapter = args.adapter or policies.train_policy(profile, args.format, training)[0]
    model, tokenizer = policies.load_policy(profile, adapter)
    problems = load_problems("synthetic", "test", n=args.problems, seed=args.seed)
    print(f"{args.format} policy · {args.problems} problems x {args.simulations} simulations, k={args.k} · "
          f"torch threads {torch.get_num_threads()}")

    variants = [("shared prefix", policies.LanguagePolicy)]
    if not args.skip_batched:
        variants.append(("batched generate", BatchedGeneratePolicy))
    variants.append(("naive", NaivePolicy))
    results = {}
    with Sandbox(workers=2) as sandbox:
        for name, policy_class in variants:
            results[name] = run(policy_class, model, tokenizer, args.format, problems, sandbox, args.simulations, args.k,
                                args.seed)
    naive = results["naive"]
    print(f"{'implementation':>17} {'steps':>6} {'tokens':>7} {'calls':>6} {'gen s':>7} {'steps/s':>8} "
          f"{'tokens/s':>9} {'x naive':>8} {'pass@1':>7}")
    for name, r in results.items():
        print(f"{name:>17} {r['steps']:6d} {r['tokens']:7d} {r['calls']:6d} {r['policy_seconds']:7.2f} "
              f"{r['steps_per_s']:8.1f} {r['tokens_per_s']:9.0f} {r['steps_per_s'] / naive['steps_per_s']:8.1f} "
              f"{r['pass_at_1']:7.2f}")
    ratio = results["shared prefix"]["tokens_per_s"] / naive["tokens_per_s"]
    print(f"shared prefix vs naive: {ratio:.1f}x generated tokens/s")


if __name__ == "__main__":
    main()
