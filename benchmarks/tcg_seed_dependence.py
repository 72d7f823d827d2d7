"""Does a test-case generator built under one cache key always come out the same?

`o1lite.stages.tcg.build_tcg` names its folder by the TCG's config (seed
included), and every chapter that finds the folder reuses it. This script
builds the TCG of one config three times, each in a fresh process with its
own empty runs folder, after setting torch's global generator to a given
state first (as whatever ran earlier in a notebook would leave it), and
prints a digest of the SFT and DPO adapters' weights:

    python benchmarks/tcg_seed_dependence.py            # the smoke profile: about 20 s on 2 cores
    python benchmarks/tcg_seed_dependence.py --full     # the tiny profile's own TCG: several minutes

Measured on the 2-core AMD EPYC VM with AVX-512 (smoke profile, 20 s), 2026-12-05:
- at 7e884d5 the two builds after the same generator state gave identical
  adapters and the build after another state other adapters, under the same
  config and cache folder name: peft draws the LoRA matrices from the global
  generator when the trainer wraps the model, before the trainer seeds
  anything (`benchmarks/tiny_throughput.py`), and nothing seeded it first;
- since `training.sft_lora` / `dpo_lora` call `set_seed` with the training's
  seed before the trainer is built, all three builds give the same adapters
  (digests `6b964522cb7d` SFT, `e5465c6a197a` DPO). So a TCG is the same
  model whichever chapter or process builds it, and chapter 02 can build its
  seeds side by side (`o1lite.pool`). `tests/test_pool.py` asserts the same
  for one SFT run.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(generator_state: int, smoke: bool) -> dict[str, str]:
    """Build the TCG of seed 0 in this process after `torch.manual_seed(generator_state)`; digests per stage."""
    import torch
    from safetensors.torch import load_file

    from o1lite import models
    from o1lite.profiles import get_profile
    from o1lite.stages import tcg

    profile = get_profile("tiny", smoke=smoke)
    models.ensure_tiny_base(profile.tiny, progress=False)
    config = tcg.tcg_config(profile, 0)
    torch.manual_seed(generator_state)
    folder = tcg.build_tcg(profile, config, progress=lambda *_: None)
    digests = {}
    for stage in ("sft", "dpo"):
        weights = load_file(folder / stage / "adapter_model.safetensors")
        digests[stage] = hashlib.sha256(b"".join(weights[k].numpy().tobytes() for k in sorted(weights))).hexdigest()[:12]
    return digests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the tiny profile's own TCG instead of the smoke profile's")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(build(args.worker, smoke=not args.full))
        return 0
    results = []
    for state in (1, 1, 2):  # the same state twice, then another
        with tempfile.TemporaryDirectory() as runs:
            env = {**os.environ, "O1LITE_RUNS_DIR": runs}
            command = [sys.executable, __file__, "--worker", str(state)] + (["--full"] if args.full else [])
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"a build failed: {done.stderr.strip().splitlines()[-1]}")
            results.append(done.stdout.strip().splitlines()[-1])
            print(f"generator state {state}: {results[-1]}")
    print("same state, same adapters:", "yes" if results[0] == results[1] else "NO",
          "· another state, same adapters:", "yes" if results[2] == results[0] else "NO (the build depends on what ran before it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
