"""Models: build and pretrain the tiny base, load any profile, LoRA configs, merge adapters.

The tiny base is built in three steps, each done with the library that does it
well:

1. a byte-level BPE tokenizer trained with `tokenizers` using exactly Qwen2's
   pre-tokenization pipeline (NFC, Qwen's split regex, byte-level), then
   wrapped as a `Qwen2Tokenizer`, so that `AutoTokenizer` reloads it with
   identical ids;
2. a `Qwen2ForCausalLM` built from a small `Qwen2Config` (about 1–2M
   parameters);
3. pretraining as a code language model (the statement as a docstring, then
   the solution) on the synthetic train split with `transformers.Trainer`.

It is saved with `save_pretrained` and loaded back through
`AutoModelForCausalLM` / `AutoTokenizer`, exactly as a hub checkpoint is, and
cached under `runs/tiny/base/<hash of its config>/` so chapters reuse it.
Introduced in chapter 00.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM, TrainerCallback
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX, Qwen2Tokenizer

from .problems import load_problems
from .profiles import Profile, TinyConfig, get_profile, hub_reachable, offline_mode, runs_dir

log = logging.getLogger(__name__)

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def pretraining_texts(problems) -> list[str]:
    """A code-LM document per problem: signature, docstring statement, solution."""
    return [problem.reference.rstrip() + "\n" + EOS for problem in problems]


# ---------------------------------------------------------------- tokenizer
def train_tokenizer(texts: list[str], vocab_size: int) -> Qwen2Tokenizer:
    """Train byte-level BPE with Qwen2's own pre-tokenization; return a Qwen2Tokenizer."""
    backend = Tokenizer(models.BPE())
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    bpe = json.loads(backend.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in bpe["merges"]]
    tokenizer = Qwen2Tokenizer(vocab=bpe["vocab"], merges=merges, eos_token=EOS, pad_token=PAD)
    tokenizer.model_max_length = 512
    return tokenizer


# ---------------------------------------------------------------- tiny base
def tiny_model_config(cfg: TinyConfig, tokenizer) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_positions,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def tiny_base_dir(cfg: TinyConfig = TinyConfig()) -> Path:
    return runs_dir() / "tiny" / "base" / cfg.key()


def tiny_base_built(cfg: TinyConfig = TinyConfig()) -> bool:
    """Whether the base for `cfg` is built: its `pretrain_log.json`, written last, is there."""
    return (tiny_base_dir(cfg) / "pretrain_log.json").exists()


