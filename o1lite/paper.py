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

# Competitive Programming with Large Reasoning Models (OpenAI, 2025, arXiv 2502.06807), §3.2–3.4:
# o1-ioi at IOI 2024, 10,000 samples per subtask, 50 submissions; points out of 600.
IOI_2024 = {"random_50": 156.0, "selected_50": 213.0, "all_10000": 362.14}
IOI_SOURCE = "Competitive Programming with Large Reasoning Models §3.2–3.4 (o1-ioi at IOI 2024)"
CODEFORCES_RATING = {"o1-ioi": 1807, "o1-ioi, public-test filter": 2092, "o1-ioi, full strategy": 2214, "o3": 2724}

# AlphaCode (Li et al., 2022, arXiv 2203.07814) §4.5–4.6: 10@k solve rate (%) on the validation set,
# after filtering on the examples, without and with clustering.
ALPHACODE_10_AT = {"1k": (16.9, 21.0), "100k": (28.2, 31.8), "1M": (31.8, 34.2)}
ALPHACODE_SOURCE = "AlphaCode §4.5–4.6 (CodeContests validation, 10@k)"

# CodeT (Chen et al., 2022, arXiv 2207.10397): HumanEval pass@1 (%), code-davinci-002, without and with dual agreement.
CODET_HUMANEVAL = (47.0, 65.8)
CODET_SOURCE = "CodeT, main results (HumanEval pass@1, code-davinci-002)"
