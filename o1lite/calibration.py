"""How many pretraining steps the tiny base needs: pass@1 curves over seeds and CPU kernel paths.

A base model stopped in the middle of a jump in accuracy turns every float
difference between machines (AVX2 or AVX-512 kernels, thread counts) into a
different model, and every later chapter inherits the difference. This
module measures the curve that shows where the jump is:

- `PassAtSteps`, a `transformers.TrainerCallback`, evaluates greedy pass@1
  (and, with `samples`, pass@1 estimated from that many samples at
  `temperature`: Chen et al.'s estimator, under the key `<split>_sampled`)
  on held-out splits at chosen optimiser steps while the base pretrains
  (the torch random state and the tokenizer's padding side are restored
  after each evaluation, so the model trained is the one a plain build
  gives: a test checks it);
- `curve(cfg, at)` pretrains one base with it and returns the rows;
- `python -m o1lite calibrate` runs a grid of (seed, kernel path) in child
  processes, two at a time with one thread each (a kernel path must be
  chosen before torch is imported: `ATEN_CPU_CAPABILITY`), and appends each
  finished curve to a JSON file at once, so a killed run resumes where it
  stopped. The file is the evidence for the base's step count (chapter 00's
  calibration figure is to be drawn from it);
- `run_children`, the grid runner it uses (so do `benchmarks/base_recipes.py`
  and `benchmarks/weight_averaging.py`).

It is a calibration tool, run once per change of the base's recipe; `make
reproduce` does not run it. Introduced in chapter 00.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Sequence

from transformers import TrainerCallback

from .profiles import TinyConfig
from .record import machine, write_json

SPLITS = ("test", "hard")


class PassAtSteps(TrainerCallback):
    """Greedy pass@1 on `problems` (split -> list of `Problem`) at the optimiser
    steps in `at`; `rows` collects {"step", split: pass@1, ...}. With `samples`
    > 0, also pass@1 from that many samples per problem at `temperature`
    ({split}_sampled): the mean of each problem's share of correct samples,
    which a near-tie between two next tokens moves by a fraction, where it
    flips the greedy completion whole."""

    def __init__(self, problems: dict, at: Sequence[int], sandbox, max_new_tokens: int = 96, samples: int = 0,
                 temperature: float = 0.8):
        self.problems, self.at, self.sandbox, self.max_new_tokens = problems, set(at), sandbox, max_new_tokens
        self.samples, self.temperature = samples, temperature
        self.rows: list[dict] = []

    def on_step_end(self, args, state, control, model=None, train_dataloader=None, **kwargs):
        if state.global_step in self.at:
            # the tokenizer the training batches are padded with (the data collator's)
            tokenizer = train_dataloader.collate_fn.tokenizer
            self.rows.append({"step": state.global_step, **self.measure(model, tokenizer)})
        return control

    def measure(self, model, tokenizer) -> dict:
        import torch

        from .evaluate import evaluate_model

        # Sampling pads on the left and seeds torch; the training batches that follow must see neither.
        saved, side = torch.random.get_rng_state(), tokenizer.padding_side
        model.eval()
        try:
            with torch.no_grad():
                row = {split: evaluate_model(model, tokenizer, problems, self.sandbox, max_new_tokens=self.max_new_tokens)
                       .pass_at(1)["value"] for split, problems in self.problems.items()}
                if self.samples:
                    row.update({f"{split}_sampled": evaluate_model(model, tokenizer, problems, self.sandbox, n=self.samples,
                                                                   temperature=self.temperature, max_new_tokens=self.max_new_tokens)
                                .pass_at(1)["value"] for split, problems in self.problems.items()})
                return row
        finally:
            model.train()
            torch.random.set_rng_state(saved)
            tokenizer.padding_side = side


def curve(cfg: TinyConfig, at: Sequence[int], n_eval: int = 200, samples: int = 0, temperature: float = 0.8) -> dict:
    """Pretrain one base for `cfg` (in a temporary folder) and return its curve."""
    from .models import build_tiny_base
    from .problems import load_problems
    from .sandbox import Sandbox

    problems = {split: load_problems("synthetic", split, n=n_eval, seed=0) for split in SPLITS}
    with Sandbox(workers=1) as sandbox, tempfile.TemporaryDirectory() as folder:
        callback = PassAtSteps(problems, sorted(set(at) | {cfg.steps}), sandbox, samples=samples, temperature=temperature)
        started = time.perf_counter()
        build_tiny_base(cfg, Path(folder) / "base", progress=False, callbacks=[callback])
        seconds = time.perf_counter() - started
    return {"rows": callback.rows, "seconds": round(seconds, 1)}


def row_at(run: dict, step: int) -> dict:
    """A calibration run's row at `step` (its pass@1 by split), or a ValueError that names the run."""
    for row in run["rows"]:
        if row["step"] == step:
            return row
    raise ValueError(f"run seed={run.get('seed')} kernel={run.get('kernel')} was not evaluated at step {step}: "
                     "run `python -m o1lite calibrate` with an --every that reaches it")


