"""Command line: `python -m o1lite reproduce [--profile tiny] [--only 00,02]`."""

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
    args = parser.parse_args(argv)

    from .profiles import UnknownProfile, get_profile
    from .reproduce import reproduce

    try:
        get_profile(args.profile)
    except UnknownProfile as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    manifest = reproduce(args.profile, args.only, args.seed, dict(args.param))
    return 0 if all(c["status"] == "ok" for c in manifest.chapters) else 1


if __name__ == "__main__":
    sys.exit(main())
