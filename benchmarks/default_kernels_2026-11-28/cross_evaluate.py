"""Seed-0 TCG stages trained on one kernel path, evaluated on the current one (greedy, 100 test problems).

As run on 2026-11-28 (the paths are that session's: `runs/` from the committed run on the AVX2 kernels,
`/tmp/avx/runs` from the run on the portable ones), four times:

    python cross_evaluate.py native;  ATEN_CPU_CAPABILITY=default python cross_evaluate.py native
    python cross_evaluate.py default; ATEN_CPU_CAPABILITY=default python cross_evaluate.py default
"""
import os, sys, json
import torch
from o1lite.sandbox import Sandbox
from o1lite.stages import tcg
from o1lite.problems import load_problems
torch.set_num_threads(2)
weights = sys.argv[1]  # "native" or "default": where the weights were trained
os.environ["O1LITE_RUNS_DIR"] = "/work/main/runs" if weights == "native" else "/tmp/avx/runs"
folder = f"{os.environ['O1LITE_RUNS_DIR']}/tiny/02/tcg_553f04d15710"
problems = load_problems("synthetic", "test", n=100, seed=0)
out = {"weights": weights, "inference": os.environ.get("ATEN_CPU_CAPABILITY", "native")}
with Sandbox(workers=2) as sb:
    for stage in ("sft", "dpo"):
        model, tok = tcg.load_stage("tiny", folder, stage)
        ev = tcg.evaluate_tcg(model, tok, problems, sb, 3, max_new_tokens=112, seed=0)
        s = ev.summary()
        out[stage] = {k: round(s[k]["value"], 3) for k in ("pass_rate", "distinct_correct_rate", "distinct_rate")}
print(json.dumps(out))
