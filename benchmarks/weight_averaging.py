"""Does averaging the base's last weights narrow its spread over seeds and CPU kernel paths?

The tiny base's greedy `test` pass@1 at its stop (step 750 of a 1000-step
cosine schedule) spreads 0.08 across 3 seeds x 3 kernel paths
(`figures/00_calibration_300.json`), and pass@1 from samples spreads
nearly as much (`figures/00_calibration_sampled.json`): the runs differ as
models. One standard way to take noise out of a run's final weights is to
average its last iterates (stochastic weight averaging; latest-weight
averaging). This script measures that on the base's own recipe, without
touching the package (no chapter goes stale):

- each run pretrains the base exactly as `o1lite.models.build_tiny_base`
  does, with a callback that keeps the uniform mean of the weights at every
  `--every`-th step from `--start` to the last step (the callback only reads
  the weights: the final iterate is the plain base, a test of the
  calibration callback checks the same property);
- it evaluates greedy pass@1 on all 300 `test` and `hard` problems for the
  final iterate and for the average;
- runs go two at a time, one thread each, in child processes, one per
  (seed, kernel path) (`ATEN_CPU_CAPABILITY`); each finished run is appended
  to `benchmarks/weight_averaging.json` at once, so a killed grid resumes.

    python benchmarks/weight_averaging.py --seeds 0 1 2 --kernels native default avx2

About 4-5 minutes a run on one core of a 2-core AMD EPYC VM with AVX-512.

Measured 2026-12-05 on that VM (`benchmarks/weight_averaging.json`, the
defaults: the mean of the 21 iterates at steps 650, 655, ..., 750): the
final iterates reproduce the calibration's nine runs (`test` 0.62-0.70,
spread 0.08), and **averaging widens the spread, to 0.11** on `test` (0.57 to
0.68): most averages sit within 0.04 of their final iterate, but seed 0 on
AVX-512, the run whose sampled pass@1 shows it still moving at step 750
(`figures/00_calibration_sampled.json`), falls from 0.68 to 0.57. A first try
averaging from step 500 (every 10 steps; two runs, not kept) took the same
run to 0.28 (and the `default` one to 0.67): iterates on either side of a
change in what the model has learned do not average into a model. So weight
averaging is not the remedy for the base's spread here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "weight_averaging.json"


def child(seed: int, start: int, every: int, n_eval: int) -> dict:
    import datasets
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

    from o1lite.evaluate import evaluate_model
    from o1lite.models import build_tiny_base
    from o1lite.problems import load_problems
    from o1lite.profiles import TinyConfig
    from o1lite.sandbox import Sandbox

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)

    class Average(TrainerCallback):
        def __init__(self):
            self.sum, self.count = None, 0

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step >= start and (state.global_step - start) % every == 0:
                with torch.no_grad():
                    weights = {k: v.detach().double().clone() for k, v in model.state_dict().items()}
                if self.sum is None:
                    self.sum = weights
                else:
                    for k, v in weights.items():
                        self.sum[k] += v
                self.count += 1
            return control

    cfg = TinyConfig(seed=seed)
    average = Average()
    problems = {split: load_problems("synthetic", split, n=n_eval, seed=0) for split in ("test", "hard")}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, Sandbox(workers=1) as sandbox:
        base = build_tiny_base(cfg, Path(folder) / "base", progress=False, callbacks=[average])
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = AutoModelForCausalLM.from_pretrained(base).eval()
        result = {"final": {}, "average": {}, "averaged_iterates": average.count}
        for split, items in problems.items():
            result["final"][split] = evaluate_model(model, tokenizer, items, sandbox).pass_at(1)["value"]
        state = model.state_dict()
        model.load_state_dict({k: (average.sum[k] / average.count).to(state[k].dtype) for k in state})
        for split, items in problems.items():
            result["average"][split] = evaluate_model(model, tokenizer, items, sandbox).pass_at(1)["value"]
    result.update(seconds=round(time.perf_counter() - started, 1), kernel_path=torch.backends.cpu.get_cpu_capability())
    return result


def spreads(record: dict) -> dict:
    runs = record["runs"].values()
    return {f"{how}_{split}": round(max(r[how][split] for r in runs) - min(r[how][split] for r in runs), 6)
            for how in ("final", "average") for split in ("test", "hard")} if record["runs"] else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--kernels", nargs="+", default=["native", "default", "avx2"])
    parser.add_argument("--start", type=int, default=650, help="first step averaged")
    parser.add_argument("--every", type=int, default=5, help="average every this many steps")
    parser.add_argument("--n-eval", type=int, default=300)
    parser.add_argument("--child", nargs=4, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    record = json.loads(OUT.read_text()) if OUT.exists() else {}
    settings = {"start": args.start, "every": args.every, "n_eval": args.n_eval}
    if record and record.get("settings") != settings:
        raise SystemExit(f"{OUT} holds runs of other settings: move it away")
    record.setdefault("settings", settings)
    record.setdefault("runs", {})
    from o1lite.calibration import kernel_env, run_children

    grid = {f"seed={s} kernel={k}": (s, k) for s in args.seeds for k in args.kernels}
    grid = {label: run for label, run in grid.items() if label not in record["runs"]}
    jobs = [(key, [__file__, "--child", str(s), str(args.start), str(args.every), str(args.n_eval)], kernel_env(k))
            for key, (s, k) in grid.items()]

    def done(key: str, result: dict) -> None:
        seed, kernel = grid[key]
        record["runs"][key] = {"seed": seed, "kernel": kernel, **result}
        record["spreads"] = spreads(record)
        OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"seed {seed} {kernel}: final {result['final']} · average {result['average']} ({result['seconds']:.0f} s)", flush=True)

    run_children(jobs, done, cwd=ROOT)
    print("spreads:", spreads(record))


if __name__ == "__main__":
    main()
