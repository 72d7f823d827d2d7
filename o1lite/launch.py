"""The training steps as scripts, for several processes under `torchrun` or `accelerate launch`.

    torchrun --nproc_per_node 2 -m o1lite.launch grpo --out runs/launch/grpo --steps 4
    torchrun --nproc_per_node 2 -m o1lite.launch sft --data pairs.jsonl --out runs/launch/sft
    accelerate launch --num_processes 2 -m o1lite.launch dpo --data prefs.jsonl --out runs/launch/dpo

Nothing here is distributed by hand: each process runs the same stage
function (`o1lite.training.sft_lora` / `dpo_lora`, the policies' SFT of
chapters 02-04; `o1lite.stages.rl.grpo_lora`, chapter 06's update), and the
Trainer inside it sees the launcher's environment and runs DDP (gloo on a
CPU, NCCL on GPUs). The batch size is per process, so two processes see
twice the examples per update. `grpo` trains the policy (chapter 03's
`--adapter`, or the bare base) on synthetic train problems with the outcome
reward on their reference tests; `sft` and `dpo` read a JSONL file of
prompt/completion or prompt/chosen/rejected rows. Every process writes
`rank_<r>.json` in `--out` with a fingerprint of its LoRA weights: after a
correct DDP run every rank holds the same adapter.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m o1lite.launch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("grpo", "sft", "dpo"))
    parser.add_argument("--out", required=True, help="where the adapter and each rank's rank_<r>.json go")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--smoke", action="store_true", help="micro sizes (the test suite)")
    parser.add_argument("--adapter", default=None, help="a saved adapter to merge into the base first (chapter 03's policy)")
    parser.add_argument("--data", default=None, help="sft / dpo: a JSONL file of rows")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8, help="per process")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--problems", type=int, default=16, help="grpo: synthetic train problems")
    parser.add_argument("--num-generations", type=int, default=4, help="grpo: completions per prompt")
    parser.add_argument("--max-completion-length", type=int, default=128, help="grpo")
    parser.add_argument("--entropy-coef", type=float, default=0.0,
                        help="grpo: an entropy bonus (TRL's entropy_coef); non-zero, it moves the adapter even when every reward is equal")
    parser.add_argument("--vllm", action="store_true",
                        help="grpo on GPUs: generate with vLLM in the training processes (TRL's use_vllm, vllm_mode='colocate'; needs the gpu extra)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the run's seed; on the tiny profile also its base's (chapter 03's adapter of seed s is on base s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from transformers import set_seed

    from . import models
    from .profiles import get_profile
    from .stages import rl

    rank = int(os.environ.get("RANK", "0"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.step in ("sft", "dpo") and not args.data:
        print(f"error: {args.step} needs --data, a JSONL file of rows", flush=True)
        return 2
    profile = get_profile(args.profile, smoke=args.smoke).for_seed(args.seed)
    set_seed(args.seed)
    model, tokenizer = models.load_adapter(profile, args.adapter) if args.adapter else models.load_model(profile)
    if args.step == "grpo":
        from .problems import load_problems
        from .sandbox import Sandbox
        from .stages.policies import LanguagePolicy

        config = rl.RLConfig(reward="outcome", steps=args.steps, batch_size=args.batch_size,
                             num_generations=args.num_generations, learning_rate=args.learning_rate,
                             max_completion_length=args.max_completion_length, rank=profile.lora_rank, seed=args.seed)
        problems = load_problems("synthetic", "train", n=args.problems, seed=args.seed)
        policy = LanguagePolicy(model, tokenizer, "pseudocode", chat=profile.chat)
        with Sandbox(workers=1) as sandbox:
            reward = policy.reward_function(sandbox)
            extra = {"entropy_coef": args.entropy_coef} if args.entropy_coef else {}
            if args.vllm:
                extra.update(use_vllm=True, vllm_mode="colocate")
            log = rl.grpo_lora(model, tokenizer, policy.prompt_dataset(problems), [reward], config, out, **extra)
        fingerprint, world = log["fingerprint"], log["world_size"]
    else:
        from datasets import Dataset

        from . import training

        rows = [json.loads(line) for line in Path(args.data).read_text().splitlines() if line.strip()]
        train = training.sft_lora if args.step == "sft" else training.dpo_lora
        import torch

        options = {"ddp_backend": "gloo"} if not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1 else {}
        train(model, tokenizer, Dataset.from_list(rows), out / f"rank_{rank}", steps=args.steps, batch_size=args.batch_size,
              learning_rate=args.learning_rate, rank=profile.lora_rank, seed=args.seed, **options)
        fingerprint, world = rl.lora_fingerprint(model), int(os.environ.get("WORLD_SIZE", "1"))
    moved = any(float(p.detach().abs().sum()) > 0 for name, p in model.named_parameters() if "lora_B" in name)
    (out / f"rank_{rank}.json").write_text(json.dumps({"rank": rank, "world_size": world, "fingerprint": fingerprint,
                                                       "adapter_moved": moved}) + "\n")
    print(f"rank {rank} of {world}: {args.step} done, LoRA fingerprint {fingerprint}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
