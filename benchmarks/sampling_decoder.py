"""`generation.sample` against the `generate`-based sampler it replaced, in one process.

Until ccad975, `o1lite.generation.sample` repeated each prompt `n` times and
ran batches of `transformers`' `generate` (kept as `generation.sample_with_generate`,
the fallback for a model whose cache cannot be shared): every prompt copy was encoded on
its own, and a batch decoded until its longest row ended, finished rows
included. Now it runs the decoding loop of chapter 04's siblings: each
prompt is encoded once, its cache copied for its `n` rows, and finished rows
leave the batch. This script times both on the chapters' sampling work,
alternating them (baseline, new, baseline, new, ...) so that drift of the
machine falls on both:

- **chapter 00**: the tiny base, 128 `test` problems, greedy (96 new tokens)
  and 4 samples each at temperature 0.8;
- **chapter 03**: a pseudocode policy of chapter 03 (the first adapter folder,
  by name, under `runs/tiny/03/pseudocode/`, or `--adapter`), 50 `test` and 50 `hard`
  problems, greedy and 10 samples each at 0.8, up to 320 new tokens, batches
  of 128 rows, as the chapter evaluates it.

and checks what comes out: greedy completions must be identical (both are
argmax decoding of the same model), and the sampled programs' pass rate under
the two samplers, paired by problem, with a bootstrap CI over problems (the
two draw from the same distribution with different random streams, so the
difference should hold 0).

    python benchmarks/sampling_decoder.py                 # about 5 minutes on 2 cores, after chapter 03 ran
    python benchmarks/sampling_decoder.py --threads 1     # as chapter 03's side-by-side jobs run

It changes nothing and no chapter reads it. Measured: see RESULTS.md, Speed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def compare(name, model, tokenizer, problems, prompts, to_program, n, max_new_tokens, batch_size, rounds, sandbox):
    from o1lite import metrics
    from o1lite.evaluate import run_programs
    from o1lite.generation import sample, sample_with_generate

    samplers = {"generate": sample_with_generate, "sample": sample}
    seconds = {key: {"greedy": 0.0, "sampled": 0.0} for key in samplers}
    out = {}
    for _ in range(rounds):
        for key, sampler in samplers.items():
            started = time.perf_counter()
            greedy = sampler(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
            seconds[key]["greedy"] += time.perf_counter() - started
            started = time.perf_counter()
            sampled = sampler(model, tokenizer, prompts, n=n, temperature=0.8, max_new_tokens=max_new_tokens,
                              batch_size=batch_size, seed=0)
            seconds[key]["sampled"] += time.perf_counter() - started
            out[key] = (greedy, sampled)
    same = sum(a == b for a, b in zip(out["generate"][0], out["sample"][0]))
    rates = {}
    for key, (_, sampled) in out.items():
        programs = [[to_program(p, c) for c in cs] for p, cs in zip(problems, sampled)]
        runnable = [[x for x in xs if x is not None] for xs in programs]
        verdicts = run_programs(sandbox, problems, runnable)
        rates[key] = [sum(v) / n for v in verdicts]  # unrunnable samples fail
    difference = metrics.paired_difference([rates["sample"]], [rates["generate"]])
    print(f"\n{name}: {len(prompts)} prompts, {n} samples each, up to {max_new_tokens} new tokens, batches of {batch_size} rows, {rounds} rounds")
    for part in ("greedy", "sampled"):
        base, new = seconds["generate"][part] / rounds, seconds["sample"][part] / rounds
        print(f"  {part:>8}: generate {base:6.1f} s · sample {new:6.1f} s · {base / new:.2f}x")
    print(f"  greedy completions identical: {same}/{len(prompts)}")
    print(f"  sampled pass rate: generate {sum(rates['generate']) / len(problems):.3f} · sample "
          f"{sum(rates['sample']) / len(problems):.3f} · sample - generate {metrics.describe(difference)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two samplers (times are their mean)")
    parser.add_argument("--adapter", help="chapter 03's pseudocode adapter (default: the first under runs/tiny/03/pseudocode/)")
    args = parser.parse_args(argv)

    import datasets
    import torch
    import transformers

    from o1lite import models, suite
    from o1lite.profiles import get_profile, runs_dir
    from o1lite.programs import body_program
    from o1lite.sandbox import Sandbox
    from o1lite.stages import policies

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    profile = get_profile("tiny")
    models.ensure_tiny_base(profile.tiny, progress=False)
    print(f"{args.threads} torch thread(s); {torch.__config__.parallel_info().splitlines()[0]}")
    with Sandbox(workers=2) as sandbox:
        model, tokenizer = models.load_model(profile)
        problems = suite.problems(profile, "test", n=128, seed=0)
        compare("chapter 00 (tiny base, vanilla prompts)", model.eval(), tokenizer, problems, [p.prompt for p in problems],
                lambda p, c: body_program(p.prompt, c), n=4, max_new_tokens=96, batch_size=64, rounds=args.rounds,
                sandbox=sandbox)
        adapter = args.adapter or next(iter(sorted((runs_dir() / "tiny" / "03" / "pseudocode").glob("*/adapter_config.json"))), None)
        if adapter is None:
            print("\nchapter 03: no pseudocode adapter under runs/tiny/03/pseudocode/ (run chapter 03 first, or pass --adapter)")
            return 0
        folder = Path(adapter).parent if str(adapter).endswith(".json") else Path(adapter)
        model, tokenizer = policies.load_policy(profile, folder)
        policy = policies.LanguagePolicy(model.eval(), tokenizer, "pseudocode", 0.8, 320)
        problems = suite.problems(profile, "test", n=50, seed=0) + suite.problems(profile, "hard", n=50, seed=0)
        compare(f"chapter 03 (pseudocode policy {folder.name})", policy.model, tokenizer, problems,
                [policy.prompt(p) for p in problems], policy.program, n=10, max_new_tokens=320, batch_size=128,
                rounds=args.rounds, sandbox=sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
