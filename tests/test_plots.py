"""The error bars every chapter draws come from the estimates' own CIs."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from o1lite.plots import bar_with_ci, ci_errors, errorbar_with_ci  # noqa: E402


def test_error_bars_reach_each_estimates_ci_ends():
    estimates = [{"value": 0.5, "ci95": [0.4, 0.7]}, {"value": 0.2, "ci95": [0.2, 0.25]}]
    assert np.allclose(ci_errors(estimates), [[0.1, 0.0], [0.2, 0.05]])
    assert np.allclose(ci_errors(estimates, scale=100), [[10, 0], [20, 5]])
    fig, ax = plt.subplots()
    line, caps, (bars,) = errorbar_with_ci(ax, [1, 2], estimates, marker="o")
    assert list(line.get_ydata()) == [0.5, 0.2] and len(caps) == 2  # capped by default: a line of lower and one of upper caps
    ends = [sorted(segment[:, 1]) for segment in bars.get_segments()]
    assert np.allclose(ends, [[0.4, 0.7], [0.2, 0.25]])
    container = bar_with_ci(ax, ["a", "b"], estimates, scale=100)
    assert [round(b.get_height()) for b in container.patches] == [50, 20]
    plt.close(fig)
