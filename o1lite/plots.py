"""One figure style, a deterministic `savefig` that stamps the profile, and
the drawings more than one chapter uses (bars with CIs, a search tree).

Compute and plot are kept apart: chapters record numbers first, then draw
them, so a figure can be re-rendered from its metrics JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import matplotlib

if "ipykernel" not in sys.modules:  # scripts and tests draw off-screen; a notebook keeps its inline figures
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


def ci_errors(estimates: Sequence[dict], scale: float = 1.0) -> list[list[float]]:
    """Matplotlib's `yerr` for `estimates` (each `{"value", "ci95"}`): the lengths below and above each value."""
    return [[scale * (e["value"] - e["ci95"][0]) for e in estimates], [scale * (e["ci95"][1] - e["value"]) for e in estimates]]


def bar_with_ci(ax, names: Sequence[str], estimates: Sequence[dict], scale: float = 1.0, colors=None, **options):
    """Bars of `estimates` (each `{"value", "ci95"}`, from `o1lite.metrics.estimate`)
    with their 95% CIs as error bars; `scale=100` draws percentages."""
    return ax.bar(names, [scale * e["value"] for e in estimates], yerr=ci_errors(estimates, scale), capsize=4,
                  color=colors or PALETTE[: len(names)], **options)


def errorbar_with_ci(ax, xs: Sequence[float], estimates: Sequence[dict], **options):
    """`ax.errorbar` of `estimates` at `xs`, their 95% CIs as error bars (capped unless `capsize` is given)."""
    return ax.errorbar(xs, [e["value"] for e in estimates], yerr=ci_errors(estimates), **{"capsize": 3, **options})


def tree_layout(record: dict) -> dict[int, tuple[float, float]]:
    """(x, y) per node of a search record (`o1lite.stages.mcts`): leaves side by
    side in depth-first order, a parent centred over its children, y = -depth."""
    nodes = record["nodes"]
    children: dict[int, list[int]] = {n["id"]: [] for n in nodes}
    for n in nodes:
        if n["parent"] is not None:
            children[n["parent"]].append(n["id"])
    place: dict[int, tuple[float, float]] = {}
    next_x = [0.0]

    def visit(i: int) -> float:
        if not children[i]:
            x = next_x[0]
            next_x[0] += 1.0
        else:
            xs = [visit(j) for j in children[i]]
            x = (min(xs) + max(xs)) / 2
        place[i] = (x, -nodes[i]["depth"])
        return x

    visit(0)
    return place


def draw_tree(record: dict, ax=None, bold: Sequence[int] = (), cmap: str = "viridis"):
    """Draw one search tree (a record of `o1lite.stages.mcts`): nodes coloured by
    value, sized by visits (hollow when never visited); terminals as squares,
    edged green when the program passes all reference tests and red when not
    (a cross for a dead end); the edges into the nodes `bold` names (the path
    the search returns: `mcts.solution_path`) in bold. Returns a mappable for
    a colour bar."""
    from matplotlib import colors

    ax = ax or plt.gca()
    nodes, place = record["nodes"], tree_layout(record)
    norm, colormap = colors.Normalize(0, 1), plt.get_cmap(cmap)
    chosen = set(bold)
    for n in nodes[1:]:
        (x0, y0), (x1, y1) = place[n["parent"]], place[n["id"]]
        bold = n["id"] in chosen
        ax.plot([x0, x1], [y0, y1], color="0.2" if bold else "0.75", lw=2.2 if bold else 0.8, zorder=1)
    for n in nodes:
        x, y = place[n["id"]]
        size = 40 + 25 * n["visits"]
        face = colormap(norm(n["value"])) if n["visits"] else "white"
        if n["terminal"] and n["dead_end"]:
            ax.scatter([x], [y], marker="X", s=size, color="0.5", zorder=3)
        elif n["terminal"]:
            edge = "tab:green" if n["passed_reference"] else "tab:red"
            ax.scatter([x], [y], marker="s", s=size, facecolor=face, edgecolor=edge, linewidths=2.2, zorder=3)
        else:
            ax.scatter([x], [y], marker="o", s=size, facecolor=face, edgecolor="0.3", linewidths=0.8, zorder=3)
    ax.set_yticks(sorted({-n["depth"] for n in nodes}), [str(n) for n in sorted({n["depth"] for n in nodes}, reverse=True)])
    ax.set_xticks([])
    ax.set_ylabel("depth (steps)")
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return plt.cm.ScalarMappable(norm=norm, cmap=colormap)


