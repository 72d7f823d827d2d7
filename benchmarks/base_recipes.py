"""Candidate recipes for the tiny base: pass@1 curves by seed, and which primitive skills each run learned.

The base must sit on a plateau that every seed reaches (issue: results that
survive a re-run). `python -m o1lite calibrate` measures the base's own
recipe; this script measures *other* recipes before one is adopted, without
touching the package (so no chapter goes stale):

- a recipe is the tiny config with some fields overridden (`--set
  hidden_size=192 ...`) and, optionally, a training mix that draws some
  primitive operations more often (`--boost replace_char=3`, a weight in
  the draw of each operation; the generator rejects some of the extra chains,
  so the weights 3 and 6 of the `letters` recipe gave 2.0x and 1.9x as many
  `replace_char` and `count_char` problems among 4,000; `test` and `hard` are
  never changed: the boost applies to the `train` split only);
- each run pretrains one base (a 1000-step cosine schedule by default),
  evaluates greedy pass@1 on 150 `test` and `hard` problems every 125 steps
  (`o1lite.calibration.PassAtSteps`, as the calibration does), then
  evaluates 300 `train` and 300 `test` problems with the finished model and
  counts, for every primitive, how many of the problems that use it pass:
  a primitive failed even on `train` is a skill the run has not learned;
- `--drop keep_odd keep_even` takes primitive operations out of the suite
  altogether, in every split (`train`, `test` and `hard` are then drawn
  without them, so their levels are not those of the full suite; compare
  such a recipe's seeds with each other), and `--suite INT_SHARE=0.4` sets a
  numeric constant of the generator (`o1lite/problems/synthetic.py`) for
  every split, here the share of chains over a list of ints;
- `--train-arg max_grad_norm=0.5` overrides a `TrainingArguments` field the
  base's builder sets (weight decay is a tiny config field now, `--set
  weight_decay=...`; the recorded `wd1` runs set it with `--train-arg` before it
  was one);
- a recipe is the config's *current* defaults plus its overrides; each run
  records the whole config it trained (`config`), and a new seed is added to
  a recipe only when its whole config, training mix and training arguments
  equal the recorded ones; runs recorded before configs were (the `base`,
  `wide`, `letters` and `wd1` runs, whose defaults had weight decay 0.1) take
  no new seeds: give the recipe a new name;
- runs go two at a time, one thread each, in child processes; each finished
  run is appended to `figures/00_base_recipes.json` at once (keyed by
  recipe name and seed), so a killed search resumes where it stopped.

    python benchmarks/base_recipes.py wide --set hidden_size=192 intermediate_size=576 num_heads=6 --seeds 0 1 2
    python benchmarks/base_recipes.py letters --boost replace_char=3 count_char=6 --seeds 0
    python benchmarks/base_recipes.py noparity1000 --set steps=1000 schedule_steps=1000 --drop keep_odd keep_even \
        --out benchmarks/base_recipes_noparity.json
    python benchmarks/base_recipes.py --show

About 15 minutes per run of the base's own size on one core of a 2-core
AMD EPYC (AVX2), 25 minutes at hidden size 192.
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "figures" / "00_base_recipes.json"


def _boosted_training_mix(boost: dict[str, float]) -> None:
    """Make the synthetic generator draw the named operations `boost[name]` times as
    often when it builds `train` problems; other splits are drawn exactly as before."""
    from o1lite.problems import synthetic as syn

    original_draw, original_walk = syn._draw_ops, syn._walk
    drawing_train = {"now": False}

    class WeightedChoice:
        """The generator's random source, with `choice` among operations weighted by `boost`."""

        def __init__(self, rng):
            self.rng = rng

        def __getattr__(self, name):
            return getattr(self.rng, name)

        def choice(self, options):
            if options and isinstance(options[0], syn.Op):
                return self.rng.choices(options, [boost.get(op.name, 1) for op in options])[0]
            return self.rng.choice(options)

    def walk(rng, kind, length):
        return original_walk(WeightedChoice(rng) if drawing_train["now"] else rng, kind, length)

    def draw(rng, split, need=None):
        drawing_train["now"] = split == "train"
        return original_draw(rng, split, need)

    syn._walk, syn._draw_ops = walk, draw


