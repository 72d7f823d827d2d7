"""Would `torch.compile` make the tiny base's pretraining faster on a CPU?

Chapter 00 pretrains three bases (seed 0's in the notebook's process, seeds
1 and 2's side by side), about 300 s of the 720 s goal for chapters 00-04.
The model is small (hidden 128, 4 layers, batches of 32 rows of up to 512
tokens), so a step might be bound by per-operation overhead, which
compiling (TorchInductor, through the `Trainer`'s `torch_compile=True`)
could fuse away.

This script pretrains the base recipe (`TinyConfig()`, stopped early at
`--steps`) three times, one after another in this process:

- **eager**: as chapter 00 does;
- **compiled, cold**: `torch_compile=True`, paying for the first compile
  (dynamo traces each new batch shape; after a few, it compiles for dynamic
  shapes);
- **compiled, warm**: the same again, with the compiled kernels cached.

It prints each training's seconds (`Trainer.train()` only) and its ratio to
eager, and the last logged loss of each (compiled code computes in another
order, so the losses may differ in the last digits; a compiled base would be
another model, and every number downstream would move).

    python benchmarks/compile_base.py              # about 3 minutes on 2 cores
    python benchmarks/compile_base.py --steps 300

It changes nothing and no chapter reads it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def pretrain(steps: int, compiled: bool, out: Path) -> tuple[float, float]:
    """Seconds of `Trainer.train()` and the last logged loss of one base pretrained `steps` steps."""
    import transformers

    from o1lite import models
    from o1lite.profiles import TinyConfig

    plain = transformers.TrainingArguments

    class Arguments(plain):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "torch_compile": compiled})

    transformers.TrainingArguments = Arguments  # build_tiny_base imports it from transformers when it runs
    try:
        folder = models.build_tiny_base(replace(TinyConfig(), steps=steps), out, progress=False)
    finally:
        transformers.TrainingArguments = plain
    log = json.loads((folder / "pretrain_log.json").read_text())
    return log["pretrain_seconds"], log["loss_history"][-1]["loss"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="optimiser steps per training (the base trains 750)")
    args = parser.parse_args()

    from o1lite import teaching

    teaching.quiet()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, compiled in (("eager", False), ("compiled, cold", True), ("compiled, warm", True)):
            started = time.perf_counter()
            seconds, loss = pretrain(args.steps, compiled, Path(scratch) / name.replace(", ", "_"))
            rows.append((name, seconds, loss, time.perf_counter() - started))
    eager = rows[0][1]
    print(f"tiny base, {args.steps} steps of the base recipe, one after another in one process")
    print(f"{'':16}{'train s':>9}{'vs eager':>10}{'last loss':>11}{'with build s':>14}")
    for name, seconds, loss, total in rows:
        print(f"{name:16}{seconds:9.1f}{seconds / eager:9.2f}x{loss:11.4f}{total:14.1f}")


if __name__ == "__main__":
    main()