use_style()


def calibration_curves(ax, record: dict, split: str = "test", stop: int | None = None, title: str = ""):
    """Pass@1 on `split` by pretraining step, one line per (seed, kernel path) run of a
    calibration file (`o1lite.calibration`); seeds by colour, kernel paths by line style;
    a vertical line at `stop`, the step count the base uses."""
    seeds = sorted({run["seed"] for run in record["runs"].values()})
    styles = {"native": "-", "default": "--"}
    for run in sorted(record["runs"].values(), key=lambda r: (r["seed"], r["kernel"])):
        rows = run["rows"]
        ax.plot([r["step"] for r in rows], [r[split] for r in rows], styles.get(run["kernel"], ":"), marker="o", ms=3,
                color=PALETTE[seeds.index(run["seed"]) % len(PALETTE)], label=f"seed {run['seed']}, {run['kernel']} kernels")
    if stop:
        ax.axvline(stop, color="0.3", lw=1, ls=":")
    ax.set(xlabel="pretraining step", ylabel=f"greedy pass@1 ({split})", ylim=(0, 1), title=title)
    ax.legend(fontsize=7, loc="upper left" if split == "hard" else "lower right")  # hard stays low: its curves fill the lower right


def spread_at_stop(ax, record: dict, stop: int, split: str = "test", title: str = "", wider: dict | None = None):
    """Each run of a calibration file measured with samples (`--samples`), at step
    `stop`: greedy pass@1 on `split` beside pass@1 from samples, one line per run
    (seeds by colour, kernel paths by marker); each column's spread in its label.
    `wider`, a greedy calibration file of the same grid on more problems, adds a
    third column: the same runs' greedy pass@1 there. A run in one file only has
    points in that file's columns alone, and counts in their spreads alone."""
    from .calibration import row_at

    runs = {**(wider or {"runs": {}})["runs"], **record["runs"]}
    seeds = sorted({run["seed"] for run in runs.values()})
    markers = {"native": "o", "default": "s", "avx2": "^"}
    columns = {"greedy": [], "sampled": []} | ({"wider": []} if wider else {})
    for key, run in sorted(runs.items(), key=lambda item: (item[1]["seed"], item[1]["kernel"])):
        xs, values = [], []
        if key in record["runs"]:
            row = row_at(run, stop)
            xs, values = [0, 1], [row[split], row[f"{split}_sampled"]]
            columns["greedy"].append(values[0])
            columns["sampled"].append(values[1])
        if wider and key in wider["runs"]:
            xs.append(2)
            values.append(row_at(wider["runs"][key], stop)[split])
            columns["wider"].append(values[-1])
        ax.plot(xs, values, color=PALETTE[seeds.index(run["seed"]) % len(PALETTE)],
                marker=markers.get(run["kernel"], "D"), ms=5, lw=0.8, label=f"seed {run['seed']}, {run.get('kernel_path', run['kernel'])}")
    spread = {name: max(v) - min(v) if v else float("nan") for name, v in columns.items()}
    n = record["recipe"]["n_eval"]
    labels = [f"greedy\n{n} problems\nspread {spread['greedy']:.2f}",
              f"{record['recipe']['samples']} samples\n{n} problems\nspread {spread['sampled']:.2f}"]
    if wider:
        labels.append(f"greedy\n{wider['recipe']['n_eval']} problems\nspread {spread['wider']:.2f}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set(xlim=(-0.4, len(labels) - 0.6), ylabel=f"pass@1 ({split})", title=title)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1)  # beside the axes: inside, it covered points