def _dropped_operations(names: list[str]) -> None:
    """Take the operations `names` out of the synthetic generator, for every split."""
    from o1lite.problems import synthetic as syn

    unknown = sorted(set(names) - set(syn.OPS_BY_NAME))
    if unknown:
        raise SystemExit(f"--drop {' '.join(unknown)}: not an operation of the synthetic suite "
                         f"({', '.join(sorted(syn.OPS_BY_NAME))})")
    syn.use_operations([op for op in syn.OPS if op.name not in names])


def _suite_constants(changes: dict) -> None:
    """Set module constants of the synthetic generator (`--suite INT_SHARE=0.4`), for every split."""
    from o1lite.problems import synthetic as syn

    for name, value in changes.items():
        if not name.isupper() or not isinstance(getattr(syn, name, None), (int, float)):
            raise SystemExit(f"--suite {name}: not a numeric constant of o1lite/problems/synthetic.py")
        setattr(syn, name, value)


def _training_arguments(changes: dict) -> None:
    """Make every `Trainer` use `changes` in its `TrainingArguments` (the base's builder
    imports the class by name, so the change goes where the arguments are used)."""
    from transformers import Trainer

    original = Trainer.__init__

    def patched(self, *args, **kwargs):
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        for field, value in changes.items():
            setattr(training_args, field, value)
        original(self, *args, **kwargs)

    Trainer.__init__ = patched


def recipe_config(overrides: dict, seed: int = 0):
    """The tiny config a recipe trains: today's defaults on a 1000-step schedule, then `overrides`."""
    from dataclasses import replace

    from o1lite.profiles import TinyConfig, recipe_fields

    cfg = replace(TinyConfig(), steps=1000, schedule_steps=None, seed=seed)
    try:
        return replace(cfg, **recipe_fields(cfg, list(overrides.items())))
    except ValueError as error:
        raise SystemExit(f"error: {error} (see o1lite/profiles.py, TinyConfig)") from None


def recorded_config(cfg) -> dict:
    """What a run records of its tiny config: every field but the seed (seeds of one recipe differ there)."""
    return {k: v for k, v in asdict(cfg).items() if k != "seed"}


def conflicting_runs(record: dict, name: str, config: dict, boost: dict, train_args: dict,
                     drop: list[str] | None = None, suite: dict | None = None) -> list[str]:
    """The recorded runs of recipe `name` that trained something else than this recipe
    (another config, mix, suite or training arguments, or a config never recorded)."""
    mine = [key for key in record if key.rsplit(" s", 1)[0] == name]
    return [key for key in mine if record[key].get("config") != config or record[key].get("boost", {}) != boost
            or record[key].get("train_args", {}) != train_args or record[key].get("drop", []) != sorted(drop or [])
            or record[key].get("suite", {}) != (suite or {})]


def child(name: str, seed: int, overrides: dict, boost: dict, folder: Path, train_args: dict | None = None,
          drop: list[str] | None = None, suite: dict | None = None) -> dict:
    """One run: pretrain, curve, per-primitive pass@1 of the finished model."""
    import datasets
    import torch
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    if drop:
        _dropped_operations(drop)
    if suite:
        _suite_constants(suite)
    if boost:
        _boosted_training_mix(boost)
    if train_args:
        _training_arguments(train_args)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from o1lite.calibration import SPLITS, PassAtSteps
    from o1lite.evaluate import evaluate_model
    from o1lite.models import build_tiny_base
    from o1lite.problems import load_problems
    from o1lite.sandbox import Sandbox

    cfg = recipe_config(overrides, seed)
    problems = {split: load_problems("synthetic", split, n=150, seed=0) for split in SPLITS}
    out = folder / f"{name}-s{seed}"
    with Sandbox(workers=1) as sandbox:
        callback = PassAtSteps(problems, list(range(125, cfg.steps + 1, 125)), sandbox)
        started = time.perf_counter()
        build_tiny_base(cfg, out, progress=False, callbacks=[callback])
        seconds = time.perf_counter() - started
        model, tokenizer = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
        model.eval()
        skills: dict = {}
        final = {}
        for split in ("train", "test"):
            held = load_problems("synthetic", split, n=300, seed=0)
            with torch.no_grad():
                evaluation = evaluate_model(model, tokenizer, held, sandbox)
            final[split] = evaluation.pass_at(1)["value"]
            for problem, flags in zip(held, evaluation.passed):
                for op in set(problem.meta["ops"]):
                    counts = skills.setdefault(op, {}).setdefault(split, [0, 0])
                    counts[0], counts[1] = counts[0] + int(flags[0]), counts[1] + 1
    return {"name": name, "seed": seed, "overrides": overrides, "boost": boost, "train_args": train_args or {},
            "drop": sorted(drop or []), "suite": suite or {}, "config": recorded_config(cfg),
            "rows": callback.rows,
            "seconds": round(seconds, 1), "final_300": final, "skills": skills}


