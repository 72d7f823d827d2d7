"""Is chapter 05's PRM short of data, or of right labels? Its step AUROC by the number of training trees.

Chapter 05 trains its process reward models on the MCTS trees of 120 `train`
problems per seed. Trained on the tree's own labels (generated tests) they
rank held-out steps near chance, because those labels match the reference
tests' about as often as a coin; its diagnostic PRM, trained on the same
trees relabelled by the reference tests, reaches a step AUROC of about 0.63,
still short of the goal of 0.75. This script asks whether that gap is data:
for each seed it searches one larger draw of `train` problems exactly as the
chapter does (chapter 03's pseudocode policy, chapter 02's TCG rewarding the
search, 8 simulations, k = 3, c = 2), trains the point-wise PRM with
reference labels (or, `--labels reward`, with the trees' own) on the trees of the first 60, 120, ... problems (nested
sets; optimiser steps in proportion, the chapter's 150 per 120 problems, so
each size sees its data as often), and scores the chapter's own held-out
trees (40 `test` problems, labelled by the reference tests).

    python benchmarks/prm_data.py                       # seeds 0 1 2, sizes 60 120 240: about 12 minutes on 2 cores
    python benchmarks/prm_data.py --sizes 480           # one more draw, of 480 problems: about 15 minutes
    python benchmarks/prm_data.py --sizes 960           # and one of 960: about 31 minutes
    python benchmarks/prm_data.py --labels reward --sizes 60 120 240 480   # the self-play labels (the trees' own values) on the 480 draw's trees: about 14 minutes
    python benchmarks/prm_data.py --kind pairwise --sizes 480   # the pair-wise PRM (Bradley-Terry on sibling steps) on the 480 draw's trees
    python benchmarks/prm_data.py --hidden 256 --sizes 240   # a wider backbone on the 240 draw's trees (pretrains a base of hidden size 256 once)
    python benchmarks/prm_data.py --smoke --sizes 2 4 --out /tmp/prm_data_smoke.json   # does it run? (micro sizes)

Each (seed, size) is appended to `benchmarks/prm_data.json` as it finishes,
so a killed run resumes; trees and PRMs are cached under `runs/tiny/` as the
chapters cache theirs. The summary covers every size the file holds for
the labels (a size from another draw is scored on the same held-out steps,
so the difference between the largest and the smallest is paired), and,
for every size where both label sources were trained on the same trees,
the paired difference reference − reward. Chapter 05 reads the summary
(`figures/05_prm_data.png`, its `prm_data_*` metrics); nothing else reads it.

Measured 2026-12-05 on a 2-core AMD EPYC VM with AVX-512 (the commands
above; a search of 240 problems took 77-82 s a seed, of 480 148-167 s, of
960 329 s; training 18-20 s at 60 problems, 127-160 s at 480, 261-266 s at
960; the wider backbone: its base pretrained in 342 s, each PRM 174-199 s
at 240; the whole `--hidden 256` command 24 minutes):

- reference labels: step AUROC 0.58 [0.45, 0.67] with the trees of 60
  problems, 0.55 [0.45, 0.64] with 120, 0.64 [0.54, 0.74] with 240 (these
  three nested in one draw of 240), 0.67 [0.56, 0.76] with 480 (seeds 0.63,
  0.63, 0.74) and 0.65 [0.52, 0.77] with 960 (7,700 paths; seeds 0.63,
  0.54, 0.77). 480 - 60: +0.09 [+0.00, +0.18], higher by a CI that only
  just clears 0; 960 - 480: -0.02 [-0.11, +0.04], no difference we can
  detect. The point estimates stay below the goal of 0.75; the CIs at 480
  and 960 reach it.
- the trees' own labels (the TCG's verdicts, as the chapter's self-play
  PRM; all four sizes nested in the 480 draw): 0.53, 0.53, 0.49, 0.50
  (at 480: [0.38, 0.63]); 480 - 60: -0.02 [-0.11, +0.06], no difference we
  can detect with eight times the trees (seed 2's PRMs score 0.36-0.44 at
  every size, below 0.5).
- the same 480 problems' trees, reference - own labels: +0.17 [-0.03, +0.35],
  no difference we can detect over 3 seeds (per seed +0.16, +0.01, +0.34).
- a wider backbone (`--hidden 256`: a base of 3.3M parameters instead of
  0.88M, the same recipe, its own pseudocode policy per seed), reference
  labels, the 240 draw's trees: 0.60 [0.45, 0.72] (seeds 0.65, 0.47, 0.68);
  minus the chapter's backbone on the same trees -0.04 [-0.16, +0.08], no
  difference we can detect.

- the pair-wise PRM (`--kind pairwise`, Bradley-Terry on sibling steps at
  least 0.3 apart), reference labels, the 480 draw's trees: pair accuracy on
  the chapter's held-out sibling pairs 0.40 [0.27, 0.53] with 120 problems
  and 0.52 [0.36, 0.71] with 480 (seeds 0.43, 0.72, 0.42; 169 held-out
  pairs); step AUROC 0.48 and 0.51. Training took 28-30 s a seed at 120,
  115-131 s at 480.

So the self-play PRM does not improve with more trees by anything we can
detect; with right labels the PRM gains from 60 to 480 problems and then
nothing we can detect from doubling the trees or from a backbone four times
the size, its point estimates between 0.55 and 0.67; the pair-wise PRM,
given right labels and four times the trees, orders sibling steps about as
often right as wrong. None of the levers tried here reaches the goals (step
AUROC 0.75, pair accuracy 0.70). The chapter's own 120 trees give 0.63
(reference labels) where the 240 draw's first 120 give 0.55, a gap within
the noise of these runs.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "prm_data.json"
CHAPTER_STEPS_PER_PROBLEM = 150 / 120  # chapter 05: PRM_STEPS over N_TRAIN
THRESHOLD = 0.5  # chapter 05's VALID_THRESHOLD
MIN_GAP = 0.3  # chapter 05's MIN_GAP: held-out sibling pairs (and pair-wise training pairs) at least this far apart in value
SUMMARY_SEEDS = (0, 1, 2)  # the summary covers the chapter's seeds (SEEDS = 3), whatever a command's --seeds


def step_auroc(pooled) -> float:
    """AUROC of held-out (score, reference label) pairs: a run's own, and each summary's statistic."""
    from o1lite.metrics import auroc

    return auroc([s for s, _ in pooled], [y for _, y in pooled])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 120, 240], help="training problems (nested)")
    parser.add_argument("--labels", choices=["reference", "reward"], default="reference",
                        help="the PRM's labels: the reference tests' (the chapter's diagnostic) or the trees' own")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--kind", choices=["pointwise", "pairwise"], default="pointwise",
                        help="point-wise (the chapter's headline PRM) or pair-wise (Bradley-Terry on sibling steps, min gap 0.3)")
    parser.add_argument("--hidden", type=int, default=None,
                        help="the PRM's backbone: chapter 03's pseudocode policy on a tiny base of this hidden size (the "
                             "base's recipe, intermediate size 3x), instead of the chapter's; the trees stay the chapter's")
    parser.add_argument("--out", default=str(OUT), help="the JSON file runs are appended to")
    parser.add_argument("--smoke", action="store_true", help="micro sizes, to check the script runs (seconds; the numbers mean nothing)")
    args = parser.parse_args(argv)

    import datasets
    import transformers

    from o1lite import models, suite
    from o1lite.profiles import Profile, get_profile
    from o1lite.record import machine
    from o1lite.stages import mcts, prm, upstream

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    models.configure_threads()
    if (args.smoke or args.profile != "tiny") and Path(args.out).resolve() == OUT.resolve():
        raise SystemExit("only tiny runs go in the measured file (chapter 05 reads it): pass --out /tmp/prm_data_<name>.json")
    profile = get_profile(args.profile, smoke=args.smoke)
    prm_profile = profile  # whose policy the PRM starts from; the trees are always searched by `profile`'s
    if args.hidden is not None:
        if not profile.is_tiny or args.hidden <= 0 or args.hidden % (2 * profile.tiny.num_heads):
            raise SystemExit(f"--hidden widens the tiny base: use it with a tiny profile and a multiple of {2 * profile.tiny.num_heads}")
        prm_profile = Profile(f"{profile.name}-h{args.hidden}", None, profile.suite, lora_rank=profile.lora_rank,
                              max_new_tokens=profile.max_new_tokens, smoke=profile.smoke,
                              tiny=replace(profile.tiny, hidden_size=args.hidden, intermediate_size=3 * args.hidden))
    sizes, out, n_test = sorted(set(args.sizes)), Path(args.out), 4 if args.smoke else 40
    record = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    record.setdefault("runs", {})
    search = dict(simulations=3 if args.smoke else 8, k=3, c=2.0, temperature=0.8, batch_problems=n_test, workers=2, threads=1,
                  progress=False)
    train_problems = suite.problems(profile, "train", n=max(sizes), seed=2)  # chapter 05's draw (SEED + 2), larger
    test_problems = suite.problems(profile, "test", n=n_test, seed=0)  # chapter 05's held-out trees (chapter 04's Table 1)
    for seed in args.seeds:
        adapter, loaded = upstream.policy(profile, "pseudocode", seed)
        tests = upstream.generated_tests(profile, seed, (train_problems, test_problems))
        _, train_trees, stats = upstream.search_trees(profile, "pseudocode", train_problems, "prm_train", seed, loaded, adapter,
                                                      tests, **search)
        _, held_trees, _ = upstream.search_trees(profile, "pseudocode", test_problems, "table1", seed, loaded, adapter, tests, **search)
        truth = [mcts.reference_values(r) for r in held_trees]
        prm_adapter = upstream.policy(prm_profile, "pseudocode", seed)[0] if args.hidden is not None else adapter
        for size in sizes:
            key = f"labels={args.labels} draw={max(sizes)} seed={seed} size={size}"  # the trees of one draw's search
            if args.hidden is not None:
                key = f"hidden={args.hidden} {key}"
            if args.kind != "pointwise":
                key = f"kind={args.kind} {key}"
            if args.profile != "tiny" or args.smoke:
                key = f"profile={args.profile}{' smoke' if args.smoke else ''} {key}"
            config = prm.PRMConfig(kind=args.kind, labels="hard", label_source=args.labels, threshold=THRESHOLD,
                                   steps=round(CHAPTER_STEPS_PER_PROBLEM * size), rank=profile.lora_rank, seed=seed)
            if key not in record["runs"]:
                folder, log = prm.train_prm(prm_profile, train_trees[:size], config, adapter=prm_adapter)
                scored = prm.tree_step_scores(prm.load_prm(prm_profile, folder), held_trees)
                per_problem = [[[scored[i][n["id"]], truth[i].get(n["id"], 0.0) > THRESHOLD] for n in mcts.step_nodes(r)]
                               for i, r in enumerate(held_trees)]
                # per held-out problem: 1 when the PRM orders a reference-valued sibling pair right
                pairs = prm.pair_outcomes(held_trees, scored, prm.sibling_pairs(held_trees, "reference", MIN_GAP))
                record["runs"][key] = {"labels": args.labels, "profile": args.profile, "smoke": args.smoke, "draw": max(sizes),
                                       "hidden": args.hidden, "kind": args.kind, "pairs_held_out": pairs,
                                       "seed": seed, "size": size, "steps": config.steps,
                                       "paths": log.get("paths"), "pairs": log.get("pairs"), "train_seconds": log.get("seconds"),
                                       "search_seconds_all_sizes": stats.get("seconds") if stats.get("steps") else None,
                                       "machine": machine(), "held_out": per_problem}
                record = save(out, record, args.profile, args.smoke)
            run = record["runs"][key]
            data = f"{run['paths']} paths" if run.get("paths") else f"{run.get('pairs')} pairs"
            print(f"seed {seed} · {size} problems ({data}, {run['steps']} steps): step AUROC {run['step_auroc']:.3f}",
                  flush=True)

    record = save(out, record, args.profile, args.smoke)
    for name, entry in record["summary"].items():
        for key, value in entry.items():
            print(f"{name}, {key}: {value['value']:+.3f} [{value['ci95'][0]:+.3f}, {value['ci95'][1]:+.3f}]")


def save(out: Path, record: dict, profile: str, smoke: bool) -> dict:
    """Merge `record`'s runs into the file as it is now (another command may have added runs meanwhile),
    write them, and derive each run's step AUROC and every summary of this profile from the runs as the file
    stores them (floats rounded), so a later recompute from the file gives the same numbers; return the file."""
    from o1lite.record import write_json

    merged = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    merged["runs"] = {**merged.get("runs", {}), **record["runs"]}
    write_json(out, merged)
    merged = json.loads(out.read_text())
    for run in merged["runs"].values():
        run["step_auroc"] = round(step_auroc([tuple(x) for row in run["held_out"] for x in row]), 4)
    merged["summary"] = summarise(r for r in merged["runs"].values() if (r.get("profile", "tiny"), r.get("smoke", False)) == (profile, smoke))
    write_json(out, merged)
    return merged


def summarise(runs) -> dict:
    """Every summary the runs support over SUMMARY_SEEDS, from the runs alone (the order of commands does not matter).

    Per label source, backbone and kind (`labels=reference`, `labels=reward`, `labels=reference hidden=256`,
    `labels=reference kind=pairwise`): the step
    AUROC at each size, taken from the smallest draw that holds that size for every seed; the paired differences
    each size - the smallest, and largest - next size (the same held-out steps scored by two PRMs of one seed); for a wider
    backbone, minus the chapter's backbone trained on the same trees with the same labels; the pair accuracy on the
    held-out sibling pairs (reference values at least MIN_GAP apart) where the runs recorded it. And, where both label
    sources were trained on the same trees (same draw and size), `labels=reference-reward`: reference - own labels."""
    from o1lite.metrics import paired_auroc_difference, seeded_statistic

    runs = list(runs)
    held = lambda run: [[tuple(x) for x in row] for row in run["held_out"]]
    keep = lambda value: {k: v for k, v in value.items() if k in ("value", "ci95", "per_seed", "n")}

    def runs_of(labels, hidden, size, draw, kind="pointwise"):
        """One run per summary seed, in seed order, or None when a seed lacks it."""
        by_seed = {r["seed"]: r for r in runs if (r["labels"], r.get("hidden"), r["size"], r["draw"]) == (labels, hidden, size, draw)
                   and r.get("kind", "pointwise") == kind}
        return [by_seed[s] for s in SUMMARY_SEEDS] if all(s in by_seed for s in SUMMARY_SEEDS) else None

    def paired(first, second):
        """first - second, seed by seed, on the same held-out steps."""
        return keep(paired_auroc_difference([held(a) for a in first], [held(b) for b in second]))

    summary = {}
    group = lambda r: (r["labels"], r.get("hidden"), r.get("kind", "pointwise"))
    for labels, hidden, kind in sorted({group(r) for r in runs}, key=str):
        chosen = {}  # size -> the runs of the smallest draw holding it for every seed
        for size in sorted({r["size"] for r in runs if group(r) == (labels, hidden, kind)}):
            for draw in sorted({r["draw"] for r in runs if group(r) == (labels, hidden, kind) and r["size"] == size}):
                if (found := runs_of(labels, hidden, size, draw, kind)) is not None:
                    chosen[size] = found
                    break
        if not chosen:
            continue
        entry = {f"step_auroc_{size}": keep(seeded_statistic([held(r) for r in found], step_auroc)) for size, found in chosen.items()}
        for size, found in chosen.items():  # runs that recorded held-out pairs (and found some under every seed)
            if all(any(r.get("pairs_held_out") or []) for r in found):
                entry[f"pair_accuracy_{size}"] = keep(seeded_statistic([r["pairs_held_out"] for r in found], lambda x: sum(x) / len(x) if x else float("nan")))
        sizes = sorted(chosen)
        for size in sizes[1:]:  # each size against the smallest
            entry[f"step_auroc_{size}_minus_{sizes[0]}"] = paired(chosen[size], chosen[sizes[0]])
        if len(sizes) > 2:  # and the largest against the next
            entry[f"step_auroc_{sizes[-1]}_minus_{sizes[-2]}"] = paired(chosen[sizes[-1]], chosen[sizes[-2]])
        for size, found in chosen.items() if hidden else ():
            if (twin := runs_of(labels, None, size, found[0]["draw"], kind)) is not None:
                entry[f"step_auroc_{size}_minus_chapter_backbone"] = paired(found, twin)
        summary[f"labels={labels}" + (f" hidden={hidden}" if hidden else "") + (f" kind={kind}" if kind != "pointwise" else "")] = entry
    cross = {}
    for size in sorted({r["size"] for r in runs}):
        for draw in sorted({r["draw"] for r in runs if r["size"] == size}):
            ref, own = runs_of("reference", None, size, draw), runs_of("reward", None, size, draw)
            if ref and own:
                cross[f"step_auroc_{size}"] = paired(ref, own)
                break
    if cross:
        summary["labels=reference-reward"] = cross
    return summary

if __name__ == "__main__":
    main()
