"""Independent jobs (one seed's training, one policy's evaluation) side by side on a CPU.

The tiny model's matrices are too small for two threads to keep two cores
busy: one 1-thread process per core does more work per second
(`benchmarks/tiny_throughput.py`: sampling 1.26-1.82x, SFT 1.14-1.34x on the
2-core VM). `run_jobs(function, jobs)` runs `function(*job)` for every job,
in up to `workers()` spawned processes that share the cores' threads between
them, and returns the results in the order of `jobs`. Every training seeds
itself (`training.sft_lora` / `dpo_lora` call `set_seed` before the LoRA
matrices are drawn) and every sampler takes its seed, so a job gives what it
would give in the notebook's own process. On a GPU or a Qwen profile the
jobs run one after another in this process; on a CPU with a tiny profile
`O1LITE_JOBS` sets the number of processes (1: in this process).

`function` must be importable (defined in a module, not a notebook cell),
and jobs print nothing the notebook would see: they return what to show.

Stopping: a job that fails lets the running ones finish (their models are
cached, so a re-run picks them up), and the one the executor has already
queued beside them; no other job starts. An interrupt (the
notebook's stop button, Ctrl-C) stops the running jobs too, at once. A
process that dies without a word (a kernel killed or restarted) takes its
jobs along on Linux: each job's process asks the kernel for SIGTERM when
the process that started it ends.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence


def workers(profile=None, jobs: int | None = None) -> int:
    """How many processes `run_jobs` uses: 1 on a GPU or a non-tiny profile; on a CPU with a tiny
    profile, `O1LITE_JOBS` or else one per torch thread (`record.torch_threads`); at most `jobs`."""
    import torch

    from .profiles import get_profile
    from .record import torch_threads

    if torch.cuda.is_available() or any(not get_profile(p).is_tiny for p in _bases(profile)):
        return 1
    wanted = (os.environ.get("O1LITE_JOBS") or "").strip()
    if wanted and (not wanted.isdigit() or int(wanted) < 1):
        raise ValueError(f"O1LITE_JOBS={wanted!r}: set a whole number of processes, 1 or more (1 runs jobs in this process)")
    count = int(wanted) if wanted else torch_threads()
    return max(1, min(count, jobs)) if jobs is not None else max(1, count)


def _bases(profile) -> list:
    """`profile` as a list: None, one profile, or the profiles of several seeds' bases."""
    if profile is None:
        return []
    return list(profile) if isinstance(profile, (list, tuple)) else [profile]


def _stop_with(parent: int) -> None:
    """Linux: this process gets SIGTERM when `parent`, the process that started it, ends
    (`PR_SET_PDEATHSIG`), so no job trains on for nobody after a kernel is killed. Where the kernel
    refuses the request (a seccomp filter), a warning says so and the jobs run without the guard."""
    if not sys.platform.startswith("linux"):
        return
    from .sandbox.worker import PR_SET_PDEATHSIG, prctl

    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError as refused:
        warnings.warn(f"job process {os.getpid()} runs on if its notebook's kernel is killed ({refused}): "
                      "after a killed kernel, stop it by hand", RuntimeWarning, stacklevel=2)
        return
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


# What a job's process sets before torch, transformers or datasets are imported (it starts bare, spawned):
# no library logs or progress bars, as `teaching.quiet()` gives a chapter without importing the libraries.
QUIET_ENVIRONMENT = {
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' own bars follow huggingface_hub's switch
}


def _start_worker(threads: int, parent: int) -> None:
    _stop_with(parent)
    os.environ.update(QUIET_ENVIRONMENT, OMP_NUM_THREADS=str(threads))  # models.configure_threads reads the last
    # What jobs print (a Trainer's log dicts): the notebook would not see it, its log would. They return what to show.
    sys.stdout = open(os.devnull, "w")
    import torch

    torch.set_num_threads(threads)


def run_jobs(function: Callable[..., Any], jobs: Sequence[Sequence[Any]], profile=None,
             processes: int | None = None) -> list[Any]:
    """`[function(*job) for job in jobs]`, in up to `processes` (default `workers(profile, len(jobs))`) processes.
    `profile` is the jobs' profile, or a list of them (one per seed: `Profile.for_seed`), whose missing
    tiny bases are built here first."""
    from .record import torch_threads

    jobs = [tuple(job) for job in jobs]
    processes = workers(profile, len(jobs)) if processes is None else max(1, min(processes, len(jobs)))
    if processes <= 1:
        return [function(*job) for job in jobs]
    from .models import ensure_tiny_bases
    from .profiles import get_profile

    # a missing tiny base is built once, here (side by side when several are): jobs side by side would each build it
    ensure_tiny_bases([get_profile(p).tiny for p in _bases(profile) if get_profile(p).is_tiny])
    threads = max(1, torch_threads() // processes)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no notebook state, no forked threads
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_start_worker,
                             initargs=(threads, os.getpid())) as pool:
        futures = []
        try:  # submitting too: the processes start there, and an interrupt may land while they do
            for job in jobs:
                futures.append(pool.submit(function, *job))
            return [future.result() for future in futures]
        except BaseException as stop:
            for future in futures:  # the waiting jobs never start
                future.cancel()
            if not isinstance(stop, Exception):  # an interrupt: the running ones stop too, not when they finish
                for process in list(pool._processes.values()):  # the executor's processes (no public handle before 3.14)
                    process.terminate()
            raise