def show(record: dict) -> None:
    for key, run in sorted(record.items()):
        rows = {row["step"]: row for row in run["rows"]}
        curve = " ".join(f"{rows[s]['test']:.2f}" for s in sorted(rows))
        weak = [op for op, by in sorted(run["skills"].items()) if by["train"][0] < 0.5 * by["train"][1]]
        print(f"{key:<14} test by step: {curve} | 300 problems: train {run['final_300']['train']:.3f} "
              f"test {run['final_300']['test']:.3f} | unlearned: {', '.join(weak) or '-'} ({run['seconds']:.0f} s)")


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _assignments(items: list[str], convert) -> dict:
    """NAME=VALUE items as {NAME: convert(VALUE)}."""
    if any("=" not in item for item in items):
        raise SystemExit("--set, --boost and --train-arg take NAME=VALUE items, e.g. --set hidden_size=192")
    return {name: convert(value) for name, value in (item.split("=", 1) for item in items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="the recipe's name in the results file")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="tiny config fields to override")
    parser.add_argument("--boost", nargs="*", default=[], metavar="OP=WEIGHT", help="draw these operations more often in train")
    parser.add_argument("--train-arg", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="TrainingArguments fields to override, e.g. max_grad_norm=0.5")
    parser.add_argument("--drop", nargs="*", default=[], metavar="OP",
                        help="take these operations out of the suite, in every split")
    parser.add_argument("--suite", nargs="*", default=[], metavar="NAME=VALUE",
                        help="numeric constants of the synthetic generator, e.g. INT_SHARE=0.4 (every split)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", default="/tmp/o1lite-base-recipes", help="where the runs' models are kept")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--show", action="store_true", help="print the results file and stop")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = Path(args.out)
    record = json.loads(out.read_text()) if out.exists() else {}
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(child(spec["name"], spec["seed"], spec["overrides"], spec["boost"], Path(args.models),
                              spec.get("train_args"), spec.get("drop"), spec.get("suite"))))
        return
    if args.show or not args.name:
        show(record)
        return
    overrides, boost, train_args = (_assignments(args.set, _value), _assignments(args.boost, float),
                                    _assignments(args.train_arg, _value))
    config = recorded_config(recipe_config(overrides))
    drop, suite = sorted(args.drop), _assignments(args.suite, float)
    if drop:
        _dropped_operations(drop)  # an unknown name stops here, before any run starts
    if suite:
        _suite_constants(suite)
    conflicts = conflicting_runs(record, args.name, config, boost, train_args, drop, suite)
    if conflicts:
        raise SystemExit(f"{out} holds {', '.join(conflicts)} under the name {args.name!r} with another recipe "
                         "(or one recorded before configs were): give this recipe a new name")
    from o1lite.calibration import kernel_env, run_children

    jobs = [(f"{args.name} s{seed}", [__file__, "--child", json.dumps({"name": args.name, "seed": seed, "overrides": overrides,
                                                                      "boost": boost, "train_args": train_args,
                                                                      "drop": drop, "suite": suite}),
                                      "--models", args.models], kernel_env("native"))
            for seed in args.seeds if f"{args.name} s{seed}" not in record]

    def done(key: str, run: dict) -> None:
        record = json.loads(out.read_text()) if out.exists() else {}  # re-read: another grid may have written since
        record[key] = run
        out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        show({key: run})

    run_children(jobs, done, poll=5.0)


if __name__ == "__main__":
    main()
