"""`Sandbox`: a pool of persistent workers behind a small, thread-safe API."""

from __future__ import annotations

import logging
import os
import queue
import select
import subprocess
import sys
import sysconfig
import threading
import time
import weakref
from concurrent.futures import Future
from typing import Any, Iterable, Sequence

from .codec import CodecError, encode
from .results import (
    CallOutcome, ProgramResult, compare, exact_equal, interpret_calls, interpret_check, same_output,
)
from .worker import read_message, write_message

log = logging.getLogger("o1lite.sandbox")
_WARNED: set[str] = set()
_WARN_LOCK = threading.Lock()

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_import(root: str = _PACKAGE_ROOT) -> str:
    """Source that imports `o1lite.sandbox.worker` from the package under `root`.

    The worker loads only its own two modules: empty stand-ins for the `o1lite`
    and `o1lite.sandbox` packages keep their __init__ files (and what they
    import) out of it.
    """
    return (
        "import sys, types; sys.path[:] = [p for p in sys.path if p]; "
        f"sys.path.insert(0, {root!r})\n"
        "for name in ('o1lite', 'o1lite.sandbox'):\n"
        "    stub = sys.modules[name] = types.ModuleType(name)\n"
        f"    stub.__path__ = [{root!r} + '/' + name.replace('.', '/')]\n"
        "from o1lite.sandbox import worker\n"
    )


_BOOT = worker_import() + "worker.main()"


def _warn_once(message: str) -> None:
    with _WARN_LOCK:
        if message in _WARNED:
            return
        _WARNED.add(message)
    log.warning("o1lite.sandbox: %s", message)


def default_hidden_paths() -> list[str]:
    """The evaluator's own tree, covered by an empty tmpfs inside the sandbox.

    The repository (test data, references, results) and the site-packages
    directories (datasets shipped with packages, such as HumanEval's) are not
    needed by programs, which get the standard library only.
    """
    paths = {_PACKAGE_ROOT}
    for key in ("purelib", "platlib"):
        try:
            paths.add(sysconfig.get_paths()[key])
        except KeyError:
            pass
    if sys.prefix != sys.base_prefix:
        paths.add(sys.prefix)
    return sorted(p for p in paths if p and p != "/")


class WorkerLost(Exception):
    """The worker died or stopped answering."""


