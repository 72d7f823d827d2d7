"""Shared fixtures: every test writes runs/ and figures/ into a temporary folder."""

import os
import subprocess
import sys

import pytest

from o1lite.profiles import MICRO


@pytest.fixture(autouse=True)
def isolated_outputs(tmp_path_factory, monkeypatch):
    """Never touch the repository's runs/ or figures/ from a test."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("O1LITE_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(base / "figures"))


@pytest.fixture(scope="session")
def micro_base(tmp_path_factory):
    """A micro tiny base built once per test session (seconds)."""
    import os

    from o1lite import models

    os.environ["O1LITE_RUNS_DIR"] = str(tmp_path_factory.getbasetemp() / "runs")
    return models.ensure_tiny_base(MICRO, progress=False)


@pytest.fixture(scope="module")
def sandbox():
    """Two sandbox workers shared by a test module (one per core)."""
    from o1lite.sandbox import Sandbox

    with Sandbox(workers=2) as box:
        yield box


# ---------------------------------------------------------------- the Qwen-shaped smoke pass, beside the whole suite
# `make test-quick` (O1LITE_QWEN_PASS=0) leaves it out.
QWEN_PASS = os.environ.get("O1LITE_QWEN_PASS", "1") != "0"
QWEN_CHAPTERS = ["00", "02", "03", "04", "05", "06", "07", "08"]
QWEN_TEST = "test_every_chapter_runs_on_a_qwen25_shaped_checkpoint"
BACKGROUND_PIDS: set[int] = set()  # processes the suite itself runs beside the tests (the sandbox tests look for strays)


def pytest_collection_modifyitems(session, config, items):
    """The Qwen pass's test runs last: its pass runs in the background from the
    first test on, so every other test runs beside it instead of before or after."""
    last = [item for item in items if item.name == QWEN_TEST]
    items[:] = [item for item in items if item.name != QWEN_TEST] + last


class _Background:
    """One `python -m o1lite reproduce` in a process of its own, its output to a file
    (a pipe nobody reads until the end could fill and stall it); `result()` waits for it."""

    def __init__(self, command, env, folder):
        self.output = folder / "output.log"
        with open(self.output, "w") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        self.figures = folder / "figures"
        BACKGROUND_PIDS.add(self.process.pid)

    def result(self, timeout=1500):
        self.process.wait(timeout=timeout)
        return self.process.returncode, self.output.read_text(), self.figures

    def stop(self):
        if self.process.poll() is None:  # a test failed early, or the session was interrupted
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session", autouse=True)
def qwen_smoke_pass(request, tmp_path_factory):
    """Every chapter that loads a model, in smoke mode, on a Qwen2.5-0.5B-Instruct-shaped
    folder (one layer of the real sizes, random weights), offline on the synthetic suite,
    through the runner; started with the first test when the session holds its test.
    Chapter 01 loads no model (the tiny passes cover it); one round of self-play (the
    tiny passes run two); exercises: the tiny passes. One torch thread, as the tiny
    smoke passes: measured on 2 cores, the whole suite took 317 s so, 386 s with two
    threads for this pass (when it still ran inside the tiny passes' fixture: 323 s
    with two threads, 306 s with one, for that fixture alone)."""
    if not QWEN_PASS or not any(item.name == QWEN_TEST for item in request.session.items):
        yield None
        return
    from o1lite import checkpoints

    qwen = tmp_path_factory.mktemp("smoke_qwen")
    folder = checkpoints.build_qwen25_shaped(qwen / "qwen2.5-0.5b-instruct-shaped", layers=1)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "O1LITE_FIGURES_DIR": str(qwen / "figures"),
           "O1LITE_RUNS_DIR": str(qwen / "runs")}
    command = [sys.executable, "-m", "o1lite", "reproduce", "--profile", str(folder), "--only", ",".join(QWEN_CHAPTERS),
               "-p", "SMOKE=True", "-p", "SEEDS=1", "-p", "SUITE=synthetic", "-p", "ROUNDS=1"]
    background = _Background(command, env, qwen)
    # It is the longest part of the suite, so it keeps a core: everything else (this process and what it
    # starts after this line: the tiny smoke passes, their kernels) runs at a lower priority (nice 5), and
    # with one torch thread too: with two, a test's OpenMP threads wait on each other while the pass holds
    # a core (a calibration test took 54 s there, 4.4 s alone).
    os.nice(5)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield background
    finally:
        background.stop()
        torch.set_num_threads(threads)
