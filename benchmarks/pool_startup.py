"""What a pool of two processes costs before its first job: the start of `o1lite.pool.run_jobs`.

Each pool process is a fresh interpreter (spawn). Its initializer
(`pool._start_worker`) sets the thread count, imports torch and silences the
libraries' logs. Until 2026-12-06 it silenced them with `teaching.quiet()`,
which imports transformers and datasets: 3.67x the CPU of a torch-only
process (`pool_startup_2026-12-06.txt`). It now sets the libraries'
environment variables instead (`pool.QUIET_ENVIRONMENT`) and sends what jobs
print to /dev/null. A chapter's jobs (trainings, evaluations) import those
libraries anyway; a light job (the test suite's) paid for them only through
the initializer.

This script times, in this process and one after another, `rounds` pools of
two processes that each run one job returning its process id:

- **baseline**: a `ProcessPoolExecutor` of two spawned processes whose
  initializer only imports torch and sets its threads;
- **run_jobs**: `o1lite.pool.run_jobs` itself (its initializer as the
  chapters use it).

It prints the median seconds of each and their ratio, and the CPU seconds
the children used (`resource.RUSAGE_CHILDREN`), which is what the pool costs
a loaded machine.

    python benchmarks/pool_startup.py            # about 20 s on 2 cores
    python benchmarks/pool_startup.py --rounds 5

It changes nothing and no chapter reads it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor


def _torch_only(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)


def _pid() -> int:
    return os.getpid()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(start_pool) -> tuple[float, float]:
    cpu, wall = _children_cpu(), time.perf_counter()
    pids = start_pool()
    assert len(pids) == 2
    return time.perf_counter() - wall, _children_cpu() - cpu


def baseline() -> list[int]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context, initializer=_torch_only, initargs=(1,)) as pool:
        return [f.result() for f in [pool.submit(_pid) for _ in range(2)]]


def with_run_jobs() -> list[int]:
    from o1lite import pool

    return pool.run_jobs(_pid, [(), ()], processes=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    found: dict[str, list[tuple[float, float]]] = {"baseline": [], "run_jobs": []}
    for _ in range(rounds):  # alternated, so a drift of the machine falls on both
        found["baseline"].append(_timed(baseline))
        found["run_jobs"].append(_timed(with_run_jobs))
    medians = {name: (statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows))
               for name, rows in found.items()}
    for name, (wall, cpu) in medians.items():
        print(f"{name:>9}: {wall:5.2f} s to start two processes and run a job in each, "
              f"{cpu:5.2f} s of the children's CPU (median of {rounds})")
    print(f"run_jobs / baseline: {medians['run_jobs'][0] / medians['baseline'][0]:.2f}x the time, "
          f"{medians['run_jobs'][1] / medians['baseline'][1]:.2f}x the CPU")


if __name__ == "__main__":
    main()
