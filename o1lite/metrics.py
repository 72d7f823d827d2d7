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


# ---------------------------------------------------------------- over seeds
# A chapter repeats a comparison under several seeds (`SEEDS`), on the same
# problems each time. Its numbers are then a matrix, scores[seed][problem],
# and both sources of noise belong in the CI: the two-level bootstrap
# resamples seeds, then problems. On the tiny profile each seed also has its
# own base (`Profile.for_seed`), so the seeds carry the base's spread too.
# Two methods scored on the same problems under the same seeds are *paired*:
# their difference is bootstrapped as one matrix, which is far tighter than
# comparing two separate CIs.


def _matrix(scores) -> "np.ndarray":
    import numpy as np

    data = np.asarray([[float(v) for v in row] for row in scores], dtype=float)
    if data.ndim != 2 or 0 in data.shape:
        raise ValueError("need scores[seed][problem]: at least one seed and one problem, the same problems for every seed")
    return data


def _seeded(data, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    n_seeds, n_problems = data.shape
    problem_draws = rng.integers(0, n_problems, size=(n_boot, n_problems))
    per_seed = data[:, problem_draws].mean(axis=2)  # seed x draw
    seed_draws = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    means = per_seed[seed_draws, np.arange(n_boot)[:, None]].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return {"value": round(float(data.mean()), 6), "ci95": [round(float(low), 6), round(float(high), 6)],
            "n": n_problems, "seeds": n_seeds, "per_seed": [round(float(v), 6) for v in data.mean(axis=1)]}


def seeded_estimate(scores: Sequence[Sequence[float]], **bootstrap_options) -> dict:
    """Mean of scores[seed][problem] with a CI that resamples seeds and problems;
    also the number of problems (n), of seeds, and each seed's mean (per_seed)."""
    return _seeded(_matrix(scores), **bootstrap_options)


def paired_difference(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], **bootstrap_options) -> dict:
    """Mean of a - b where a[seed][problem] and b[seed][problem] score two methods
    on the same problems under the same seeds, with the two-level bootstrap CI."""
    left, right = _matrix(a), _matrix(b)
    if left.shape != right.shape:
        raise ValueError(f"paired scores need the same seeds and problems: {left.shape} vs {right.shape}")
    return _seeded(left - right, **bootstrap_options)


def direction(difference: dict) -> int:
    """+1 or -1 when the 95% CI of a difference excludes 0, else 0 ("no difference we can detect")."""
    low, high = difference["ci95"]
    return 1 if low > 0 else -1 if high < 0 else 0


def describe(difference: dict, higher: str = "higher", lower: str = "lower") -> str:
    """The words a chapter may use for a difference: a direction only where its CI excludes 0."""
    word = {1: higher, -1: lower, 0: "no difference we can detect"}[direction(difference)]
    low, high = difference["ci95"]
    return f"{difference['value']:+.3f} [{low:+.3f}, {high:+.3f}]: {word}"


# ---------------------------------------------------------------- statistics that pool items
# Some numbers are not a mean of per-problem scores: the AUROC of a step
# classifier ranks every step against every other. `seeded_statistic` gives
# them the same two-level bootstrap: items are grouped by seed, then by
# problem; a draw resamples seeds, then problems within each seed, pools the
# drawn problems' items and applies the statistic; the draws' mean over
# seeds gives the CI. A problem with no items simply contributes none.


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a
    random negative (ties count half); NaN when either class is missing."""
    import numpy as np

    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties (1-based), so a tie counts half
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def seeded_statistic(groups: Sequence[Sequence[Sequence]], statistic, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95) -> dict:
    """`statistic(items)` of items grouped as groups[seed][problem] (a list of
    items per problem), with a CI that resamples seeds, then problems.

    The value is the mean over seeds of the statistic on each seed's pooled
    items; `per_seed` lists those, `n` counts the problems that hold items
    (the most of any seed). Draws where the statistic is undefined (NaN:
    say, one class missing) are left out of the CI."""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = [[list(items) for items in seed_groups if len(items)] for seed_groups in groups]
    if not groups or not all(groups):
        raise ValueError("need groups[seed][problem] with items for at least one problem under every seed")
    pool = lambda seed_groups, picks: [item for p in picks for item in seed_groups[p]]
    per_seed = [statistic(pool(g, range(len(g)))) for g in groups]
    draws = np.empty((n_boot, len(groups)))
    for b in range(n_boot):
        for s, g in enumerate(groups):
            draws[b, s] = statistic(pool(g, rng.integers(0, len(g), size=len(g))))
    seed_draws = rng.integers(0, len(groups), size=(n_boot, len(groups)))
    means = draws[np.arange(n_boot)[:, None], seed_draws].mean(axis=1)
    means = means[~np.isnan(means)]
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha]) if len(means) else (float("nan"), float("nan"))
    return {"value": round(float(np.mean(per_seed)), 6), "ci95": [round(float(low), 6), round(float(high), 6)],
            "n": max(len(g) for g in groups), "seeds": len(groups), "per_seed": [round(float(v), 6) for v in per_seed]}


def paired_auroc_difference(first: Sequence[Sequence[Sequence]], second: Sequence[Sequence[Sequence]], **options) -> dict:
    """AUROC of `first`'s scores minus `second`'s on the same items: both are groups[seed][problem]
    of (score, label, ...) items, the same items in the same order (two scorers of one held-out set),
    so the difference is paired; its CI resamples seeds, then problems (`seeded_statistic`)."""
    joined = []
    for seed_a, seed_b in zip(first, second, strict=True):
        rows = []
        for items_a, items_b in zip(seed_a, seed_b, strict=True):
            if [a[1] for a in items_a] != [b[1] for b in items_b]:
                raise ValueError("the two scorers' items differ in their labels: pair the same held-out items, in order")
            rows.append([(a[0], b[0], a[1]) for a, b in zip(items_a, items_b)])
        joined.append(rows)
    labels = lambda items: [y for _, _, y in items]
    gap = lambda items: auroc([a for a, _, _ in items], labels(items)) - auroc([b for _, b, _ in items], labels(items))
    return seeded_statistic(joined, gap, **options)
