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
960):

- reference labels: step AUROC 0.58 [0.45, 0.67] with the trees of 60
  problems, 0.55 [0.45, 0.64] with 120, 0.64 [0.54, 0.74] with 240 (these
  three nested in one draw of 240), 0.67 [0.56, 0.76] with 480 (seeds 0.63,
  0.63, 0.74) and 0.65 [0.52, 0.77] with 960 (7,700 paths; seeds 0.63,
  0.54, 0.77); 960 - 60: +0.07 [-0.02, +0.16], no difference we can detect.
  The diagnostic PRM gains from 60 to about 240 problems and then stops: with
  eight times the chapter's trees its point estimate is no higher than with
  four, and the seeds spread from 0.54 to 0.77 around it. More data does not
  bring it to the goal of 0.75: what holds it there is the PRM as built
  here (the tiny policy as backbone, LoRA, this budget per tree), not the
  number of trees.
- the trees' own labels (the TCG's verdicts, as the chapter's self-play
  PRM; all four sizes nested in the 480 draw): 0.53, 0.53, 0.49, 0.50
  (at 480: [0.38, 0.63]); 480 - 60: -0.02 [-0.11, +0.06], no difference we
  can detect. Eight times the trees teach it nothing: its labels carry no
  signal to learn (seed 2's PRMs rank the held-out steps below chance at
  every size, 0.36-0.44).
- the same 480 problems' trees, reference - own labels: +0.17 [-0.03, +0.35],
  no difference we can detect over 3 seeds (per seed +0.16, +0.01, +0.34).