class _StopAt(TrainerCallback):
    """Stop training after `steps` optimiser steps, wherever the schedule is."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.steps:
            control.should_training_stop = True
        return control


def build_tiny_base(cfg: TinyConfig = TinyConfig(), out_dir: str | Path | None = None, progress: bool = True,
                    callbacks: Sequence = ()) -> Path:
    """Train tokenizer and model from scratch and save both; return the folder.

    Also writes `pretrain_log.json` (loss curve, seconds, parameter count).
    `callbacks` go to the `Trainer` (the calibration curve of chapter 00
    evaluates the model at chosen steps this way).
    """
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, set_seed

    out = Path(out_dir) if out_dir else tiny_base_dir(cfg)
    set_seed(cfg.seed)
    problems = load_problems("synthetic", "train", n=cfg.n_train_problems, seed=cfg.seed)
    texts = pretraining_texts(problems)
    tokenizer = train_tokenizer(texts, cfg.vocab_size)
    model = Qwen2ForCausalLM(tiny_model_config(cfg, tokenizer))

    dataset = Dataset.from_dict({"text": texts}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=cfg.max_positions),
        batched=True,
        remove_columns=["text"],
    )
    work = out.parent / (out.name + ".training")
    args = TrainingArguments(
        output_dir=str(work),
        max_steps=max(cfg.steps, cfg.schedule_steps or 0),  # the schedule's length; training stops at cfg.steps
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_grad_norm=1.0,
        logging_steps=max(1, cfg.steps // 60),
        save_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        bf16=cfg.bf16,
        gradient_checkpointing=False,
        dataloader_num_workers=0,
        seed=cfg.seed,
        data_seed=cfg.seed,
        disable_tqdm=not progress,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
        callbacks=[*callbacks, _StopAt(cfg.steps)],
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start

    model = trainer.model.float()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    history = [
        {"step": row["step"], "loss": row["loss"]} for row in trainer.state.log_history if "loss" in row
    ]
    log = {
        "config": asdict(cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "pretrain_seconds": round(seconds, 2),
        "train_tokens": int(sum(len(ids) for ids in dataset["input_ids"])),
        "loss_history": history,
        "torch_threads": torch.get_num_threads(),
    }
    (out / "pretrain_log.json").write_text(json.dumps(log, indent=2) + "\n")
    _remove_tree(work)
    return out


def ensure_tiny_base(cfg: TinyConfig = TinyConfig(), rebuild: bool = False, progress: bool = True) -> Path:
    """The cached tiny base for `cfg`, built first if missing (or if `rebuild`)."""
    out = tiny_base_dir(cfg)
    if rebuild or not tiny_base_built(cfg):
        if out.exists():
            _remove_tree(out)
        build_tiny_base(cfg, out, progress=progress)
    return out


def _build_job(cfg: TinyConfig) -> Path:
    return ensure_tiny_base(cfg, progress=False)


def ensure_tiny_bases(cfgs: Sequence[TinyConfig]) -> list[Path]:
    """`ensure_tiny_base` for several configs (one per seed, `Profile.for_seed`): the missing ones are
    built side by side in `o1lite.pool`'s processes on a CPU (one alone, in this process). Either way
    gives the same weights: seed 1's base built in a 1-thread process and with 2 threads came out
    identical bit for bit (the AVX-512 VM, 2026-12-06)."""
    from .pool import run_jobs

    missing = [cfg for cfg in dict.fromkeys(cfgs) if not tiny_base_built(cfg)]
    if len(missing) == 1:
        ensure_tiny_base(missing[0], progress=False)
    elif missing:
        run_jobs(_build_job, [(cfg,) for cfg in missing])
    return [tiny_base_dir(cfg) for cfg in cfgs]


def pretrain_log(path: str | Path) -> dict:
    return json.loads((Path(path) / "pretrain_log.json").read_text())


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- loading
class ModelUnavailable(RuntimeError):
    pass


def resolve_model_path(profile: str | Profile) -> str:
    """The folder or hub id `from_pretrained` should read for a profile (building the tiny base if missing)."""
    profile = get_profile(profile)
    if profile.is_tiny:
        return str(ensure_tiny_base(profile.tiny))
    return profile.model_id


def load_model(
    profile: str | Profile = "tiny",
    device: str | None = None,
    dtype: torch.dtype | None = None,
):
    """Load (model, tokenizer) for a profile through the Auto classes.

    Hub profiles without network end in a one-line `ModelUnavailable` that
    says how to point the profile at a local copy.
    """
    profile = get_profile(profile)
    source = resolve_model_path(profile)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # fp32 on CPU (bf16 generation is slower there); bf16 on a GPU
    dtype = dtype or (torch.bfloat16 if device.startswith("cuda") else torch.float32)
    # Without network, read only the local cache: a quick one-line error instead of minutes of retries.
    local_only = not Path(source).is_dir() and (offline_mode() or not hub_reachable())
    try:
        loaded = None
        if not profile.is_tiny and device.startswith("cuda"):  # fast kernels on a CUDA GPU only, never on CPU
            loaded = _load_with_unsloth(source, dtype, local_only)
        if loaded is None:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_only)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, local_files_only=local_only)
        else:
            model, tokenizer = loaded
    except OSError as error:
        if profile.is_tiny or Path(source).is_dir():
            raise
        raise ModelUnavailable(
            f"profile {profile.name!r} needs {source} from the Hugging Face hub, which cannot be reached "
            f"({type(error).__name__}): download it where there is network (huggingface-cli download {source} "
            f"--local-dir DIR) and pass PROFILE=DIR"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _plain_decoding(model)
    return model.to(device).eval(), tokenizer


def _plain_decoding(model) -> None:
    """Reset a checkpoint's repetition penalty (Qwen2.5-Instruct's generation_config.json
    has one). `generate` applies it even to greedy decoding, and o1lite's own decoder
    (`o1lite.generation.sample`) does not; every sampler here passes its temperature,
    top-p and top-k itself, so with the penalty reset both decode alike."""
    config = getattr(model, "generation_config", None)
    if config is not None and getattr(config, "repetition_penalty", None) not in (None, 1.0):
        config.repetition_penalty = 1.0


def lora_config(rank: int = 16, alpha: int | None = None, dropout: float = 0.0):
    """A peft LoRA config on every linear layer (TRL trainers take it as `peft_config=`)."""
    from peft import LoraConfig

    return LoraConfig(
        r=rank, lora_alpha=alpha or 2 * rank, lora_dropout=dropout, target_modules="all-linear", task_type="CAUSAL_LM"
    )


def load_adapter(base_profile: str | Profile, adapter_dirs: str | Path | Sequence[str | Path]):
    """(model, tokenizer): the profile's base with saved peft adapters merged
    into it, in order (SFT then DPO, say), for fast generation."""
    model, tokenizer = load_model(base_profile)
    return merge_adapters(model, adapter_dirs), tokenizer


def merge_adapters(model, adapter_dirs: str | Path | Sequence[str | Path]):
    """Merge saved peft adapters into `model`, one after the other; return it in eval mode."""
    from peft import PeftModel

    for folder in [adapter_dirs] if isinstance(adapter_dirs, (str, Path)) else adapter_dirs:
        model = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    return model.eval()


def unsloth_available() -> bool:
    """True only when a CUDA GPU is present and unsloth imports (never on CPU)."""
    return torch.cuda.is_available() and _import_unsloth() is not None


def _import_unsloth():
    """unsloth's `FastLanguageModel`, or None when unsloth is absent or fails to import."""
    try:
        from unsloth import FastLanguageModel
    except Exception:
        return None
    return FastLanguageModel


def _load_with_unsloth(source: str, dtype: torch.dtype, local_only: bool):
    """(model, tokenizer) through unsloth, or None after one logged line saying why
    transformers + peft load it instead (unsloth absent, or failing on this checkpoint)."""
    fast = _import_unsloth() if torch.cuda.is_available() else None
    if fast is None:
        log.warning("unsloth is not available (pip install -e \".[gpu]\" adds it): loading %s through transformers + peft", source)
        return None
    try:
        return fast.from_pretrained(source, dtype=dtype, load_in_4bit=False, local_files_only=local_only)
    except Exception as error:  # unsloth patches many models and versions: any failure means "use the plain path"
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        log.warning("unsloth failed to load %s (%s: %s): loading it through transformers + peft instead",
                    source, type(error).__name__, reason)
        return None


def configure_threads() -> int:
    """Use every core for torch on CPU (respecting OMP_NUM_THREADS)."""
    from .record import torch_threads

    threads = torch_threads()
    torch.set_num_threads(threads)
    return threads
