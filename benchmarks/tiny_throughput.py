"""Where the tiny chapters' CPU time could come from: threads, processes, and finished rows.

Chapters 00-04 spend most of their time in LoRA SFT steps and in batched
sampling with the tiny base's architecture. This script measures, against a
baseline run in the same process (2 torch threads, one process, the
chapters' own sampler):

- **sampling**: 128 vanilla prompts, 4 samples each at temperature 0.8,
  96 new tokens at most, batches of 64 (`o1lite.generation.sample`): the
  time with 1 thread against 2, and the **finished-row share**: of the
  rows x steps a batch decodes, the share spent on rows that had already
  ended (end-of-text) while a longer row in the same batch went on (row
  lengths from the completions re-tokenized, close to the generated ids). A
  decoder that drops finished rows could skip that share of the work
  (`sample` has been one since ccad975: `benchmarks/sampling_decoder.py`
  measures it against the `generate` batches it replaced; the share here is
  still computed for `generate` batches of 64 rows);
  and the rows per second of two 1-thread processes sampling at once;
- **LoRA SFT** (chapter 03's setting: batches of 16, rank 16, vanilla
  format, `o1lite.training.sft_lora`): steps per second with 1 thread against
  2, and the combined steps per second of two 1-thread processes training at
  the same time (what running two seeds side by side would give).

    python benchmarks/tiny_throughput.py            # about 3 minutes on 2 cores (builds the tiny base if missing)

It also compares what comes out: digests of the samples and of greedy
completions of the same prompts, and of the trained adapter's weights and
loss curve, with 1 thread against 2 and in two 1-thread processes at once.

It changes nothing and no chapter reads it. Measured with the `generate`
sampler of the time, on the 2-core AMD EPYC VM (AVX2), 2026-11-28: sampling, 1 thread 1.00x of 2, two 1-thread processes
1.94x, finished-row share 0.38; SFT, 1 thread 0.66x, two 1-thread processes
1.20x (their training alone).

Measured on the 2-core AMD EPYC VM with AVX-512 (native kernels), 2026-12-05,
four runs: sampling, 1 thread 0.78-0.98x of 2, two 1-thread processes
1.26-1.82x, finished-row share 0.38; SFT, 1 thread 0.68-0.72x, two 1-thread
processes 1.14-1.34x (their training alone). What comes out is **the same
bits**: samples and greedy completions identical with 1 thread and with 2
and in two processes at once; LoRA adapters and loss curves identical too,
once torch's global generator is set the same before each training (the
third and fourth runs; the fourth also compared the greedy completions and
loss curves of the two processes at once). Without that (the first two runs) the adapters differed, the loss
curves by up to 0.095: peft draws the LoRA matrices from the global generator
when the trainer wraps the model, before the trainer seeds anything, so an
adapter depends on what its process did before it. Since then every
training seeds the generator itself (`training.sft_lora` / `dpo_lora`), so
on this VM seeds run side by side in 1-thread processes (`o1lite.pool`) give
the numbers one process gives (`benchmarks/pool_jobs1_2026-12-05/`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load():
    import datasets
    import transformers

    from o1lite import models
    from o1lite.profiles import get_profile

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    profile = get_profile("tiny")
    models.ensure_tiny_base(profile.tiny, progress=False)
    model, tokenizer = models.load_model(profile)
    return model.eval(), tokenizer


def _digest(value) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]


def sampling(threads: int) -> dict:
    """Seconds to sample, the finished-row share of the decoded rows x steps, and digests of what
    was sampled and of greedy completions of the same prompts (to compare thread counts)."""
    import torch

    from o1lite.generation import sample
    from o1lite.problems import load_problems
    from o1lite.stages.prompts import policy_prompt

    torch.set_num_threads(threads)
    model, tokenizer = _load()
    prompts = [policy_prompt(p, "vanilla", tokenizer, False) for p in load_problems("synthetic", "test", n=128, seed=0)]
    started = time.perf_counter()
    completions = sample(model, tokenizer, prompts, n=4, temperature=0.8, max_new_tokens=96, batch_size=64, seed=0)
    seconds = time.perf_counter() - started
    greedy = sample(model, tokenizer, prompts, max_new_tokens=96, batch_size=64)
    # rows x steps: each batch of 64 rows decodes as many steps as its longest row needs
    flat = [c for cs in completions for c in cs]
    lengths = [min(96, len(tokenizer(c, add_special_tokens=False)["input_ids"]) + 1) for c in flat]  # + end-of-text
    decoded = useful = 0
    for start in range(0, len(lengths), 64):
        batch = lengths[start : start + 64]
        decoded += max(batch) * len(batch)
        useful += sum(batch)
    return {"seconds": round(seconds, 2), "rows": len(flat), "finished_row_share": round(1 - useful / decoded, 3),
            "sampled_digest": _digest(completions), "greedy_digest": _digest(greedy)}


def sft(threads: int, steps: int) -> dict:
    """Seconds for `steps` LoRA SFT steps of chapter 03's vanilla setting, the loss curve and a
    digest of the trained adapter's weights (to compare thread counts)."""
    import torch

    from o1lite.problems import load_problems
    from o1lite.stages.policies import policy_dataset
    from o1lite.training import sft_lora

    torch.set_num_threads(threads)
    model, tokenizer = _load()
    dataset = policy_dataset(load_problems("synthetic", "train", n=400, seed=0), "vanilla", tokenizer)
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):  # the trainer prints its logs
        log = sft_lora(model, tokenizer, dataset, Path(scratch) / "sft", steps=steps, batch_size=16, learning_rate=1e-2, rank=16)
        from safetensors.torch import load_file

        weights = load_file(Path(scratch) / "sft" / "adapter_model.safetensors")
        adapter = _digest([weights[name].flatten().tolist() for name in sorted(weights)])
    return {"seconds": log["seconds"], "steps": steps, "losses": [r["loss"] for r in log["loss_history"]], "adapter_digest": adapter}


