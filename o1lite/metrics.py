"""Estimators the chapters report: unbiased pass@k, ASPR, bootstrap 95% CIs.

Pure Python and numpy; no torch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct (Chen et al., 2021).

    pass@k = 1 - C(n-c, k) / C(n, k), computed as a stable product.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per problem, got {n}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of per-problem values.

    Deterministic for a given seed. An empty sequence gives (nan, nan).
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n_boot, data.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (round(float(low), 6), round(float(high), 6))


def estimate(values: Sequence[float], **bootstrap_options) -> dict:
    """Mean of per-problem values with its CI and n, as recorded in metrics JSON."""
    data = [float(v) for v in values]
    mean = round(float(np.mean(data)), 6) if data else float("nan")
    return {"value": mean, "ci95": list(bootstrap_ci(data, **bootstrap_options)), "n": len(data)}


def aspr(terminal_passes: Sequence[Sequence[bool]]) -> float:
    """Average Sampling Pass Rate: for each problem, the fraction of sampled
    terminal (code) steps that pass all reference tests; then the mean over
    problems. Problems with no terminal step count as 0."""
    rates = [float(np.mean(p)) if len(p) else 0.0 for p in terminal_passes]
    return float(np.mean(rates)) if rates else float("nan")