class _Handle:
    """One worker process and the pipes to it (used by one dispatcher thread)."""

    def __init__(self, hide: list[str], index: int) -> None:
        self.hide = hide
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self.prefer_uid: int | None = None

    def spawn(self) -> None:
        env = {"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        debug = bool(os.environ.get("O1LITE_SANDBOX_DEBUG"))
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-s", "-B", "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            env=env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        write_message(
            self.proc.stdin.fileno(), {"hide": self.hide, "prefer_uid": self.prefer_uid}
        )

    def handshake(self, timeout: float = 60.0) -> None:
        hello = self._read(timeout)
        if not hello.get("ok"):
            raise RuntimeError(f"sandbox worker failed to start: {hello.get('error')}")
        self.info = hello
        self.prefer_uid = hello.get("uid")
        for note in hello.get("notes", []):
            _warn_once(note)

    def _read(self, timeout: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise WorkerLost(f"worker {self.index} did not answer within {timeout:.0f} s")
        try:
            message = read_message(fd)
        except (OSError, EOFError, ValueError) as exc:
            raise WorkerLost(f"worker {self.index} sent a broken reply: {exc}") from None
        if message is None:
            raise WorkerLost(f"worker {self.index} died (exit status {self.proc.poll()})")
        return message

    def request(self, job: dict) -> dict:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            write_message(self.proc.stdin.fileno(), job)
        except (BrokenPipeError, OSError) as exc:
            raise WorkerLost(f"worker {self.index} is gone: {exc}") from None
        return self._read(float(job["timeout"]) + 30.0)

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.kill()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except (OSError, AttributeError):
                pass

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            write_message(proc.stdin.fileno(), {"op": "exit"})  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        self.kill()


class Sandbox:
    """Run untrusted programs in pre-forked, isolated workers.

    Parameters
    ----------
    workers: worker processes (parallel programs).
    timeout: wall-clock seconds for one program, all of its tests together;
        tests not finished by then get status "timeout".
    memory_mb: address-space limit of each program.
    max_processes: process/thread limit of the sandbox uid (root only).
    max_files: open-file limit; file_mb: largest file a program may write.
    max_result_bytes: cap on what one program may send back.
    hide: directories covered by an empty tmpfs inside the sandbox (default:
        the repository and site-packages; root only).
    """

    def __init__(
        self,
        workers: int = 2,
        timeout: float = 2.0,
        memory_mb: int = 1024,
        max_processes: int = 8,
        max_files: int = 64,
        file_mb: int = 16,
        max_result_bytes: int = 4 << 20,
        hide: Sequence[str] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.workers = int(workers)
        self.timeout = float(timeout)
        self.limits = {
            "memory_bytes": int(memory_mb) << 20,
            "max_processes": int(max_processes),
            "max_files": int(max_files),
            "file_bytes": int(file_mb) << 20,
            "max_result_bytes": int(max_result_bytes),
        }
        self.hide = list(default_hidden_paths() if hide is None else hide)
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.jobs_done = 0  # jobs answered, and of those, jobs whose worker was lost (they count as failures)
        self.workers_lost = 0
        self._handles = [_Handle(self.hide, i) for i in range(self.workers)]
        try:
            for handle in self._handles:
                handle.spawn()
            for handle in self._handles:
                handle.handshake()
        except BaseException:
            for handle in self._handles:
                handle.kill()
            raise
        self._threads = [
            threading.Thread(target=self._dispatch, args=(h,), name=f"o1lite-sandbox-{h.index}", daemon=True)
            for h in self._handles
        ]
        for thread in self._threads:
            thread.start()
        self._finalizer = weakref.finalize(self, _kill_all, list(self._handles))

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Finish queued jobs, stop the workers (idempotent)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
        for thread in self._threads:
            thread.join()
        for handle in self._handles:
            handle.stop()
        self._finalizer.detach()

    @property
    def info(self) -> dict:
        """What isolation is active: uid switching, network and mount namespaces."""
        first = self._handles[0].info
        return {
            "workers": self.workers,
            "timeout": self.timeout,
            "separate_uid": first.get("uid") is not None,
            "network_namespace": bool(first.get("netns")),
            "mount_namespace": bool(first.get("mountns")),
            "notes": list(first.get("notes", [])),
        }

    def check_losses(self, max_fraction: float = 0.01) -> dict:
        """{"jobs", "workers_lost"} so far; raises `RuntimeError` (one line) when more than
        `max_fraction` of the jobs lost their worker: those programs were scored as failures
        for a reason that has nothing to do with them, and the numbers would be wrong."""
        counts = {"jobs": self.jobs_done, "workers_lost": self.workers_lost}
        if self.workers_lost > max_fraction * max(1, self.jobs_done):
            raise RuntimeError(f"the sandbox lost its worker on {self.workers_lost} of {self.jobs_done} jobs "
                               f"(more than {max_fraction:.0%}): results would count them as failures; "
                               "free memory or run with fewer WORKERS, then run the chapter again")
        return counts

    def worker_pids(self) -> list[int]:
        return [h.proc.pid if h.proc else -1 for h in self._handles]

    def worker_uids(self) -> list[int | None]:
        return [h.info.get("uid") for h in self._handles]

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, handle: _Handle) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                reply = handle.request(job)
            except WorkerLost as exc:
                reply = {"lost": str(exc)}
                self._respawn(handle)
            except BaseException as exc:  # never leave a future pending
                reply = {"lost": f"{type(exc).__name__}: {exc}"}
                self._respawn(handle)
            with self._count_lock:
                self.jobs_done += 1
                self.workers_lost += "lost" in reply
            future.set_result(reply)

    def _respawn(self, handle: _Handle) -> None:
        handle.kill()
        for attempt in range(3):
            try:
                handle.spawn()
                handle.handshake()
                return
            except (WorkerLost, RuntimeError, OSError) as exc:
                handle.kill()
                log.error("o1lite.sandbox: restarting worker %d failed (%s)", handle.index, exc)
                time.sleep(0.2 * (attempt + 1))

    def _submit(self, job: dict) -> Future:
        future: Future = Future()
        with self._close_lock:  # never behind close()'s stop markers, where no thread would take it
            if self._closed:
                raise RuntimeError("this Sandbox is closed")
            self._queue.put((job, future))
        return future

    def _job(self, mode: str, program: str, entry_point: str, **extra) -> dict:
        if not isinstance(program, str) or not isinstance(entry_point, str):
            raise TypeError("program and entry_point must be strings")
        return {"op": "run", "mode": mode, "program": program, "entry_point": entry_point,
                "timeout": self.timeout, **self.limits, **extra}

    def _call_job(self, program: str, entry_point: str, inputs: Iterable[Sequence[Any]]) -> dict:
        encoded = []
        for args in inputs:
            try:
                encoded.append(encode(tuple(args)))
            except CodecError as exc:
                raise ValueError(f"test inputs must be plain literals: {exc}") from None
        return self._job("call", program, entry_point, inputs=encoded)

    def _gather(self, jobs: list[dict]) -> list[dict]:
        futures = [self._submit(job) for job in jobs]
        return [future.result() for future in futures]

    # ------------------------------------------------------------------ public API
    def call(self, program: str, entry_point: str, inputs: Sequence[Sequence[Any]]) -> list[CallOutcome]:
        """Run `entry_point(*args)` for each args tuple; return what each call gave."""
        return self.call_many([(program, entry_point, inputs)])[0]

    def call_many(self, jobs: Sequence[tuple[str, str, Sequence[Sequence[Any]]]]) -> list[list[CallOutcome]]:
        """`call` for many programs at once, spread over the workers, order kept."""
        prepared = [(self._call_job(p, e, inputs), len(inputs)) for p, e, inputs in jobs]
        replies = self._gather([job for job, _ in prepared])
        return [interpret_calls(reply, n)[0] for reply, (_, n) in zip(replies, prepared)]

    def run_tests(self, program: str, entry_point: str, tests: Sequence) -> ProgramResult:
        """Decide literal test cases: the values come back, the comparison happens here."""
        return self.run_many([(program, entry_point, tests)])[0]

    def run_many(self, jobs: Sequence[tuple[str, str, Sequence]]) -> list[ProgramResult]:
        """`run_tests` for many programs at once, spread over the workers, order kept."""
        prepared = [(self._call_job(p, e, [tuple(t.args) for t in tests]), list(tests)) for p, e, tests in jobs]
        replies = self._gather([job for job, _ in prepared])
        return [_compared(reply, [t.expected for t in tests]) for reply, (_, tests) in zip(replies, prepared)]

    def run_stdio(self, program: str, tests: Sequence[tuple[str, str]]) -> ProgramResult:
        """Decide stdin/stdout tests: each `(stdin, expected_stdout)` runs the whole program.

        Only the inputs enter the child; what it printed comes back and is
        compared here, line by line, ignoring trailing spaces and trailing
        blank lines (`results.same_output`).
        """
        return self.run_stdio_many([(program, tests)])[0]

    def run_stdio_many(self, jobs: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> list[ProgramResult]:
        """`run_stdio` for many programs at once, spread over the workers, order kept."""
        prepared = []
        for program, tests in jobs:
            tests = [tuple(test) for test in tests]
            if not all(len(t) == 2 and isinstance(t[0], str) and isinstance(t[1], str) for t in tests):
                raise TypeError("stdio tests must be (stdin, expected_stdout) pairs of strings")
            prepared.append((self._job("stdio", program, "", inputs=[stdin for stdin, _ in tests]), tests))
        replies = self._gather([job for job, _ in prepared])
        return [_compared(reply, [out for _, out in tests], "stdio", same_output)
                for reply, (_, tests) in zip(replies, prepared)]

    def run_check(self, program: str, check_source: str, entry_point: str) -> ProgramResult:
        """Compatibility mode: run an assert-based `check(candidate)` inside the sandbox.

        FORGEABLE: the verdict is "check returned without raising", decided
        inside the child, so a program can fake it (patching `AssertionError`,
        returning objects whose `__eq__` is always True, writing a pass record
        itself). Use literal tests whenever a problem has them.
        """
        return self.run_checks([(program, check_source, entry_point)])[0]

    def run_checks(self, jobs: Sequence[tuple[str, str, str]]) -> list[ProgramResult]:
        """`run_check` for many programs at once."""
        replies = self._gather([self._job("check", p, e, check=c) for p, c, e in jobs])
        return [_check_result(reply) for reply in replies]

    def run_problem(self, problem, program: str) -> ProgramResult:
        """Run a complete program against a `Problem`: literal tests, else its check."""
        return self.run_problems([(problem, program)])[0]

    def run_problems(self, pairs: Sequence[tuple[Any, str]]) -> list[ProgramResult]:
        """`run_problem` for many (problem, program) pairs, order kept."""
        jobs, finishers = [], []
        for problem, program in pairs:
            if problem.literal_tests:
                tests = list(problem.tests)
                jobs.append(self._call_job(program, problem.entry_point, [tuple(t.args) for t in tests]))
                finishers.append(lambda reply, tests=tests: _compared(reply, [t.expected for t in tests]))
            elif problem.check:
                jobs.append(self._job("check", program, problem.entry_point, check=problem.check))
                finishers.append(_check_result)
            else:
                raise ValueError(f"{problem.task_id} has neither literal tests nor a check")
        replies = self._gather(jobs)
        return [finish(reply) for finish, reply in zip(finishers, replies)]


def _compared(reply: dict, expected: list, mode: str = "literal", equal=exact_equal) -> ProgramResult:
    """Verdicts from what came back, compared here with the expected values (printed text in stdio mode)."""
    calls, error = interpret_calls(reply, len(expected))
    outcomes = [compare(call, value, equal) for call, value in zip(calls, expected)]
    return ProgramResult(outcomes, mode=mode, error=error, elapsed=reply.get("elapsed", 0.0))


def _check_result(reply: dict) -> ProgramResult:
    outcome, error = interpret_check(reply)
    return ProgramResult([outcome], mode="check", error=error, elapsed=reply.get("elapsed", 0.0))


def _kill_all(handles: list[_Handle]) -> None:
    for handle in handles:
        handle.kill()
