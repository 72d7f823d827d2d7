"""The long-lived worker: imports once, forks a fresh child per program.

A worker is started by `Sandbox` as `python -S -s -B -c ...` and talks to it over
its stdin/stdout with length-prefixed pickles (both ends are trusted code).
At start it

1. takes a sandbox uid of its own (a slot guarded by an `flock`) when it runs
   as root, and kills anything left running under that uid;
2. becomes a child subreaper, so every descendant of its children, however
   daemonised, is re-parented to it and can be found and killed;
3. moves into a new network namespace (no interfaces but a down loopback)
   and a private mount namespace where `/tmp`, `/var/tmp` and `/dev/shm` are
   small private tmpfs mounts and the evaluator's own tree (the repository,
   site-packages) is covered by an empty read-only tmpfs;
4. imports the standard modules programs commonly use, seeds `random` with
   0, readies the compiler (see `preload`), sets what every child shares
   (stdin/stdout on /dev/null, the working directory, no-new-privileges) and
   `gc.freeze()`s.

Per program it forks a child which drops into its own session, closes every
descriptor but a fresh result pipe, sets resource limits, switches to the
sandbox uid and runs the program. The child writes framed records (see
`_record`) to the pipe; the worker forwards the raw bytes, the child's exit
status and whether the wall-clock limit was hit. Decoding and comparing
happen in the parent, which alone knows the expected values.

Speed. A fork is most of the cost of a program, so the worker keeps what a
fork copies small: it loads only its own two modules (not the `o1lite`
package) and a short list of standard modules, and it forks with libc's
`fork` rather than `os.fork`, which would run the interpreter's at-fork hooks
(threading's bookkeeping, random's reseeding) in every child. That is safe
because the worker has a single thread, which it checks at start. Children
therefore share the worker's `random` state: a program that uses `random`
without seeding it sees the same stream in every run. What is left is mostly
the kernel's: on the reference VM a child takes about 300 copy-on-write page
faults (about 3 us each) for a HumanEval program, and the worker about 130
(see `benchmarks/sandbox_bench.py` for what that costs against no isolation).
"""

from __future__ import annotations

import builtins
import ctypes
import errno
import fcntl
import gc
import io
import os
import pickle
import resource
import select
import signal
import struct
import sys
import time

from o1lite.sandbox.codec import CodecError, decode, encode

# --- standard modules that programs commonly import (loaded once, shared by fork)
PRELOAD = (
    "bisect", "collections", "copy", "functools", "heapq", "itertools", "math", "operator", "re",
    "random", "string", "typing",
)

# --- framed records written by the child: kind (u8), test index (u32), payload length (u32)
RECORD = struct.Struct("<BII")
K_HELLO, K_VALUE, K_RAISED, K_MEMORY, K_BADVALUE, K_SETUP, K_PASSED, K_END = range(8)

# --- exit codes of a child whose setup (before any program code) failed
EXIT_SETUP_FAILED = 121

UID_BASE = 1_864_000_000
UID_SLOTS = 4096
LOCK_DIR = "/tmp/o1lite-sandbox-slots"

PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)
# libc's fork called with the GIL held: unlike os.fork it runs none of the interpreter's
# at-fork hooks (threading's bookkeeping, random's reseeding, logging's lock resets), which
# cost about half a millisecond per program on a small VM. Safe only in a process that has
# a single thread, which the worker is.
_raw_fork = ctypes.PyDLL(None, use_errno=True).fork
_fork = _raw_fork  # os.fork if the worker ever finds a second thread of its own (see main)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int) -> None:
    """`prctl(option, arg)`; an OSError that names the reason when the kernel refuses (also used by `o1lite.pool`)."""
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), "prctl")


def _mount(source, target, fstype, flags, data) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


# --------------------------------------------------------------------------- IPC
def read_message(fd: int):
    """Read one length-prefixed pickle from `fd`; None at end of file."""
    header = _read_exact(fd, 8)
    if header is None:
        return None
    (size,) = struct.unpack("<Q", header)
    body = _read_exact(fd, size)
    if body is None:
        return None
    return pickle.loads(body)


