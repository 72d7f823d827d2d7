"""The papers' own numbers, in one place, each with where it comes from.

Chapters print and plot our measurements beside these; nothing here is
measured by o1lite. o1-Coder: Zhang et al., 2024, arXiv 2412.00154.
"""

from __future__ import annotations

# o1-Coder, section on the Test Case Generator: pass rate of generated cases
# against the reference, 314 held-out TACO problems, deepseek-coder-1.3b-instruct
# with QLoRA.
TCG_PASS_RATE = {"sft": 0.808, "dpo": 0.892}
TCG_SOURCE = "o1-Coder §TCG (TACO, deepseek-coder-1.3b-instruct, QLoRA)"

# o1-Coder, Table 1 (MBPP, MCTS sampling), in percent.
TABLE1_COLUMNS = ("Pass@1 vanilla", "Pass@1 pseudocode", "ASPR vanilla", "ASPR pseudocode")
TABLE1 = {
    "Qwen2.5-1.5B": (55.8, 46.7, 49.9, 54.5),
    "Qwen2.5-3B": (56.3, 51.3, 52.0, 70.6),
    "Qwen2.5-7B": (59.8, 50.1, 66.4, 78.1),
    "Qwen2.5-Coder-7B": (57.7, 58.2, 49.3, 74.9),
}
TABLE1_SOURCE = "o1-Coder Table 1 (MBPP, MCTS sampling)"