def two_processes(steps: int | None) -> dict:
    """Two 1-thread runs at the same time, each in its own process (SFT for `steps` steps, or
    with None the sampling): wall seconds for both, and each one's own measured seconds."""
    command = [sys.executable, __file__] + (["--sft-worker", str(steps)] if steps else ["--sample-worker"])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate()[0] for w in workers]
    if any(w.returncode for w in workers):
        raise SystemExit("a worker failed: " + " | ".join(o[-300:] for o in outputs))
    results = [json.loads(o.strip().splitlines()[-1]) for o in outputs]
    return {"wall_seconds": round(time.perf_counter() - started, 2), "inner_seconds": [r["seconds"] for r in results],
            "steps": 2 * (steps or 0), "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="SFT steps per measurement")
    parser.add_argument("--sft-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sample-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sft_worker or args.sample_worker:
        print(json.dumps(sft(1, args.sft_worker) if args.sft_worker else sampling(1)))
        return 0
    base = sampling(2)
    one = sampling(1)
    both = two_processes(None)
    print(f"sampling {base['rows']} rows: 2 threads {base['seconds']:.1f} s (baseline) · 1 thread {one['seconds']:.1f} s "
          f"({base['seconds'] / one['seconds']:.2f}x the baseline's speed) · two 1-thread processes, each sampling as much, "
          f"{both['inner_seconds'][0]:.1f} and {both['inner_seconds'][1]:.1f} s at once "
          f"({2 * base['seconds'] / max(both['inner_seconds']):.2f}x the baseline's rows per second; "
          f"{both['wall_seconds']:.0f} s wall with loading)")
    print(f"  finished-row share of the decoded rows x steps: {base['finished_row_share']:.2f} "
          f"(a decoder that drops finished rows could skip about that share)")
    same = lambda key, a, b: "identical" if a[key] == b[key] else "DIFFERENT"
    print(f"  1 thread against 2: samples {same('sampled_digest', one, base)}, greedy completions "
          f"{same('greedy_digest', one, base)}; two 1-thread processes at once against 2 threads alone: samples "
          f"{', '.join(same('sampled_digest', r, base) for r in both['results'])}, greedy completions "
          f"{', '.join(same('greedy_digest', r, base) for r in both['results'])}")
    two = sft(2, args.steps)
    single = sft(1, args.steps)
    pair = two_processes(args.steps)
    rate = lambda steps, seconds: steps / seconds
    print(f"LoRA SFT, batches of 16: 2 threads {rate(two['steps'], two['seconds']):.2f} steps/s (baseline) · "
          f"1 thread {rate(single['steps'], single['seconds']):.2f} steps/s "
          f"({two['seconds'] / single['seconds']:.2f}x) · two 1-thread processes at once "
          f"{rate(pair['steps'], pair['wall_seconds']):.2f} steps/s together, wall time with start-up "
          f"({rate(pair['steps'], pair['wall_seconds']) / rate(two['steps'], two['seconds']):.2f}x; "
          f"their training alone {pair['inner_seconds'][0]:.1f} and {pair['inner_seconds'][1]:.1f} s, "
          f"{pair['steps'] / max(pair['inner_seconds']) / rate(two['steps'], two['seconds']):.2f}x)")
    gap = (max((abs(a - b) for a, b in zip(single["losses"], two["losses"])), default=0.0)
           if len(single["losses"]) == len(two["losses"]) else float("nan"))  # nan: curves of different lengths
    print(f"  1 thread against 2: adapter weights {same('adapter_digest', single, two)}, loss curve {same('losses', single, two)} "
          f"(largest gap {gap:.1e}); two 1-thread processes at once against 1 thread alone: adapters "
          f"{', '.join(same('adapter_digest', r, single) for r in pair['results'])}, loss curves "
          f"{', '.join(same('losses', r, single) for r in pair['results'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