def spread_at(record: dict, step: int, split: str = "test") -> dict:
    """Pass@1 on `split` (`test`, or `test_sampled` in a file run with samples) at
    `step` across the file's runs: {"min", "max", "spread", "runs"}."""
    values = [row[split] for run in record["runs"].values() for row in run["rows"] if row["step"] == step]
    if not values:
        raise ValueError(f"no run of this calibration file was evaluated at step {step}")
    return {"min": min(values), "max": max(values), "spread": round(max(values) - min(values), 6), "runs": len(values)}


def run_key(seed: int, kernel: str, threads: int) -> str:
    return f"seed={seed} kernel={kernel} threads={threads}"


def calibrate(out: Path, seeds: Sequence[int], kernels: Sequence[str], cfg: TinyConfig, every: int,
              n_eval: int = 200, parallel: int = 2, threads: int = 1, samples: int = 0, temperature: float = 0.8) -> dict:
    """Run every (seed, kernel) not yet in `out`, `parallel` at a time; return the file's content."""
    record = json.loads(out.read_text()) if out.exists() else {}
    recipe = {**asdict(replace(cfg, seed=0)), "n_eval": n_eval, "every": every}
    if samples:  # files measured greedy only keep the recipe they were written with
        recipe.update(samples=samples, temperature=temperature)
    if record and record.get("recipe") != recipe:
        raise SystemExit(f"{out} holds curves of another recipe: move it away or pass --out")
    record.setdefault("recipe", recipe)
    record.setdefault("runs", {})
    grid = {f"seed {s}, kernel {k}": (s, k) for s in seeds for k in kernels if run_key(s, k, threads) not in record["runs"]}
    jobs = [(label, ["-m", "o1lite.calibration", json.dumps(asdict(replace(cfg, seed=seed))), str(every), str(n_eval),
                     str(threads), str(samples), str(temperature)], kernel_env(kernel, threads))
            for label, (seed, kernel) in grid.items()]
    cpu = machine()["cpu"]  # the same for every run of the grid

    def done(label: str, result: dict) -> None:
        seed, kernel = grid[label]
        record["runs"][run_key(seed, kernel, threads)] = {"seed": seed, "kernel": kernel, "threads": threads,
                                                          "cpu": cpu, **result}
        write_json(out, record)
        final = result["rows"][-1]
        sampled = f" (sampled {final['test_sampled']:.3f}, {final['hard_sampled']:.3f})" if samples else ""
        print(f"done {label}: step {final['step']} test {final['test']:.3f} "
              f"hard {final['hard']:.3f}{sampled} ({result['seconds']:.0f} s)", flush=True)

    run_children(jobs, done, parallel=parallel)
    return record


def kernel_env(kernel: str, threads: int = 1) -> dict:
    """This process's environment for a child on CPU kernel path `kernel` ("native": torch's
    own choice; else an `ATEN_CPU_CAPABILITY` value) with `threads` torch threads."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    if kernel != "native":
        env["ATEN_CPU_CAPABILITY"] = kernel
    return env


def run_children(jobs: Sequence[tuple[str, list[str], dict]], done, parallel: int = 2, poll: float = 2.0,
                 cwd: str | Path | None = None) -> None:
    """Run each job `(label, arguments, environment)` as `python <arguments>` in a
    process of its own, `parallel` at a time, in order. A child prints its result
    as the last line of its output, one JSON object; `done(label, result)` is
    called as each child ends (write there, so a killed grid keeps what is done).
    A child that fails stops the grid with one line that names it."""
    todo, running = list(jobs), []
    try:
        while todo or running:
            while todo and len(running) < parallel:
                label, arguments, env = todo.pop(0)
                running.append((label, subprocess.Popen([sys.executable, *arguments], env=env, stdout=subprocess.PIPE,
                                                        text=True, cwd=cwd)))
                print(f"started {label}", flush=True)
            time.sleep(poll)
            for job in list(running):
                label, process = job
                if process.poll() is None:
                    continue
                running.remove(job)
                output = process.stdout.read()
                if process.returncode != 0:
                    raise SystemExit(f"{label} failed (exit {process.returncode}); the runs done so far are kept")
                done(label, json.loads(output.strip().splitlines()[-1]))
    finally:  # a failure, an error in `done` or Ctrl-C: no child left running behind the grid
        for _, process in running:
            process.kill()
            process.wait()


def main(argv: Sequence[str]) -> None:
    """Child process: one curve, printed as one JSON line."""
    config, every, n_eval, threads = json.loads(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    samples, temperature = (int(argv[4]), float(argv[5])) if len(argv) > 5 else (0, 0.8)
    import datasets
    import torch
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(threads)
    cfg = TinyConfig(**config)
    at = list(range(every, cfg.steps + 1, every))
    print(json.dumps({**curve(cfg, at, n_eval, samples, temperature), "kernel_path": torch.backends.cpu.get_cpu_capability()}))


if __name__ == "__main__":
    main(sys.argv[1:])
