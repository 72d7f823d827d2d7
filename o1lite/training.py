"""LoRA fine-tuning with TRL, set up once for every chapter.

`sft_lora` trains a peft LoRA adapter on a prompt/completion dataset with
TRL's `SFTTrainer` (loss on the completion only) and `dpo_lora` trains one
with `DPOTrainer` on prompt/chosen/rejected pairs. Both switch off what TRL
turns on by default but a CPU cannot use well (bf16, gradient checkpointing),
save the adapter with peft, and return where it is, with the loss curve and
the seconds it took. Chapters 02 (test-case generator), 03 (policies) and 04
(policy initialisation) call these.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from .models import lora_config


def _cpu_friendly(**overrides: Any) -> dict:
    on_gpu = torch.cuda.is_available()
    options = dict(
        bf16=on_gpu,
        gradient_checkpointing=False,
        use_cpu=not on_gpu,
        report_to=[],
        save_strategy="no",
        dataloader_num_workers=0,
        disable_tqdm=True,
        lr_scheduler_type="cosine",
        warmup_steps=10,
    )
    options.update(overrides)
    return options


def _finish(trainer, out_dir: Path, started: float, extra: dict | None = None) -> dict:
    seconds = time.perf_counter() - started
    trainer.model.save_pretrained(out_dir)
    history = [{"step": r["step"], "loss": r["loss"]} for r in trainer.state.log_history if "loss" in r]
    log = {"seconds": round(seconds, 2), "loss_history": history, **(extra or {})}
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
    max_length: int = 512,
    seed: int = 0,
    **overrides: Any,
) -> dict:
    """LoRA SFT on a `datasets.Dataset` with `prompt` and `completion` columns.

    Returns the training log (loss curve, seconds); the adapter is saved in
    `out_dir` (load it with `o1lite.models.load_adapter`).
    """
    from trl import SFTConfig, SFTTrainer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = SFTConfig(
        **_cpu_friendly(
            output_dir=str(out_dir / "checkpoints"),
            max_steps=steps,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            logging_steps=max(1, steps // 30),
            max_length=max_length,
            completion_only_loss=True,
            packing=False,
            seed=seed,
            data_seed=seed,
            **overrides,
        )
    )
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=lora_config(rank)
    )
    started = time.perf_counter()
    trainer.train()
    return _finish(trainer, out_dir, started, {"examples": len(dataset), "steps": steps})


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
    max_length: int = 512,
    seed: int = 0,
    **overrides: Any,
) -> dict:
    """LoRA DPO on a `datasets.Dataset` with `prompt`, `chosen`, `rejected` columns.

    `model` is the starting policy (for example an SFT model with its adapter
    merged); the frozen reference is the same weights with the adapter off.
    """
    from trl import DPOConfig, DPOTrainer

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = DPOConfig(
        **_cpu_friendly(
            output_dir=str(out_dir / "checkpoints"),
            max_steps=steps,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            logging_steps=max(1, steps // 30),
            max_length=max_length,
            beta=beta,
            seed=seed,
            data_seed=seed,
            **overrides,
        )
    )
    trainer = DPOTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer, peft_config=lora_config(rank)
    )
    started = time.perf_counter()
    trainer.train()
    return _finish(trainer, out_dir, started, {"pairs": len(dataset), "steps": steps})
