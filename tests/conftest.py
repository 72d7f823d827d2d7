"""Shared fixtures: every test writes runs/ and figures/ into a temporary folder."""

import os
import subprocess
import sys

import pytest

# The suite runs three smoke passes of the chapters beside its own tests, so the cores are always
# oversubscribed. An idle OpenMP thread then sleeps instead of spinning on a core another process needs
# (GNU OpenMP, which torch uses, spins by default). Set before torch is imported, here or in any child.
# It changes no result, only how threads wait; `make test` measured it (RESULTS.md, Speed).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from o1lite.profiles import MICRO  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_outputs(tmp_path_factory, monkeypatch):
    """Never touch the repository's runs/ or figures/ from a test."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("O1LITE_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(base / "figures"))


@pytest.fixture(scope="session")
def micro_base(tmp_path_factory):
    """A micro tiny base built once per test session (seconds)."""
    from o1lite import models

    os.environ["O1LITE_RUNS_DIR"] = str(tmp_path_factory.getbasetemp() / "runs")
    return models.ensure_tiny_base(MICRO, progress=False)


@pytest.fixture(scope="module")
def sandbox():
    """Two sandbox workers shared by a test module (one per core)."""
    from o1lite.sandbox import Sandbox

    with Sandbox(workers=2) as box:
        yield box


def process_gone(pid: int) -> bool:
    """Whether process `pid` has ended: no longer in /proc, or a zombie its parent has not reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def load_benchmark(name: str):
    """A script of benchmarks/ as a module (benchmarks/ is not a package), for tests of its pure parts."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the chapters' smoke passes, beside the whole suite
# Three runs of `python -m o1lite reproduce` in smoke mode: two on the tiny profile (the
# determinism test compares them) and one on a Qwen2.5-shaped folder. They are the suite's
# longest parts, so each starts in a process of its own with the first test, the other tests
# run beside them, and the tests that read them run last. `make test-quick`
# (O1LITE_QWEN_PASS=0) leaves the Qwen pass out.
QWEN_PASS = os.environ.get("O1LITE_QWEN_PASS", "1") != "0"
QWEN_CHAPTERS = ["00", "02", "03", "04", "05", "06", "07", "08"]
QWEN_TEST = "test_every_chapter_runs_on_a_qwen25_shaped_checkpoint"
SMOKE = {"SMOKE": True, "SEEDS": 1, "SOLUTIONS": True}  # micro sizes, one seed, every exercise answered from solutions/ and checked
BACKGROUND_PIDS: set[int] = set()  # processes the suite itself runs beside the tests (the sandbox tests look for strays)


def _reads(item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items):
    """The tests that read the background passes run last (the Qwen pass's very last,
    it is the longest), so every other test runs beside the passes, not before or after."""
    def order(item):
        return 2 if item.name == QWEN_TEST else 1 if _reads(item, "smoke_run") else 0

    items[:] = sorted(items, key=order)  # sorted() is stable: the order within each group is kept


_SESSION_NICE = """try:  # written by tests/conftest.py: this kernel's session gets a smaller share of the cores
    with open("/proc/self/autogroup", "w") as handle:
        handle.write("{nice}")
except OSError:  # no autogroup scheduling here: nothing to lower
    pass
"""


class _Background:
    """One `python -m o1lite reproduce` in a process of its own, its runs and figures
    in `folder`, its output to a file (a pipe nobody reads until the end could fill
    and stall it); `result()` waits for it. One torch thread (OMP_NUM_THREADS=1, which
    the chapters' kernels inherit): equal thread counts are what the determinism test's
    "same seed, same numbers" promises, and three passes share two cores."""

    def __init__(self, profile: str, parameters: dict, folder, only: list[str] | None = None, kernel_nice: int = 0):
        self.figures, self.output = folder / "figures", folder / "output.log"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "O1LITE_FIGURES_DIR": str(self.figures),
               "O1LITE_RUNS_DIR": str(folder / "runs")}
        if kernel_nice:  # each kernel lowers its own session's share of the cores when it starts
            startup = folder / "ipython" / "profile_default" / "startup"
            startup.mkdir(parents=True)
            (startup / "00_session_nice.py").write_text(_SESSION_NICE.format(nice=kernel_nice))
            env["IPYTHONDIR"] = str(folder / "ipython")
        command = [sys.executable, "-m", "o1lite", "reproduce", "--profile", profile] + [
            arg for name, value in parameters.items() for arg in ("-p", f"{name}={value}")]
        command += ["--only", ",".join(only)] if only else []
        with open(self.output, "w") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        BACKGROUND_PIDS.add(self.process.pid)

    def result(self, timeout=1500):
        self.process.wait(timeout=timeout)
        return self.process.returncode, self.output.read_text(), self.figures

    def stop(self):
        if self.process.poll() is None:  # a test failed early, or the session was interrupted
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session", autouse=True)
def background_passes(request, tmp_path_factory):
    """The passes the session's tests read, started with the first test:
    - "tiny" and "tiny_again": every chapter in smoke mode on the tiny profile, twice,
      each from an empty runs folder (the determinism test compares the two);
    - "qwen": every chapter that loads a model, on a Qwen2.5-0.5B-Instruct-shaped folder
      (one layer of the real sizes, random weights), offline on the synthetic suite.
      Chapter 01 loads no model (the tiny passes cover it); one round of self-play (the
      tiny passes run two); exercises: the tiny passes.
    Who gets the cores: each chapter's kernel starts a session of its own (jupyter_client
    does), and Linux with autogroup scheduling gives each session an equal share whatever
    its processes' nice values. Left so, the four (three kernels, this process's tests)
    shared the two cores evenly and the Qwen pass, the longest, ended last, alone on one
    core. So the tiny passes' kernels lower their own sessions' share (an IPython startup
    file, `_SESSION_NICE`): the Qwen pass and the tests keep most of the cores and the tiny
    passes fill the rest. Measured on 2 cores (2026-12-04, warm checkout): 4 min 32 s for
    the suite; started the same way but sharing evenly 5 min 21 s; tiny passes pinned to
    one core and the Qwen pass to the other 5 min 1 s; the tiny passes started only when
    their tests were reached (the arrangement before) 4 min 57 s."""
    items = request.session.items
    passes = {}
    try:
        if any(_reads(item, "smoke_run") for item in items):
            for name in ("tiny", "tiny_again"):
                passes[name] = _Background("tiny", SMOKE, tmp_path_factory.mktemp(f"smoke_{name}"), kernel_nice=5)
        if QWEN_PASS and any(item.name == QWEN_TEST for item in items):
            from o1lite import checkpoints

            qwen = tmp_path_factory.mktemp("smoke_qwen")
            folder = checkpoints.build_qwen25_shaped(qwen / "qwen2.5-0.5b-instruct-shaped", layers=1)
            passes["qwen"] = _Background(str(folder), {"SMOKE": True, "SEEDS": 1, "SUITE": "synthetic", "ROUNDS": 1}, qwen,
                                          only=QWEN_CHAPTERS)
        # The tests in this process run with one torch thread beside the passes: with two, a
        # test's OpenMP threads wait on each other while the passes hold the cores.
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield passes
        finally:
            torch.set_num_threads(threads)
    finally:
        for background in passes.values():
            background.stop()
