"""`o1lite.pool`: seeds' jobs side by side, and trainings that seed themselves."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from o1lite import pool, training
from o1lite.problems import load_problems
from conftest import process_gone
from pool_jobs import base_is_there, fails, says_a_lot, where_am_i


def test_one_process_runs_the_jobs_here_and_a_failure_reaches_the_caller(capfd):
    """A job's failure is raised here. What the jobs print or log (a Trainer's log dicts, the
    libraries' warnings and progress bars) stays out of the output the notebook's log would show."""
    assert pool.run_jobs(where_am_i, [("a",)])[0][1] == os.getpid()
    capfd.readouterr()
    assert pool.run_jobs(says_a_lot, [("fine",), ("fine too",)], processes=2) == ["fine", "fine too"]
    with pytest.raises(RuntimeError, match="seed 2 broke"):
        pool.run_jobs(fails, [("fine?",), ("seed 2 broke",)], processes=2)
    shown = capfd.readouterr()
    assert "by a job" not in shown.out + shown.err


def test_a_process_the_kernel_refuses_the_parent_death_signal_says_so(monkeypatch):
    """Under a seccomp filter `prctl` may fail: the job process warns that nothing will stop it
    when its kernel is killed, and runs its jobs all the same."""
    from o1lite.sandbox import worker

    def refused(option, arg):
        raise OSError(1, "prctl: Operation not permitted")

    monkeypatch.setattr(worker, "prctl", refused)
    with pytest.warns(RuntimeWarning, match="runs on if its notebook's kernel is killed .*Operation not permitted"):
        pool._stop_with(os.getppid())


def test_workers_follow_o1lite_jobs(monkeypatch):
    monkeypatch.setenv("O1LITE_JOBS", "1")
    assert pool.workers("tiny", jobs=6) == 1
    monkeypatch.setenv("O1LITE_JOBS", "4")
    assert pool.workers("tiny", jobs=3) == 3
    monkeypatch.setenv("O1LITE_JOBS", "two")
    with pytest.raises(ValueError, match="whole number"):
        pool.workers("tiny")


def adapter_after(generator_state, micro_base, out):
    problems = load_problems("synthetic", "train", n=16)
    dataset = Dataset.from_dict({"prompt": [p.prompt for p in problems],
                                 "completion": [p.reference[len(p.prompt):] for p in problems]})
    model = AutoModelForCausalLM.from_pretrained(micro_base)
    tokenizer = AutoTokenizer.from_pretrained(micro_base)
    torch.manual_seed(generator_state)  # whatever ran before the training
    training.sft_lora(model, tokenizer, dataset, out, steps=2, batch_size=4, seed=3)
    return load_file(out / "adapter_model.safetensors")


def test_a_training_does_not_depend_on_what_ran_before_it(micro_base, tmp_path):
    """peft draws the LoRA matrices from torch's global generator before the trainer seeds:
    `training._train` sets it from the training's seed, so a job gives the same adapter anywhere."""
    first, second = (adapter_after(state, micro_base, tmp_path / str(state)) for state in (1, 2))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.fixture(scope="module")
