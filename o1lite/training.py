"""LoRA fine-tuning with TRL, set up once for every chapter.

`sft_lora` trains a peft LoRA adapter on a prompt/completion dataset with
TRL's `SFTTrainer` (loss on the completion only) and `dpo_lora` trains one
with `DPOTrainer` on prompt/chosen/rejected pairs. Both switch off what TRL
turns on by default but a CPU cannot use well (bf16, gradient checkpointing),
save the adapter with peft, and return where it is, with the loss curve and
the seconds it took. `sft_lora` splits each step's batch into micro-batches
of similar length (transformers' `BatchRebalanceSampler` with gradient
accumulation): the same examples and the same loss per step, less padding.
Chapters 02 (test-case generator), 03 (policies) and 04 (policy
initialisation) call these.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from .models import lora_config


@functools.cache
def _sft_trainer():
    """TRL's `SFTTrainer`, with the length-balancing sampler seeded by the training's `data_seed`
    (transformers builds it with a fixed seed, so every training seed would draw the same order)."""
    from transformers.trainer_pt_utils import BatchRebalanceSampler
    from trl import SFTTrainer

    class SeededSFTTrainer(SFTTrainer):
        def _get_train_sampler(self, train_dataset=None):
            sampler = super()._get_train_sampler(train_dataset)
            if isinstance(sampler, BatchRebalanceSampler):
                sampler.seed = self.args.data_seed
            return sampler

    return SeededSFTTrainer


def _train(trainer_class, config_class, model, tokenizer, dataset, out_dir, *, steps, batch_size,
           learning_rate, rank, max_length, seed, peft_config, extra_log, **options: Any) -> dict:
    """Run one TRL trainer with CPU-friendly settings; save the adapter and its log."""
    from .generation import check_same_base

    check_same_base(model, tokenizer)  # another base's tokenizer trains on ids the model reads as other tokens
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    on_gpu = torch.cuda.is_available()
    settings = dict(
        output_dir=str(out_dir / "checkpoints"),
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        logging_steps=max(1, steps // 30),
        max_length=max_length,
        seed=seed,
        data_seed=seed,
        bf16=on_gpu,  # TRL's default; slower than fp32 on CPUs without bf16 units
        gradient_checkpointing=False,  # TRL's default saves memory we do not need, at a cost in time
        use_cpu=not on_gpu,
        report_to=[],
        save_strategy="no",
        dataloader_num_workers=0,
        disable_tqdm=True,
        lr_scheduler_type="cosine",
        warmup_steps=10,
    )
    settings.update(options)
    from transformers import set_seed

    set_seed(seed)  # peft draws the LoRA matrices from torch's global generator when the trainer wraps the model
    trainer = trainer_class(
        model=model,
        args=config_class(**settings),
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config or lora_config(rank),
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    trainer.model.save_pretrained(out_dir)
    history = [{"step": r["step"], "loss": r["loss"]} for r in trainer.state.log_history if "loss" in r]
    log = {"seconds": round(seconds, 2), "loss_history": history, "steps": steps, **extra_log}
    (out_dir / "train_log.json").write_text(json.dumps(log, indent=2) + "\n")
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    return log


def sft_lora(
    model,
    tokenizer,
    dataset,
    out_dir: str | Path,
    steps: int = 300,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    rank: int = 16,
    max_length: int | None = None,
    seed: int = 0,
    peft_config: Any = None,
    micro_batches: int = 2,
    **overrides: Any,
) -> dict:
    """LoRA SFT on a `datasets.Dataset` with `prompt` and `completion` columns.

    Returns the training log (loss curve, seconds); the adapter is saved in
    `out_dir` (load it with `o1lite.models.load_adapter`). `peft_config`
    replaces the default `lora_config(rank)` (chapter 02 adds trainable
    token embeddings for the tiny model this way). `max_length=None` (the
    default) trains on every example whole; a number cuts longer examples
    there, end first, losing the end of the solution (a chat-formatted
    pseudocode example on a Qwen2.5 tokenizer can pass 512 tokens).

    Each step draws `batch_size` examples at random and, with `micro_batches`
    2 (the default), runs them as two micro-batches: the longest examples in
    one, the rest in the other, each padded only to its own longest example
    (`train_sampling_strategy="batch_rebalance"`), their gradients summed and
    the loss averaged over all the step's completion tokens, as in one batch.
    The examples of a step are the ones one batch would take (the sampler
    draws the permutation accelerate's seedable sampler draws from the same
    seed), so only the order of floating-point sums changes. On the tiny
    model, in one process, this trains chapter 03's pseudocode policies
    1.3-1.5x faster with 2 threads (1.54x and 1.29x in two measurements) and
    1.31x with 1 (vanilla: 0.99-1.04x and 1.25x; `benchmarks/length_balanced_sft.py`). `micro_batches=1`, an odd
    `batch_size` or a caller's own `gradient_accumulation_steps` keep one
    batch per step, padded to its longest example.
    """
    from trl import SFTConfig

    if micro_batches > 1 and batch_size % micro_batches == 0 and "gradient_accumulation_steps" not in overrides:
        overrides = {"train_sampling_strategy": "batch_rebalance", "gradient_accumulation_steps": micro_batches,
                     **overrides}
        batch_size //= micro_batches
    return _train(
        _sft_trainer(), SFTConfig, model, tokenizer, dataset, out_dir, steps=steps, batch_size=batch_size,
        learning_rate=learning_rate, rank=rank, max_length=max_length, seed=seed, peft_config=peft_config,
        extra_log={"examples": len(dataset)}, completion_only_loss=True, packing=False, **overrides,
    )


def dpo_lora(
    model,
    tokenizer,
    dataset,
    out_dir: str | Path,
    steps: int = 200,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    beta: float = 0.1,
    rank: int = 16,
    max_length: int | None = None,
    seed: int = 0,
    peft_config: Any = None,
    **overrides: Any,
) -> dict:
    """LoRA DPO on a `datasets.Dataset` with `prompt`, `chosen`, `rejected` columns.

    `model` is the starting policy (for example an SFT model with its adapter
    merged); the frozen reference is the same weights with the adapter off.
    `max_length` as in `sft_lora` (None: no pair is cut).
    """
    from trl import DPOConfig, DPOTrainer

    return _train(
        DPOTrainer, DPOConfig, model, tokenizer, dataset, out_dir, steps=steps, batch_size=batch_size,
        learning_rate=learning_rate, rank=rank, max_length=max_length, seed=seed, peft_config=peft_config,
        extra_log={"pairs": len(dataset)}, beta=beta, **overrides,
    )
