"""One figure style, and a deterministic `savefig` that stamps the profile.

Compute and plot are kept apart: chapters record numbers first, then draw
them, so a figure can be re-rendered from its metrics JSON.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from .profiles import figures_dir, get_profile  # noqa: E402

PALETTE = sns.color_palette("colorblind")


def use_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "svg.hashsalt": "o1lite"})


def savefig(fig: plt.Figure, name: str, profile: str = "tiny") -> Path:
    """Save figures/<name>.png with the profile stamped in a corner.

    PNG metadata that changes between runs (software version, dates) is
    dropped, so identical plots give identical files.
    """
    label = get_profile(profile).name
    fig.text(0.995, 0.005, f"o1lite · profile {label}", ha="right", va="bottom", fontsize=7, color="0.4")
    path = figures_dir() / (name if name.endswith(".png") else f"{name}.png")
    fig.savefig(path, bbox_inches="tight", metadata={"Software": None})
    return path


use_style()