def two_seed_bases(tmp_path_factory):
    """Two seeds' missing bases (`Profile.for_seed`) given to `run_jobs` with three jobs (two processes)
    that ask whether their base is there and say where they run: (missing before?, the jobs' answers,
    the two profiles). Chapter 02's test reuses the bases (each pool costs seconds of imports). No
    other test of the session may build seeds 3 and 4 (the others use seed 1)."""
    from o1lite.profiles import get_profile

    bases = [get_profile("tiny", smoke=True).for_seed(seed) for seed in (3, 4)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("O1LITE_RUNS_DIR", str(tmp_path_factory.getbasetemp() / "runs"))  # the suite's (conftest.py)
        patch.setenv("OMP_NUM_THREADS", "2")
        missing_before = not any(base_is_there(p) for p in bases)
        answers = pool.run_jobs(base_is_there, [(bases[0], "a"), (bases[1], "b"), (bases[0], "c")], bases, processes=2)
    return missing_before, answers, bases


def test_jobs_run_in_other_processes_and_come_back_in_order(two_seed_bases):
    _, answers, _ = two_seed_bases
    assert [tag for _, tag, *_ in answers] == ["a", "b", "c"]
    assert all(pid != os.getpid() for _, _, pid, _, _ in answers)
    assert {(threads, omp) for *_, threads, omp in answers} == {(1, "1")}  # two processes share two threads


def test_several_missing_bases_are_built_side_by_side_before_the_jobs_start(two_seed_bases):
    """One base per seed: the pool builds the missing ones once, in processes of their own, before
    the jobs start (side by side, each job would build them), and each is the base that seed's
    profile names."""
    from o1lite import models

    missing_before, answers, bases = two_seed_bases
    assert missing_before and [built for built, *_ in answers] == [True, True, True]
    logs = [models.pretrain_log(models.tiny_base_dir(p.tiny)) for p in bases]
    assert [log["config"]["seed"] for log in logs] == [3, 4]
    assert {log["torch_threads"] for log in logs} == {1}  # built side by side, one thread each
    # each base trained its own tokenizer: a seed's model must be read with its own (chapter 02 once was not)
    vocabularies = [AutoTokenizer.from_pretrained(models.tiny_base_dir(p.tiny)).get_vocab() for p in bases]
    assert vocabularies[0] != vocabularies[1]


def test_chapter_02s_seeds_build_side_by_side(micro_base, two_seed_bases, monkeypatch):
    """What chapter 02 runs through the pool: two seeds' TCG builds, each in a process of its own,
    their progress lines shown afterwards under their seeds (on the bases of the test above)."""
    from dataclasses import replace

    from o1lite.profiles import get_profile
    from o1lite.stages import tcg

    monkeypatch.setenv("O1LITE_JOBS", "2")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    profile = get_profile("tiny", smoke=True)
    configs = [replace(tcg.MICRO_TCG, seed=seed) for seed in (3, 4)]
    lines = []
    folders = tcg.build_tcgs(profile, configs, progress=lines.append, sandbox_workers=1)
    assert folders == [tcg.tcg_dir(profile, config) for config in configs]
    assert all((folder / "tcg.json").exists() for folder in folders)
    assert [tcg.read_build(folder)[0]["base"] for folder in folders] == [profile.for_seed(seed).base_id for seed in (3, 4)]
    assert [line.split(" · ")[0] for line in lines] == ["seed 3", "seed 3", "seed 4", "seed 4"]  # SFT, then DPO, per seed


def test_chapter_03s_evaluations_come_back_from_their_processes(micro_base, monkeypatch):
    """What chapter 03 runs through the pool: one policy's greedy and sampled evaluation per job,
    returned (pickled) whole. Two processes with one thread each agree bit for bit; against this
    process only the shape is compared (another thread count may take another float path)."""
    from o1lite.problems import load_problems
    from o1lite.profiles import get_profile
    from o1lite.stages import policies

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    profile = get_profile("tiny", smoke=True)
    splits = {"test": load_problems("synthetic", "test", n=2)}
    job = (profile, None, "vanilla", splits, 2, 0.8, 1, {"max_new_tokens": 8, "seed": 3})
    here = policies.evaluate_adapter(*job)
    there = pool.run_jobs(policies.evaluate_adapter, [job, job], profile, processes=2)
    for by_split in there:
        greedy, sampled = by_split["test"]
        assert (greedy.n, sampled.n) == (here["test"][0].n, here["test"][1].n) == (1, 2)
        assert [len(c) for c in sampled.completions] == [len(c) for c in here["test"][1].completions] == [2, 2]
    assert [e.completions for e in there[0]["test"]] == [e.completions for e in there[1]["test"]]


INTERRUPTED_RUN = """import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a kernel (a shell's background job ignores SIGINT)
sys.path.insert(0, {tests!r})
from pool_jobs import sleep_here
from o1lite import pool

if __name__ == "__main__":
    try:
        pool.run_jobs(sleep_here, [({folder!r}, 300), ({folder!r}, 300)], processes=2)
    except KeyboardInterrupt:
        print("interrupted")
"""

KILLED_PARENT = """import multiprocessing, sys
sys.path.insert(0, {tests!r})
from pool_jobs import stop_with_parent_then_sleep

if __name__ == "__main__":
    child = multiprocessing.get_context("spawn").Process(target=stop_with_parent_then_sleep, args=({folder!r}, 300))
    child.start()
    child.join()
"""


def _wait(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_an_interrupt_or_a_killed_kernel_stops_the_running_jobs(tmp_path):
    """The notebook's stop button (SIGINT) reaches the caller of two 5-minute jobs at once and stops
    them, not when they finish (before, it waited them out). A kernel killed outright (SIGKILL: nothing
    of it runs) takes its jobs along: each job's process asks for SIGTERM when its parent dies, shown
    here by the pool's processes and, without torch's import time, by one process that asks the same
    way and whose parent is killed (before, such jobs ran on for good)."""
    runs, jobs = {}, {}
    for name, script in (("interrupted", INTERRUPTED_RUN), ("killed", KILLED_PARENT)):
        folder = tmp_path / name
        folder.mkdir()
        path = tmp_path / f"{name}.py"
        path.write_text(script.format(tests=str(Path(__file__).parent), folder=str(folder)))
        runs[name] = (folder, subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True))
    try:
        started = lambda: {name: [path for path in folder.iterdir() if path.name.isdigit()]  # noqa: E731
                           for name, (folder, _) in runs.items()}
        assert _wait(lambda: [len(found) for found in started().values()] == [2, 1], 240), "the jobs never started"
        jobs = {name: [int(path.name) for path in found] for name, found in started().items()}
        assert {path.read_text() for found in started().values() for path in found} == {str(int(signal.SIGTERM))}
        runs["interrupted"][1].send_signal(signal.SIGINT)
        runs["killed"][1].kill()
        assert runs["interrupted"][1].wait(timeout=30) == 0
        assert runs["interrupted"][1].stdout.read().strip() == "interrupted"
        assert _wait(lambda: all(process_gone(pid) for pids in jobs.values() for pid in pids), 20), \
            {name: [pid for pid in pids if not process_gone(pid)] for name, pids in jobs.items()}
    finally:  # nothing left running, whatever failed (the sandbox tests look for stray processes)
        for _, process in runs.values():
            process.kill()
            process.wait()
        for pid in [pid for pids in jobs.values() for pid in pids if not process_gone(pid)]:
            os.kill(pid, signal.SIGKILL)
