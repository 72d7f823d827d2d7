"""Which operation makes torch's CPU kernel paths train different tiny bases?

`ATEN_CPU_CAPABILITY=avx2` on a CPU with AVX-512 pretrains another seed-0 base
than the native path (chapter 00's calibration; RESULTS.md, "Other CPU kernel
paths"). This script finds where the two first part, on one batch.

For each setting below, a fresh process builds the tiny base's model at its
random initialisation (seed 0, the base's tokenizer trained on 400 train
problems), runs one forward and backward pass on 32 training texts, and saves
every module's output and every parameter's gradient. Each setting is then
compared with the native one: the first module whose output differs (in
forward order), the largest difference there, and how many of the gradients
differ, and whether the random initial weights already differ. Settings:

- `ATEN_CPU_CAPABILITY=avx2` and `=default`: torch's own vectorised kernels
  forced to another width;
- `MKL_ENABLE_INSTRUCTIONS=AVX2 DNNL_MAX_CPU_ISA=AVX2`: the matrix libraries
  (MKL, oneDNN) held to AVX2, torch's kernels native;
- all three held to AVX2;
- an AVX2 CPU emulated by QEMU (`qemu-x86_64 -cpu EPYC-Rome`, an AMD Zen 2
  without AVX-512, on which torch takes its AVX2 kernels), compared with the
  native path and with `ATEN_CPU_CAPABILITY=avx2`; only where `qemu-x86_64`
  is installed (Debian: `apt-get install qemu-user`), else skipped with a line;
- each of these with the attention written out (`eager`: matmul, softmax,
  matmul) instead of PyTorch's fused `sdpa`, the tiny model's default.

With `--steps N`, each setting also pretrains the base recipe for N
optimiser steps (`models.build_tiny_base`, the `Trainer` as chapter 00 runs
it) and the final weights are compared the same way. Under QEMU a step takes
about 18 s instead of 0.15 s, so keep N small.

    python benchmarks/kernel_path_ops.py             # about 2 minutes on 2 cores, 4 with QEMU
    python benchmarks/kernel_path_ops.py --steps 20  # about 7 minutes more with QEMU

It changes nothing and no chapter reads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = {
    "native": {},
    "ATEN avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "ATEN default": {"ATEN_CPU_CAPABILITY": "default"},
    "MKL+oneDNN AVX2": {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2"},
    "all AVX2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2"},
}
EMULATED = "AVX2 CPU (QEMU)"
QEMU = ["qemu-x86_64", "-cpu", "EPYC-Rome"]
BATCH = 32


def dump(out: str, attention: str) -> None:
    """One forward and backward pass of the tiny base at its initialisation; save outputs and gradients."""
    import torch
    from transformers import Qwen2ForCausalLM, set_seed

    from o1lite import models
    from o1lite.problems import load_problems
    from o1lite.profiles import TinyConfig

    cfg = TinyConfig()
    texts = models.pretraining_texts(load_problems("synthetic", "train", n=400, seed=0))
    tokenizer = models.train_tokenizer(texts, cfg.vocab_size)
    config = models.tiny_model_config(cfg, tokenizer)
    config._attn_implementation = attention
    set_seed(0)
    model = Qwen2ForCausalLM(config)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    batch = tokenizer(texts[:BATCH], padding=True, truncation=True, max_length=cfg.max_positions, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    outputs = {}

    def keep(name):
        def hook(module, inputs, output):
            tensor = output[0] if isinstance(output, tuple) else output
            if torch.is_tensor(tensor):
                outputs[name] = tensor.detach().clone()
        return hook

    for name, module in model.named_modules():
        module.register_forward_hook(keep(name or "model"))
    loss = model(**batch, labels=labels).loss
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    torch.save({"weights": weights, "outputs": outputs, "grads": grads, "loss": loss.item(),
                "capability": torch.backends.cpu.get_cpu_capability()}, out)


def pretrain(out: str, steps: int) -> None:
    """The base recipe stopped after `steps` optimiser steps; save its final weights."""
    from dataclasses import replace

    import torch
    from safetensors.torch import load_file

    from o1lite import models
    from o1lite.profiles import TinyConfig

    folder = models.build_tiny_base(replace(TinyConfig(), steps=steps), Path(out).with_suffix(""), progress=False)
    torch.save({"weights": load_file(folder / "model.safetensors"),
                "capability": torch.backends.cpu.get_cpu_capability()}, out)


def same_weights(base: dict, other: dict) -> str:
    import torch

    differ = [n for n in base["weights"] if not torch.equal(base["weights"][n], other["weights"][n])]
    if not differ:
        return "weights identical"
    largest = max((base["weights"][n] - other["weights"][n]).abs().max().item() for n in differ)
    return f"{len(differ)} of {len(base['weights'])} weight tensors differ (max {largest:.1e})"


def compare(base: dict, other: dict) -> str:
    import torch

    first = next(((name, (base["outputs"][name] - other["outputs"][name]).abs().max().item())
                  for name in base["outputs"] if not torch.equal(base["outputs"][name], other["outputs"][name])), None)
    grads = sum(not torch.equal(base["grads"][n], other["grads"][n]) for n in base["grads"])
    weights = sum(not torch.equal(base["weights"][n], other["weights"][n]) for n in base["weights"])
    init = "initial weights identical" if not weights else f"{weights} of {len(base['weights'])} initial weights differ"
    where = "every output identical" if first is None else f"first differs at {first[0]} (max {first[1]:.1e})"
    return f"{init}; {where}; {grads} of {len(base['grads'])} gradients differ"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--dump":
        dump(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--pretrain":
        pretrain(sys.argv[2], int(sys.argv[3]))
        return
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0, help="also pretrain this many steps in each setting and compare the weights")
    args = parser.parse_args()
    import shutil

    import torch

    settings = dict(SETTINGS)
    if shutil.which(QEMU[0]):
        settings[EMULATED] = {}
    else:
        print(f"{QEMU[0]} not found: the emulated AVX2 CPU is skipped (Debian: apt-get install qemu-user)")
    print(f"torch {torch.__version__}, native capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{torch.get_num_threads()} threads; one batch of {BATCH} texts at the tiny base's initialisation")
    with tempfile.TemporaryDirectory() as scratch:
        for attention in ("sdpa", "eager"):
            saved = _run(settings, ["--dump", "{path}", attention], Path(scratch) / attention)
            print(f"\nattention: {attention}")
            _report(saved, compare, lambda record: f"loss {record['loss']:.9f} vs {saved['native']['loss']:.9f}; ")
        if args.steps:
            trained = _run(settings, ["--pretrain", "{path}", str(args.steps)], Path(scratch) / "pretrained")
            print(f"\nthe base recipe pretrained {args.steps} steps (sdpa)")
            _report(trained, same_weights, lambda record: "")


def _run(settings: dict, arguments: list[str], folder: Path) -> dict:
    """Run this script with `arguments` once per setting, each in a fresh process (under QEMU for the
    emulated CPU), `{path}` standing for the file it saves; return what each saved, by setting."""
    import torch

    folder.mkdir()
    saved = {}
    for index, (name, env) in enumerate(settings.items()):
        path = str(folder / f"{index}.pt")
        prefix = QEMU if name == EMULATED else []
        subprocess.run([*prefix, sys.executable, __file__, *(a.format(path=path) for a in arguments)], env=_env(env),
                       check=True, capture_output=True)
        saved[name] = torch.load(path)
    return saved


def _report(saved: dict, compared, lead) -> None:
    """One line per setting against the native one (`lead` starts it), and the emulated CPU against
    `ATEN avx2` when it ran."""
    for name, record in saved.items():
        if name != "native":
            print(f"  {name:18} ({record['capability']}): {lead(record)}{compared(saved['native'], record)}")
    if EMULATED in saved:
        print(f"  {EMULATED} against ATEN avx2: {compared(saved['ATEN avx2'], saved[EMULATED])}")


def _env(extra: dict) -> dict:
    """This process's environment without the kernel-path variables, plus `extra`."""
    names = {"ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "DNNL_MAX_CPU_ISA"}
    return {**{k: v for k, v in os.environ.items() if k not in names}, **extra}


if __name__ == "__main__":
    main()