The chapter's own 120 trees give 0.63 (reference labels) where the 240
draw's first 120 give 0.55, a gap within the noise of these runs.
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 120, 240], help="training problems (nested)")
    parser.add_argument("--labels", choices=["reference", "reward"], default="reference",
                        help="the PRM's labels: the reference tests' (the chapter's diagnostic) or the trees' own")
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--hidden", type=int, default=None,
                        help="the PRM's backbone: chapter 03's pseudocode policy on a tiny base of this hidden size (the "
                             "base's recipe, intermediate size 3x), instead of the chapter's; the trees stay the chapter's")
    parser.add_argument("--out", default=str(OUT), help="the JSON file runs are appended to")
    parser.add_argument("--smoke", action="store_true", help="micro sizes, to check the script runs (seconds; the numbers mean nothing)")
    args = parser.parse_args(argv)

    import datasets
    import transformers

    from o1lite import models, suite
    from o1lite.metrics import auroc, seeded_statistic
    from o1lite.profiles import Profile, get_profile
    from o1lite.record import machine, write_json
    from o1lite.stages import mcts, prm, upstream

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    models.configure_threads()
    if args.smoke and Path(args.out).resolve() == OUT.resolve():
        raise SystemExit("a smoke run must not write the measured file: pass --out /tmp/prm_data_smoke.json")
    profile = get_profile(args.profile, smoke=args.smoke)
    prm_profile = profile  # whose policy the PRM starts from; the trees are always searched by `profile`'s
    if args.hidden:
        if not profile.is_tiny:
            raise SystemExit("--hidden widens the tiny base: use it with a tiny profile")
        prm_profile = Profile(f"{profile.name}-h{args.hidden}", None, profile.suite, lora_rank=profile.lora_rank,
                              max_new_tokens=profile.max_new_tokens, smoke=profile.smoke,
                              tiny=replace(profile.tiny, hidden_size=args.hidden, intermediate_size=3 * args.hidden))
    backbone = lambda run: run.get("hidden")  # None: the chapter's backbone
    sizes, out, n_test = sorted(set(args.sizes)), Path(args.out), 4 if args.smoke else 40
    record = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    record.setdefault("runs", {})
    search = dict(simulations=3 if args.smoke else 8, k=3, c=2.0, temperature=0.8, batch_problems=n_test, workers=2, threads=1,
                  progress=False)
    train_problems = suite.problems(profile, "train", n=max(sizes), seed=2)  # chapter 05's draw (SEED + 2), larger
    test_problems = suite.problems(profile, "test", n=n_test, seed=0)  # chapter 05's held-out trees (chapter 04's Table 1)
    items = {}  # (seed, size) -> per held-out problem, [(score, reference label)]
    held = lambda run: [[tuple(x) for x in row] for row in run["held_out"]]
    step_auroc = lambda pooled: auroc([s for s, _ in pooled], [y for _, y in pooled])
    for seed in args.seeds:
        adapter, loaded = upstream.policy(profile, "pseudocode", seed)
        tests = upstream.generated_tests(profile, seed, (train_problems, test_problems))
        _, train_trees, stats = upstream.search_trees(profile, "pseudocode", train_problems, "prm_train", seed, loaded, adapter,
                                                      tests, **search)
        _, held_trees, _ = upstream.search_trees(profile, "pseudocode", test_problems, "table1", seed, loaded, adapter, tests, **search)
        truth = [mcts.reference_values(r) for r in held_trees]
        prm_adapter = upstream.policy(prm_profile, "pseudocode", seed)[0] if args.hidden else adapter
        for size in sizes:
            key = f"labels={args.labels} draw={max(sizes)} seed={seed} size={size}"  # the trees of one draw's search
            if args.hidden:
                key = f"hidden={args.hidden} {key}"
            if args.profile != "tiny" or args.smoke:
                key = f"profile={args.profile}{' smoke' if args.smoke else ''} {key}"
            config = prm.PRMConfig(kind="pointwise", labels="hard", label_source=args.labels, threshold=THRESHOLD,
                                   steps=round(CHAPTER_STEPS_PER_PROBLEM * size), rank=profile.lora_rank, seed=seed)
            if key not in record["runs"]:
                folder, log = prm.train_prm(prm_profile, train_trees[:size], config, adapter=prm_adapter)
                scored = prm.tree_step_scores(prm.load_prm(prm_profile, folder), held_trees)
                per_problem = [[[scored[i][n["id"]], truth[i].get(n["id"], 0.0) > THRESHOLD] for n in mcts.step_nodes(r)]
                               for i, r in enumerate(held_trees)]
                record["runs"][key] = {"labels": args.labels, "profile": args.profile, "smoke": args.smoke, "draw": max(sizes),
                                       "hidden": args.hidden,
                                       "seed": seed, "size": size, "steps": config.steps,
                                       "paths": log.get("paths"), "train_seconds": log.get("seconds"),
                                       "search_seconds_all_sizes": stats.get("seconds") if stats.get("steps") else None,
                                       "machine": machine(), "held_out": per_problem}
                record["runs"][key]["step_auroc"] = round(step_auroc([x for row in per_problem for x in row]), 4)
                write_json(out, record)
            run = record["runs"][key]
            items[seed, size] = held(run)
            print(f"seed {seed} · {size} problems ({run['paths']} paths, {run['steps']} steps): step AUROC {run['step_auroc']:.3f}",
                  flush=True)

    # every size this file holds for these labels and seeds (earlier draws too: the held-out steps are the same)
    for run in record["runs"].values():
        if run["labels"] == args.labels and run["seed"] in args.seeds and (run["seed"], run["size"]) not in items \
                and run.get("profile", "tiny") == args.profile and run.get("smoke", False) == args.smoke and backbone(run) == args.hidden:
            items[run["seed"], run["size"]] = held(run)
    sizes = sorted(size for size in {size for _, size in items} if all((seed, size) in items for seed in args.seeds))
    summary = {}
    for size in sizes:
        summary[f"step_auroc_{size}"] = seeded_statistic([items[s, size] for s in args.seeds], step_auroc)
    gap = lambda rows: auroc([a for a, _, _ in rows], [y for _, _, y in rows]) - auroc([b for _, b, _ in rows], [y for _, _, y in rows])
    low, high = sizes[0], sizes[-1]  # paired: the same held-out steps scored by the PRMs of the smallest and largest data
    if high != low:
        joined = [[[(a[0], b[0], a[1]) for a, b in zip(pa, pb)] for pa, pb in zip(items[s, high], items[s, low])] for s in args.seeds]
        summary[f"step_auroc_{high}_minus_{low}"] = seeded_statistic(joined, gap)
    keep = lambda value: {k: v for k, v in value.items() if k in ("value", "ci95", "per_seed", "n")}
    name = f"labels={args.labels}" + (f" hidden={args.hidden}" if args.hidden else "")
    record.setdefault("summary", {})[name] = {key: keep(value) for key, value in summary.items()}
    # paired across label sources: PRMs trained on the same trees (same draw, seed and size), one with each label source,
    # scoring the same held-out steps: what the labels alone are worth at that much data
    mine = lambda r: r.get("profile", "tiny") == args.profile and r.get("smoke", False) == args.smoke and r["seed"] in args.seeds
    where = lambda r: (r["seed"], r["size"], r["draw"])
    reward_runs = {where(r): r for r in record["runs"].values() if mine(r) and r["labels"] == "reward" and backbone(r) is None}
    both = {}  # size -> seed -> per held-out problem, [(reference-label PRM's score, reward-label PRM's score, truth)]
    for run in record["runs"].values():
        if mine(run) and run["labels"] == "reference" and backbone(run) is None and where(run) in reward_runs:
            twin = held(reward_runs[where(run)])
            assert [[y for _, y in row] for row in twin] == [[y for _, y in row] for row in held(run)], "held-out steps differ"
            both.setdefault(run["size"], {})[run["seed"]] = [[(a[0], b[0], a[1]) for a, b in zip(pa, pb)] for pa, pb in zip(held(run), twin)]
    for size, by_seed in sorted(both.items()):
        if all(seed in by_seed for seed in args.seeds):
            summary[f"reference_minus_reward_{size}"] = seeded_statistic([by_seed[s] for s in args.seeds], gap)
            record["summary"].setdefault("labels=reference-reward", {})[f"step_auroc_{size}"] = keep(summary[f"reference_minus_reward_{size}"])
    if args.hidden:  # paired: the wider backbone's PRM against the chapter's, trained on the same trees with the same labels
        chapter_runs = {where(r): r for r in record["runs"].values() if mine(r) and r["labels"] == args.labels and backbone(r) is None}
        wider = {}
        for run in record["runs"].values():
            if mine(run) and run["labels"] == args.labels and backbone(run) == args.hidden and where(run) in chapter_runs:
                twin = held(chapter_runs[where(run)])
                wider.setdefault(run["size"], {})[run["seed"]] = [[(a[0], b[0], a[1]) for a, b in zip(pa, pb)] for pa, pb in zip(held(run), twin)]
        for size, by_seed in sorted(wider.items()):
            if all(seed in by_seed for seed in args.seeds):
                summary[f"hidden_{args.hidden}_minus_chapter_{size}"] = seeded_statistic([by_seed[s] for s in args.seeds], gap)
                record["summary"][name][f"step_auroc_{size}_minus_chapter_backbone"] = keep(summary[f"hidden_{args.hidden}_minus_chapter_{size}"])
    write_json(out, record)
    for key, value in summary.items():
        print(f"{args.labels} labels, {key}: {value['value']:+.3f} [{value['ci95'][0]:+.3f}, {value['ci95'][1]:+.3f}]")


if __name__ == "__main__":
    main()
