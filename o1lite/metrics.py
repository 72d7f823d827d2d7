"""Estimators the chapters report: unbiased pass@k, sampling pass rate (ASPR), bootstrap 95% CIs.

Pure Python and numpy (imported only by the functions that need it, so the
sandbox's command line can use `pass_at_k` without it); no torch.
Introduced in chapter 00.
"""

from __future__ import annotations

from typing import Sequence


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
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def bootstrap_ci(
    values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of per-problem values.

    Deterministic for a given seed. An empty sequence gives (nan, nan).
    """
    import numpy as np

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
    import numpy as np

    data = [float(v) for v in values]
    mean = round(float(np.mean(data)), 6) if data else float("nan")
    return {"value": mean, "ci95": list(bootstrap_ci(data, **bootstrap_options)), "n": len(data)}


def sampling_pass_rate(passes: Sequence[bool]) -> float:
    """One problem's share of sampled programs that pass all reference tests
    (0 when nothing was sampled). ASPR, the Average Sampling Pass Rate of
    o1-Coder's Table 1, is its mean over problems: `estimate([sampling_pass_rate(p) for p in problems])`
    gives it with a CI."""
    return sum(map(bool, passes)) / len(passes) if len(passes) else 0.0
