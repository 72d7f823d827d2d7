"""What a reader sees around the numbers: the pipeline map at the top of every
chapter, with that chapter's stage highlighted, and checkpoints that put a
headline number of this run beside the recorded run's and the spread over
seeds, so a student can tell whether their run is right.

    teaching.pipeline_map("04")                  # the figure, shown inline
    before = teaching.recorded("03")             # read before this run writes its own
    teaching.checkpoint("pass_at_1_vanilla", metrics["pass_at_1_vanilla"], before)
"""

from __future__ import annotations

import json
from typing import Any

# The o1-Coder loop, in order, and the chapters that build each part.
PIPELINE = (
    ("policy", "policy\n(base, pseudocode)", ("00", "03")),
    ("tcg", "test-case\ngenerator", ("02",)),
    ("sandbox", "sandbox\nreward", ("01",)),
    ("mcts", "MCTS", ("04",)),
    ("values", "step\nvalues", ("04",)),
    ("prm", "process\nreward model", ("05",)),
    ("rl", "self-play\nRL", ("06",)),
    ("selection", "test-time\nselection", ("07",)),
)


def stages_of(chapter: str) -> list[str]:
    """The pipeline stages a chapter builds (chapter 08 reads them all)."""
    if chapter == "08":
        return [name for name, _, _ in PIPELINE]
    return [name for name, _, chapters in PIPELINE if chapter in chapters]


def pipeline_map(chapter: str):
    """The pipeline as boxes and arrows, this chapter's stages filled in; returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    here = set(stages_of(chapter))
    fig, ax = plt.subplots(figsize=(11, 1.7))
    width, gap = 1.0, 0.38
    for i, (name, label, chapters) in enumerate(PIPELINE):
        x = i * (width + gap)
        ax.add_patch(FancyBboxPatch((x, 0), width, 0.8, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor="#0173b2" if name in here else "white", edgecolor="#0173b2", linewidth=1.5))
        ax.text(x + width / 2, 0.4, label, ha="center", va="center", fontsize=8.5, color="white" if name in here else "black")
        ax.text(x + width / 2, -0.18, "ch " + ", ".join(chapters), ha="center", va="center", fontsize=7.5, color="0.35")
        if i:
            ax.add_patch(FancyArrowPatch((x - gap, 0.4), (x, 0.4), arrowstyle="-|>", mutation_scale=12, color="0.3"))
    # the loop closes: RL's policy feeds the next round of search
    loop_start = (6 * (width + gap) + width / 2, 0.8)
    loop_end = (3 * (width + gap) + width / 2, 0.8)
    ax.add_patch(FancyArrowPatch(loop_start, loop_end, connectionstyle="arc3,rad=0.35", arrowstyle="-|>",
                                 mutation_scale=12, color="0.5", linestyle="--"))
    ax.text((loop_start[0] + loop_end[0]) / 2, 1.28, "next round of self-play", ha="center", fontsize=7.5, color="0.4")
    ax.set_xlim(-0.1, len(PIPELINE) * (width + gap))
    ax.set_ylim(-0.35, 1.45)
    ax.axis("off")
    title = "the whole pipeline, read back" if chapter == "08" else f"chapter {chapter} builds the filled stage" + ("s" if len(here) > 1 else "")
    ax.set_title(title, fontsize=9, loc="left")
    return fig


def recorded(chapter: str) -> dict[str, Any]:
    """The chapter's metrics file as it is now (`figures/NN_metrics.json`: the
    committed run, until this run overwrites it), or {} when there is none."""
    from .profiles import figures_dir

    path = figures_dir() / f"{chapter}_metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _number(value) -> float | None:
    """A finite float, or None (a metrics file writes NaN, "not measured", as null)."""
    return None if value is None or value != value else float(value)


def _fmt(value, ci) -> str:
    if _number(value) is None:
        return "not measured"
    ci = ci if ci and all(_number(v) is not None for v in ci) else None
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def checkpoint(key: str, estimate: dict | float, before: dict[str, Any], profile: str | None = None) -> str:
    """One line: this run's `key` (an estimate dict or a number), the recorded
    run's value and CI, and the range over seeds of both; printed and returned.
    A recorded run of another profile (or a smoke run) is named, not compared."""
    mine = estimate if isinstance(estimate, dict) else {"value": float(estimate)}
    parts = [f"{key}: your run {_fmt(mine['value'], mine.get('ci95'))}"]
    seeds = [v for v in mine.get("per_seed") or [] if _number(v) is not None]
    if len(seeds) > 1:
        parts.append(f"your seeds {min(seeds):.3f} to {max(seeds):.3f}")
    if key not in before:
        parts.append("no recorded run to compare with")
    elif profile is not None and before.get("profile") != profile:
        parts.append(f"the recorded run is profile {before.get('profile')!r}: not comparable")
    else:
        parts.append(f"recorded run {_fmt(before[key], before.get(key + '_ci95'))}")
        recorded_seeds = [v for v in before.get(key + "_per_seed") or [] if _number(v) is not None]
        if len(recorded_seeds) > 1:
            parts.append(f"its seeds {min(recorded_seeds):.3f} to {max(recorded_seeds):.3f}")
        ci = before.get(key + "_ci95")
        if ci and _number(mine["value"]) is not None and all(_number(v) is not None for v in ci):
            parts.append("inside its 95% CI" if ci[0] <= mine["value"] <= ci[1] else
                         "OUTSIDE its 95% CI: check your parameters, seeds and versions against figures/manifest.json")
    line = " · ".join(parts)
    print(line)
    return line


def quiet(verbose: bool = False) -> None:
    """Library logs, progress bars and the Trainer's printed log dicts off, unless
    `verbose` (a chapter's `VERBOSE` parameter): a chapter prints one line per
    stage of its own instead. The training curves are still in each log file."""
    if verbose:
        return
    import datasets
    import transformers
    import transformers.trainer as trainer_module
    from transformers import TrainerCallback

    class QuietPrinter(TrainerCallback):
        """Stands in for transformers' PrinterCallback, which prints every log dict."""

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    trainer_module.PrinterCallback = QuietPrinter  # what a Trainer with disable_tqdm adds (transformers/trainer.py)


def show_recorded(path, verbose: bool = False) -> None:
    """After a chapter writes its metrics file: one line naming it, or (verbose) every number in it."""
    from pathlib import Path

    record = json.loads(Path(path).read_text())
    if verbose:
        print(json.dumps(record, indent=1))
    else:
        print(f"recorded {len(record)} entries in {path} (set VERBOSE = True to print them all)")


def solution(chapter: str, number: int, namespace: dict[str, Any]):
    """Exercise `number`'s answer as `solutions/<chapter>.py` computes it from the
    notebook's variables (`namespace`: the notebook's `globals()`). A chapter
    run with `SOLUTIONS = True` (the smoke test's) fills every answer this way
    and checks it."""
    import importlib.util

    from .profiles import project_root

    path = project_root() / "solutions" / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"o1lite_solutions_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f"exercise_{number}")(namespace)
