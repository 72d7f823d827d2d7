"""Qwen2.5-shaped checkpoints with random weights, saved to a folder.

The main path of this tutorial is a real Qwen2.5 model on one GPU, and the
hub cannot always be reached (a CI machine, an offline GPU box). A folder
written here loads through exactly the code a downloaded Qwen2.5-Instruct
checkpoint takes (`PROFILE="/that/folder"`): the `Qwen2ForCausalLM` class,
Qwen2.5's per-layer sizes (`QWEN25`), tied embeddings, a byte-level BPE
tokenizer trained with Qwen2's pre-tokenizer, the ChatML special tokens and
a ChatML chat template, `<|im_end|>` as end of turn and `<|endoftext|>` as
padding. Only the vocabulary (about a thousand tokens, trained on what the
chapters feed the model, unless `vocab_size` is given) and the number of
layers are smaller, so that a CPU runs every
chapter on it in the test suite; the weights are random, so its numbers
mean nothing. `benchmarks/gpu_check.py` builds full-size ones.

    python -m o1lite.checkpoints /tmp/qwen2.5-0.5b-instruct-shaped --layers 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

# Per-layer sizes of the released Qwen2.5 models (their config.json files): grouped-query
# attention with 2 key/value heads, and input and output embeddings tied.
QWEN25 = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_attention_heads=14, num_key_value_heads=2,
                 num_hidden_layers=24, tie_word_embeddings=True),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_attention_heads=12, num_key_value_heads=2,
                 num_hidden_layers=28, tie_word_embeddings=True),
}
QWEN25_VOCAB = 151936  # the released models' embedding rows
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"

# ChatML, as Qwen2.5-Instruct formats a conversation: a default system turn when none is given,
# each turn between <|im_start|>role and <|im_end|>, and an open assistant turn for generation.
CHATML_TEMPLATE = (
    "{%- if not messages or messages[0]['role'] != 'system' -%}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)


def chatml_tokenizer(texts: list[str], vocab_size: int = 1024):
    """The tiny base's byte-level BPE (`models.train_tokenizer`, Qwen2's pre-tokenizer) trained
    on `texts`, given Qwen2.5-Instruct's special tokens, end of turn, padding and chat template."""
    from .models import train_tokenizer

    tokenizer = train_tokenizer(texts, vocab_size)
    tokenizer.add_special_tokens({"additional_special_tokens": [IM_START, IM_END]})
    tokenizer.eos_token, tokenizer.pad_token = IM_END, ENDOFTEXT
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.model_max_length = 32768
    return tokenizer


def build_qwen25_shaped(folder: str | Path, size: str = "0.5b", layers: int | None = 2,
                        vocab_size: int | None = None, seed: int = 0, dtype=None) -> Path:
    """Write a random-init Qwen2.5-`size`-Instruct-shaped checkpoint to `folder`.

    `layers`: decoder layers (None: the released model's count); `vocab_size`:
    embedding rows (None: the trained tokenizer's size; `QWEN25_VOCAB` for
    the released models' full output layer, as the GPU check uses)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from .problems import load_problems
    from .stages.prompts import POLICY_FORMATS, policy_messages

    if size not in QWEN25:
        raise ValueError(f"unknown Qwen2.5 size {size!r}: choose one of {', '.join(QWEN25)}")
    folder = Path(folder)
    problems = load_problems("synthetic", "train", n=300, seed=seed)
    # what the chapters feed it: problems, their solutions, and the instruct profiles' few-shot messages
    texts = [p.prompt + "\n".join(p.pseudocode) + p.reference for p in problems]
    texts += [m["content"] for p in problems[:50] for fmt in POLICY_FORMATS for m in policy_messages(p, fmt)]
    tokenizer = chatml_tokenizer(texts)
    shape = dict(QWEN25[size])
    if layers is not None:
        shape["num_hidden_layers"] = layers
    config = Qwen2Config(vocab_size=max(vocab_size or 0, len(tokenizer)), max_position_embeddings=32768,
                         rope_theta=1_000_000.0, rms_norm_eps=1e-6, bos_token_id=None,
                         eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
                         pad_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT), **shape)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).to(dtype or torch.float32)
    # Instruct checkpoints stop at either end-of-turn or end-of-text (their generation_config.json).
    model.generation_config = GenerationConfig(
        eos_token_id=[tokenizer.convert_tokens_to_ids(IM_END), tokenizer.convert_tokens_to_ids(ENDOFTEXT)],
        pad_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT), bos_token_id=None)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m o1lite.checkpoints", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--size", choices=sorted(QWEN25), default="0.5b")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers; 0: the released model's count")
    parser.add_argument("--full-vocab", action="store_true", help=f"{QWEN25_VOCAB} embedding rows, as released")
    args = parser.parse_args(argv)
    out = build_qwen25_shaped(args.folder, args.size, args.layers or None, QWEN25_VOCAB if args.full_vocab else None)
    print(f"wrote a random-init Qwen2.5-{args.size}-Instruct-shaped checkpoint to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