def write_message(fd: int, message) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(struct.pack("<Q", len(body)) + body)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exact(fd: int, size: int):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- worker set-up
class Worker:
    def __init__(self) -> None:
        self.is_root = os.geteuid() == 0
        self.uid: int | None = None
        self.netns = False
        self.mountns = False
        self.notes: list[str] = []
        self._lock_fd = None
        self.workdir = ""
        self.scratch: list[str] = []
        devnull = os.open(os.devnull, os.O_RDWR)
        self.devnull = fcntl.fcntl(devnull, fcntl.F_DUPFD_CLOEXEC, 20)  # well away from 0-3
        os.close(devnull)
        self.max_fd = max(256, min(os.sysconf("SC_OPEN_MAX"), 1 << 16))
        self.set_undumpable = True

    # -- uid slot: unique among all sandboxes on this machine while this worker lives
    def take_uid(self, prefer: int | None = None) -> None:
        if not self.is_root:
            self.notes.append(
                "not running as root: programs run under your own uid (no per-sandbox uid, "
                "no process-count limit, no namespaces); they can signal and read what you can"
            )
            return
        os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
        start = os.getpid() % UID_SLOTS
        if prefer is not None and UID_BASE <= prefer < UID_BASE + UID_SLOTS:
            start = prefer - UID_BASE  # a restarted worker sweeps its predecessor's uid
        for step in range(UID_SLOTS):
            slot = (start + step) % UID_SLOTS
            fd = os.open(os.path.join(LOCK_DIR, f"slot-{slot}"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._lock_fd, self.uid = fd, UID_BASE + slot
            self.kill_uid()
            return
        raise RuntimeError("no free sandbox uid slot")

    def isolate(self, hide: list[str]) -> None:
        try:
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        except OSError as exc:
            self.notes.append(f"no child subreaper ({exc.strerror}): daemonised grandchildren are found by uid only")
        if not self.is_root:
            return
        try:
            _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
            self.netns = True
        except OSError as exc:
            self.notes.append(f"no network namespace ({exc.strerror}): programs can reach the network")
        try:
            _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
            _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
            self.mountns = True
        except OSError as exc:
            self.notes.append(f"no mount namespace ({exc.strerror}): /tmp is shared and the evaluator's files stay visible")
            return
        keep = [os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)]
        for path in ("/tmp", "/var/tmp", "/dev/shm"):
            if os.path.isdir(path) and not any(_inside(k, path) for k in keep):
                try:
                    _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
                    self.scratch.append(path)
                except OSError as exc:
                    self.notes.append(f"could not mount a private {path}: {exc.strerror}")
        # Stdlib directories the sandbox uid cannot reach (e.g. under a 0700 home) are
        # bind-mounted read-only to a reachable place and sys.path is pointed there.
        self._expose_stdlib()
        for path in hide:
            path = os.path.realpath(path)
            if not os.path.isdir(path) or any(_inside(k, path) for k in sys.path if k):
                continue
            try:
                _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")
            except OSError as exc:
                self.notes.append(f"could not hide {path}: {exc.strerror}")

    def _expose_stdlib(self) -> None:
        if "/tmp" not in self.scratch:
            return
        mapped = []
        for index, path in enumerate(sys.path):
            if not path or not os.path.isdir(path) or _world_reachable(path):
                mapped.append(path)
                continue
            target = f"/tmp/.o1lite-lib-{index}"
            try:
                os.makedirs(target, mode=0o755, exist_ok=True)
                _mount(path, target, None, MS_BIND | MS_REC, None)
                _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
                mapped.append(target)
            except OSError as exc:
                self.notes.append(f"stdlib at {path} is not readable by the sandbox uid: {exc.strerror}")
                mapped.append(path)
        sys.path[:] = mapped
        sys.path_importer_cache.clear()

    def make_workdir(self) -> None:
        """A private working directory inside a directory the program cannot write.

        The program owns `run/` (it may fill it), but not its parent, so it can
        neither remove nor replace the directory later programs start in.
        """
        base = "/tmp" if "/tmp" in self.scratch else None
        if base is None:
            import tempfile

            base = tempfile.mkdtemp(prefix="o1lite-sandbox-")
        self._own_base = None if base == "/tmp" else base
        home = os.path.join(base, ".o1lite") if base == "/tmp" else base
        os.makedirs(home, mode=0o711, exist_ok=True)
        os.chmod(home, 0o711)
        self.workdir = os.path.join(home, "run")
        self.ensure_workdir()
        os.chdir(self.workdir)  # children start here: inherited, not set per program

    def ensure_workdir(self) -> None:
        """(Re)create the working directory if it is missing or was replaced (by a link, say)."""
        if os.path.isdir(self.workdir) and not os.path.islink(self.workdir):
            return
        _remove(self.workdir)
        os.mkdir(self.workdir, 0o700)
        if self.uid is not None:
            os.chown(self.workdir, self.uid, self.uid)
        os.chdir(self.workdir)

    # -- cleaning between programs
    def clean_files(self) -> None:
        self.ensure_workdir()  # before emptying it: never follow a link a program left there
        _empty_dir(self.workdir)
        for path in self.scratch:
            try:
                names = os.listdir(path)
            except OSError:
                continue
            for name in names:
                full = os.path.join(path, name)
                if name == ".o1lite" or name.startswith(".o1lite-lib-"):
                    continue
                _remove(full)

    def kill_uid(self) -> None:
        """SIGKILL every process of the sandbox uid (a forked helper does kill(-1))."""
        if self.uid is None:
            return
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(self.uid)
                os.setuid(self.uid)
                for _ in range(3):
                    try:
                        os.kill(-1, signal.SIGKILL)
                    except OSError:
                        pass
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

    def reap_leftovers(self) -> int:
        """Kill and reap every remaining descendant; return how many were found alive."""
        found = 0
        for _ in range(100):
            alive = False
            while True:
                try:
                    pid, _status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return found
                if pid == 0:
                    alive = True
                    break
            if alive:
                found += 1
                if self.uid is not None:
                    self.kill_uid()
                else:
                    for child in _children(os.getpid()):
                        try:
                            os.kill(child, signal.SIGKILL)
                        except OSError:
                            pass
                time.sleep(0.001)
        return found

    # -- one program
    def limits(self, job: dict) -> list:
        """The resource limits of a child, built here so the child only applies them."""
        cpu = int(job["timeout"]) + 1
        limits = [
            (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_AS, (job["memory_bytes"],) * 2),
            (resource.RLIMIT_FSIZE, (job["file_bytes"],) * 2),
            (resource.RLIMIT_NOFILE, (job["max_files"],) * 2),
            (resource.RLIMIT_CORE, (0, 0)),
        ]
        if self.uid is not None:
            limits.append((resource.RLIMIT_NPROC, (job["max_processes"],) * 2))
        return limits

    def run(self, job: dict) -> dict:
        timeout = float(job["timeout"])
        cap = int(job["max_result_bytes"])
        nonce = os.urandom(16)
        limits = self.limits(job)
        rfd, wfd = os.pipe()
        started = time.monotonic()
        pid = _fork()
        if pid < 0:
            os.close(rfd)
            os.close(wfd)
            raise OSError(ctypes.get_errno(), "fork failed")
        if pid == 0:  # pragma: no cover - the child never returns
            os.close(rfd)
            _child(self, job, limits, wfd, nonce)
        os.close(wfd)
        os.set_blocking(rfd, False)
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        poller.register(rfd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        chunks, size, timed_out, overflow, exited = [], 0, False, False, False
        deadline = started + timeout
        while not exited:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for fd, _event in poller.poll(left * 1000):
                if fd == pidfd:
                    exited = True
                else:
                    size, overflow, eof = _drain(rfd, chunks, size, cap)
                    if eof:
                        poller.unregister(rfd)
            if overflow:
                break  # stop reading; the child is killed below
        elapsed = time.monotonic() - started
        # Kill the whole group before reaping, so the pid cannot have been reused.
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except OSError:
                pass
        _pid, status = os.waitpid(pid, 0)
        os.close(pidfd)
        if not overflow:
            size, overflow, _eof = _drain(rfd, chunks, size, cap)
        os.close(rfd)
        leftovers = self.reap_leftovers()
        self.clean_files()
        if os.WIFSIGNALED(status):
            exit_info = ("signal", os.WTERMSIG(status))
        else:
            exit_info = ("exit", os.WEXITSTATUS(status))
        return {
            "raw": b"".join(chunks),
            "nonce": nonce,
            "exit": exit_info,
            "timed_out": timed_out,
            "overflow": overflow,
            "elapsed": elapsed,
            "leftovers": leftovers,
        }

    def shutdown(self) -> None:
        self.reap_leftovers()
        self.kill_uid()
        if getattr(self, "_own_base", None):
            import shutil

            shutil.rmtree(self._own_base, ignore_errors=True)


def _inside(path: str, mount_point: str) -> bool:
    path, mount_point = os.path.realpath(path), os.path.realpath(mount_point)
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def _world_reachable(path: str) -> bool:
    path = os.path.realpath(path)
    parts = path.split("/")
    for i in range(2, len(parts) + 1):
        prefix = "/".join(parts[:i]) or "/"
        try:
            mode = os.stat(prefix).st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return bool(os.stat(path).st_mode & 0o004)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _drain(fd: int, chunks: list, size: int, cap: int) -> tuple[int, bool, bool]:
    """Read what the pipe holds now: (new size, over the cap, end of file)."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return size, False, False
        if not chunk:
            return size, False, True
        size += len(chunk)
        if size > cap:
            return size, True, False
        chunks.append(chunk)


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil  # rarely needed: not loaded into every worker

            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def _empty_dir(path: str) -> None:
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        _remove(os.path.join(path, name))


# --------------------------------------------------------------------------- the child
def _child(worker: Worker, job: dict, limits: list, wfd: int, nonce: bytes) -> None:
    """Runs in the forked child; never returns.

    What every child needs alike is set once in the worker and inherited:
    stdin/stdout on /dev/null, the working directory, no-new-privileges. Only
    what must differ per program happens here.
    """
    try:
        os.setsid()
        os.dup2(worker.devnull, 2)
        if wfd != 3:
            os.dup2(wfd, 3)
            os.close(wfd)
        os.closerange(4, worker.max_fd)
        for which, value in limits:
            resource.setrlimit(which, value)
        if worker.uid is not None:
            os.setgroups([])
            os.setgid(worker.uid)
            os.setuid(worker.uid)
        if worker.set_undumpable:
            prctl(PR_SET_DUMPABLE, 0)
    except BaseException:
        os._exit(EXIT_SETUP_FAILED)
    try:
        _run_program(job, nonce)
    finally:
        os._exit(0)


def _record(kind: int, index: int = 0, payload: bytes = b"", _len=len, _pack=RECORD.pack, _write=os.write,
            _view=memoryview) -> None:
    # Bound at import time, so a program that replaces builtins.len or os.write does not
    # garble the framing of its own results (it could still do so on purpose: self-harm only).
    data = _view(_pack(kind, index, _len(payload)) + payload)
    while data:
        data = data[_write(3, data):]


def _describe(exc: BaseException) -> bytes:
    try:
        name = type.__dict__["__qualname__"].__get__(type(exc))
    except BaseException:
        name = "BaseException"
    try:
        message = str(exc)[:300]
    except BaseException:
        message = ""
    return f"{name[:100]}\n{message}".encode("utf-8", "replace")


def _setup_failed(exc: BaseException, description: bytes = b"") -> None:
    """The program could not be set up (syntax error, no entry point...): say why, for every test."""
    _record(K_SETUP, 0, b"MemoryError\n" if isinstance(exc, MemoryError) else description or _describe(exc))
    _record(K_END)


def _run_program(job: dict, nonce: bytes) -> None:
    _record(K_HELLO, 0, nonce)
    if job["mode"] == "stdio":
        _run_stdio(job)
        return
    namespace = {"__name__": "o1lite_program", "__builtins__": builtins}
    try:
        exec(compile(job["program"], "<program>", "exec"), namespace)
        if job["mode"] == "check":
            exec(compile(job["check"], "<check>", "exec"), namespace)
            checker = namespace["check"]
        function = namespace[job["entry_point"]]
    except KeyError as exc:
        _setup_failed(exc, f"NameError\n{exc} is not defined".encode("utf-8", "replace"))
        return
    except BaseException as exc:
        _setup_failed(exc)
        return
    if job["mode"] == "check":
        calls = [0]

        def candidate(*args, **kwargs):  # counts calls: a check that never calls it tested nothing
            calls[0] += 1
            return function(*args, **kwargs)

        try:
            checker(candidate)
        except MemoryError:
            _record(K_MEMORY, 0)
        except BaseException as exc:
            _record(K_RAISED, 0, _describe(exc))
        else:
            if calls[0]:
                _record(K_PASSED, 0)
            else:
                _record(K_RAISED, 0, b"NoTestRun\ncheck() returned without calling the candidate")
        _record(K_END)
        return
    limit = job["max_result_bytes"]
    for index, encoded in enumerate(job["inputs"]):
        try:
            args = decode(encoded)
            value = function(*args)
        except MemoryError:
            _record(K_MEMORY, index)
            continue
        except BaseException as exc:
            _record(K_RAISED, index, _describe(exc))
            continue
        try:
            payload = encode(value, limit)
        except CodecError as exc:
            _record(K_BADVALUE, index, str(exc).encode("utf-8", "replace"))
        except (RecursionError, MemoryError) as exc:
            _record(K_BADVALUE, index, type(exc).__name__.encode())
        else:
            _record(K_VALUE, index, payload)
        del value
    _record(K_END)


class _Output(io.BytesIO):
    """What a program prints; a write past `limit` bytes fails (and is remembered)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.over = False

    def write(self, data) -> int:
        if self.tell() + memoryview(data).nbytes > self.limit:
            self.over = True
            raise OSError(errno.EFBIG, "output larger than the sandbox's result cap")
        return super().write(data)


def _run_stdio(job: dict) -> None:
    """stdin/stdout problems: run the whole program once per test, stdin given, stdout kept.

    Each test gets a fresh `__main__` namespace, `sys.stdin` holding its input
    and a `sys.stdout` that collects what it prints (text or `.buffer`
    bytes); the printed text is sent back as a value, and compared in the parent.
    `sys.exit()` / `sys.exit(0)` end a run normally, like a process exit.
    """
    limit = job["max_result_bytes"]
    try:
        code = compile(job["program"], "<program>", "exec")
    except BaseException as exc:
        _setup_failed(exc)
        return
    for index, text in enumerate(job["inputs"]):
        output = _Output(limit)
        printed = io.TextIOWrapper(output, encoding="utf-8", errors="replace", write_through=True)
        sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8", "replace")), encoding="utf-8")
        sys.stdout = printed
        failure = None
        try:
            exec(code, {"__name__": "__main__", "__builtins__": builtins})
        except SystemExit as exc:
            try:
                normal = exc.code is None or exc.code == 0
            except BaseException:
                normal = False
            if not normal:
                failure = exc
        except MemoryError:
            _record(K_MEMORY, index)
            continue
        except BaseException as exc:
            failure = exc
        try:
            printed.flush()
        except BaseException:
            pass
        if output.over:
            _record(K_RAISED, index, f"OutputTooLarge\nprinted more than {limit} bytes".encode())
        elif failure is not None:
            _record(K_RAISED, index, _describe(failure))
        else:
            try:
                _record(K_VALUE, index, encode(output.getvalue().decode("utf-8", "replace"), limit))
            except (CodecError, MemoryError) as exc:
                _record(K_BADVALUE, index, type(exc).__name__.encode())
    _record(K_END)


# --------------------------------------------------------------------------- main loop
def preload() -> None:
    """Do once, in the worker, what every child would otherwise do first.

    Imports the standard modules in PRELOAD and seeds `random` with 0 (children
    share its state: the same stream in every run). It also calls `compile()`
    once: the first call in a process builds the interpreter's AST types (about
    1.3 ms and 180 page faults here). Importing this module from source does
    that as a side effect, but importing it from a cached .pyc does not; then
    every child paid for it, and the sandbox checked HumanEval a third slower.
    """
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    if "random" in sys.modules:
        sys.modules["random"].seed(0)
    compile("pass", "<preload>", "exec")


def main() -> None:
    package_root = sys.path[0]
    worker = Worker()
    os.umask(0o022)
    # The protocol moves to descriptors 10 and 11; 0 and 1 become /dev/null, which is
    # what every child inherits (nothing but protocol bytes may reach the parent).
    request_fd, reply_fd = 11, 10
    os.dup2(0, request_fd)
    os.dup2(1, reply_fd)
    os.dup2(worker.devnull, 0)
    os.dup2(worker.devnull, 1)
    preload()
    global _fork
    if len(os.listdir("/proc/self/task")) != 1:
        _fork = os.fork  # libc's fork is only safe in a single-threaded process
    config = read_message(request_fd)
    if config is None:
        return
    hide = list(config.get("hide", []))
    try:
        worker.take_uid(config.get("prefer_uid"))
        if package_root in sys.path:
            sys.path.remove(package_root)
        worker.isolate(hide)
        worker.make_workdir()
    except BaseException as exc:  # report, then exit
        write_message(reply_fd, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        # Inherited by every child, so set once. Changing uid already makes a process
        # undumpable when the system's suid_dumpable is 0; children set it otherwise.
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        with open("/proc/sys/fs/suid_dumpable") as handle:
            worker.set_undumpable = worker.uid is None or handle.read().strip() != "0"
    except OSError as exc:
        write_message(reply_fd, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    # The environment children inherit: set once here, not per program.
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": worker.workdir, "TMPDIR": worker.workdir,
                       "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"})
    gc.collect()
    gc.freeze()
    write_message(
        reply_fd,
        {
            "ok": True,
            "pid": os.getpid(),
            "uid": worker.uid,
            "netns": worker.netns,
            "mountns": worker.mountns,
            "notes": worker.notes,
        },
    )
    try:
        while True:
            try:
                job = read_message(request_fd)
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                break
            if job is None or job.get("op") == "exit":
                break
            if job.get("op") == "ping":
                write_message(reply_fd, {"pong": True})
                continue
            write_message(reply_fd, worker.run(job))
    except BrokenPipeError:
        pass
    finally:
        worker.shutdown()


if __name__ == "__main__":
    main()
