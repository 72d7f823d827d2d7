"""Command line: `python -m o1lite reproduce [--profile tiny] [--only 00,02]`;
`python -m o1lite calibrate` (the tiny base's pass@1 curves, chapter 00)."""

from __future__ import annotations

import argparse
import ast
import sys


def parse_parameter(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"parameter {text!r} must look like NAME=VALUE")
    name, value = text.split("=", 1)
    try:
        return name.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="o1lite", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("reproduce", help="run the chapters with papermill and regenerate figures/")
    run.add_argument("--profile", default="tiny", help="tiny (default), a named Qwen2.5 profile, a hub id or a local directory")
    run.add_argument("--only", default=None, help="comma-separated chapter numbers, e.g. 00,02")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("-p", "--param", action="append", default=[], type=parse_parameter, help="extra notebook parameter NAME=VALUE")
    run.add_argument("--force", action="store_true", help="run every selected chapter, fresh or not")
    chk = commands.add_parser("check", help="compare the figures a re-run wrote with the committed ones")
    chk.add_argument("--against", default="HEAD", help="a git revision (default HEAD) or a folder of NN_metrics.json files")
    chk.add_argument("--verbose", action="store_true", help="also list volatile keys, counts and settings")
    cal = commands.add_parser("calibrate", help="pass@1 of the tiny base by pretraining step, over seeds and CPU kernel paths")
    cal.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    cal.add_argument("--kernels", nargs="+", default=["native", "default"],
                     help="native (what torch picks here) and/or ATEN_CPU_CAPABILITY values: default, avx2, avx512")
    cal.add_argument("--steps", type=int, default=None, help="pretraining steps, one cosine schedule (default: the tiny profile's schedule)")
    cal.add_argument("--every", type=int, default=250, help="evaluate every this many steps")
    cal.add_argument("--n-eval", type=int, default=200, help="problems per held-out split")
    cal.add_argument("--samples", type=int, default=0, help="also pass@1 from this many samples per problem (default 0: greedy only)")
    cal.add_argument("--temperature", type=float, default=0.8, help="the samples' temperature")
    cal.add_argument("--out", default=None, help="JSON file the curves are appended to (default figures/00_calibration.json)")
    cal.add_argument("--set", nargs="+", action="extend", default=[], metavar="FIELD=VALUE", type=parse_parameter,
                     help="another recipe: TinyConfig fields, set after --steps, e.g. weight_decay=2.0 steps=750 schedule_steps=1000")
    res = commands.add_parser("results", help="the papers' lessons beside ours, each with its verdict (chapter 08's table)")
    res.add_argument("--readme", default=None, help="write the table between the results markers of this README instead of printing it")
    args = parser.parse_args(argv)

    if args.command == "results":
        from .results import readme_table, write_readme

        if args.readme:
            print(f"{args.readme}: " + ("table updated" if write_readme(args.readme) else "table already up to date"))
        else:
            print(readme_table())
        return 0

    if args.command == "check":
        from .check import check

        return check(args.against, verbose=args.verbose)

    if args.command == "calibrate":
        from dataclasses import replace
        from pathlib import Path

        from .calibration import calibrate
        from .profiles import figures_dir, get_profile, recipe_fields

        cfg = get_profile("tiny").tiny  # the whole schedule is measured, past where the base stops
        cfg = replace(cfg, steps=args.steps or cfg.schedule_steps or cfg.steps, schedule_steps=None)
        try:
            cfg = replace(cfg, **recipe_fields(cfg, args.set))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        out = Path(args.out) if args.out else figures_dir() / "00_calibration.json"
        calibrate(out, args.seeds, args.kernels, cfg, args.every, args.n_eval, samples=args.samples, temperature=args.temperature)
        return 0

    from .profiles import UnknownProfile, get_profile
    from .reproduce import reproduce

    try:
        get_profile(args.profile)
    except UnknownProfile as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    manifest = reproduce(args.profile, args.only, args.seed, dict(args.param), force=args.force)
    return 0 if all(c["status"] == "ok" for c in manifest.chapters) else 1


if __name__ == "__main__":
    sys.exit(main())
