"""Run untrusted programs and turn their behaviour into verifiable rewards.

    from o1lite.sandbox import Sandbox
    with Sandbox(workers=2, timeout=2.0) as sb:
        result = sb.run_tests(program, "add", [TestCase((1, 2), 3)])
        result.passed, result.pass_fraction, result.outcomes
        sb.run_stdio(script, [("1 2\n", "3\n")])   # stdin/stdout problems

How it works. Each of `workers` long-lived processes imports the common
standard modules once and forks a fresh child per program (no interpreter
start per program). The child runs the program and sends back only the
values the entry point returned (for stdin/stdout problems, `run_stdio`,
the text the program printed), in a strict exact-type encoding
(`o1lite.sandbox.codec`); this process decodes them and compares them with
the expected values, which never enter the child. Compatibility mode
(`run_check`) runs HumanEval-style assert checks inside the child instead.

What the sandbox guarantees, and what it does not
-------------------------------------------------

| Property | Status |
|---|---|
| A verdict needs the exact expected values, of the exact types (`type(x) is int`, nested): an `int` subclass or an object whose `__eq__` is always True fails | guaranteed (default mode) |
| Expected values never enter the child: scanning `gc`, walking frames or reading the evaluator's memory cannot find them | guaranteed (default mode) |
| No verdict crosses the boundary, only values: fake "PASS" markers or forged records on any descriptor cannot turn a wrong program into a pass | guaranteed (default mode) |
| stdin/stdout problems (`run_stdio`): only the inputs enter the child; the printed text comes back as a value and is compared here | guaranteed (default mode) |
| Zero executed tests, a missing result or a corrupt result stream is a failure (in compatibility mode: a check that never calls the candidate) | guaranteed |
| Wall-clock limit enforced from outside (SIGKILL of the process group) plus CPU-time, address-space, file-size and open-file limits | guaranteed |
| A process limit (fork bombs), counted per uid | only when the evaluator runs as root (the private uid) |
| Nothing left running afterwards: the worker is a child subreaper, and (as root) every process of the worker's private uid is killed after each program | guaranteed on Linux |
| stdin/stdout/stderr of the program go to /dev/null; no descriptor of the evaluator is inherited | guaranteed |
| A program cannot affect later programs through memory (a fresh fork each time) or its working directory (emptied after each run) | guaranteed |
| A private uid per worker (as root): the program cannot signal the evaluator or read its 0600 files | only when the evaluator runs as root |
| No network: a new network namespace per worker | when the kernel allows it (root); otherwise a warning, once |
| Private `/tmp`, `/var/tmp`, `/dev/shm`; the repository and site-packages hidden | when a mount namespace is available (root) |
| Compatibility mode (`run_check`): the verdict is decided inside the child, so it is FORGEABLE (patch `AssertionError`, always-equal objects, write a pass record) | NOT guaranteed |
| A security boundary against kernel exploits, container escapes or hardware attacks | NOT provided: use a VM or gVisor for hostile code |
| Protection from CPU side channels, timing leaks or resource contention between parallel programs | NOT provided |
| Services reachable through filesystem sockets or world-writable paths outside the private mounts | NOT prevented (mitigated by the private uid) |
| Determinism of programs that use randomness or time | partly: string hashing is fixed (`PYTHONHASHSEED=0`) and `random` starts from the same seeded state in every child; time, `os.urandom` and `secrets` are not fixed |
| A program choosing what values it returns (hard-coding the answers shown in its prompt) | NOT prevented: that is a test-quality problem |
| Portability beyond Linux | NOT provided (needs fork, pidfd, prctl) |

`ExecutionReward` is the sandbox as a reward function in TRL's signature
(`o1lite.sandbox.reward`).

Importing this package is cheap: no torch, no numpy.
"""

from .codec import CodecError
from .pool import Sandbox, WorkerLost, default_hidden_paths
from .results import CallOutcome, ProgramResult, TestOutcome, exact_equal
from .reward import ExecutionReward, decode_tests, encode_tests

__all__ = [
    "Sandbox",
    "ProgramResult",
    "TestOutcome",
    "CallOutcome",
    "CodecError",
    "WorkerLost",
    "exact_equal",
    "ExecutionReward",
    "encode_tests",
    "decode_tests",
    "default_hidden_paths",
]
