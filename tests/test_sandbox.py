"""Ordinary behaviour of the sandbox: verdicts, codec, batching, threads, recovery, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import process_gone

from o1lite.problems.base import Problem, TestCase
from o1lite.sandbox import CodecError, Sandbox, exact_equal
from o1lite.sandbox import codec
from o1lite.sandbox.cli import main as cli_main
from o1lite.sandbox.cli import pass_at_k

ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def sb():
    with Sandbox(workers=2, timeout=2.0) as sandbox:
        yield sandbox


# ------------------------------------------------------------------ verdicts
def test_correct_program_passes(sb):
    result = sb.run_tests(ADD, "add", [TestCase((1, 2), 3), TestCase(("a", "b"), "ab"), TestCase(([1], [2]), [1, 2])])
    assert result.passed
    assert result.pass_fraction == 1.0
    assert [o.status for o in result.outcomes] == ["passed"] * 3


def test_wrong_answer_reports_the_value(sb):
    result = sb.run_tests("def add(a, b):\n    return a - b\n", "add", [TestCase((5, 2), 7), TestCase((0, 0), 0)])
    assert not result.passed
    assert result.pass_fraction == 0.5
    first = result.outcomes[0]
    assert first.status == "wrong_answer"
    assert first.value == 3 and first.detail == "3"
    assert result.outcomes[1].status == "passed"


def test_exception_reports_the_type(sb):
    program = "def f(x):\n    if x:\n        raise KeyError('boom')\n    return 1\n"
    result = sb.run_tests(program, "f", [TestCase((True,), 1), TestCase((False,), 1)])
    assert result.outcomes[0].status == "error"
    assert result.outcomes[0].detail == "KeyError"
    assert "boom" in result.outcomes[0].message
    assert result.outcomes[1].status == "passed"


def test_syntax_error_and_missing_entry_point_fail_every_test(sb):
    bad = sb.run_tests("def add(a, b)\n    return a + b\n", "add", [TestCase((1, 2), 3)] * 2)
    assert not bad.passed and bad.error == "SyntaxError"
    assert [o.detail for o in bad.outcomes] == ["SyntaxError", "SyntaxError"]
    missing = sb.run_tests(ADD, "plus", [TestCase((1, 2), 3)])
    assert not missing.passed and missing.outcomes[0].detail == "NameError"


def test_zero_tests_is_never_a_pass(sb):
    result = sb.run_tests(ADD, "add", [])
    assert not result.passed
    assert result.pass_fraction == 0.0


@pytest.mark.parametrize(
    "returned, expected",
    [("True", 1), ("1.0", 1), ("[1, 2]", (1, 2)), ("(1,)", [1]), ("{1: True}", {1: 1}), ("[[1.0]]", [[1]])],
)
def test_equal_values_of_other_types_do_not_pass(sb, returned, expected):
    result = sb.run_tests(f"def f():\n    return {returned}\n", "f", [TestCase((), expected)])
    assert result.outcomes[0].status == "wrong_answer"


def test_timeout_is_reported_and_later_tests_are_not_run(sb):
    program = "def f(x):\n    while x:\n        pass\n    return 0\n"
    start = time.monotonic()
    result = sb.run_tests(program, "f", [TestCase((0,), 0), TestCase((1,), 0), TestCase((0,), 0)])
    assert time.monotonic() - start < 2.0 + 3.0
    assert [o.status for o in result.outcomes] == ["passed", "timeout", "timeout"]
    assert result.outcomes[2].detail == "NotRun"


def test_memory_limit_is_reported():
    with Sandbox(workers=1, timeout=3.0, memory_mb=256) as small:
        result = small.run_tests("def f():\n    return len(bytearray(600 * 2**20))\n", "f", [TestCase((), 1)])
    assert result.outcomes[0].status == "memory"


def test_arguments_are_fresh_for_every_test(sb):
    program = "def f(xs):\n    xs.append(1)\n    return len(xs)\n"
    result = sb.run_tests(program, "f", [TestCase(([],), 1), TestCase(([],), 1)])
    assert result.passed


def test_call_returns_values_and_errors(sb):
    outs = sb.call("def sq(x):\n    return 1 // x if x == 0 else x * x\n", "sq", [(3,), (0,), (1.5,)])
    assert [o.status for o in outs] == ["ok", "error", "ok"]
    assert outs[0].value == 9 and type(outs[0].value) is int
    assert outs[1].detail == "ZeroDivisionError"
    assert outs[2].value == 2.25
    with pytest.raises(ValueError):
        sb.call(ADD, "add", [(object(), 1)])


def test_call_many_keeps_order(sb):
    jobs = [(f"def f(x):\n    return x + {i}\n", "f", [(i,), (0,)]) for i in range(12)]
    outs = sb.call_many(jobs)
    assert [[o.value for o in row] for row in outs] == [[2 * i, i] for i in range(12)]


def test_run_many_keeps_order_across_workers(sb):
    jobs = []
    for i in range(20):
        body = "return a + b" if i % 3 else "return a * b"
        jobs.append((f"def add(a, b):\n    {body}\n", "add", [TestCase((i, 2), i + 2)]))
    results = sb.run_many(jobs)
    assert [r.passed for r in results] == [i % 3 != 0 or i == 2 for i in range(20)]


def test_thread_safety(sb):
    errors, lock = [], threading.Lock()

    def hammer(k: int) -> None:
        for i in range(8):
            value = k * 100 + i
            result = sb.run_tests(f"def f():\n    return {value}\n", "f", [TestCase((), value)])
            wrong = sb.run_tests(f"def f():\n    return {value + 1}\n", "f", [TestCase((), value)])
            if not result.passed or wrong.passed or wrong.outcomes[0].value != value + 1:
                with lock:
                    errors.append((k, i))

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_programs_may_use_threads_and_fork(sb):
    # Children are forked without the interpreter's at-fork hooks: threads and a
    # program's own fork must still work normally.
    program = (
        "import os, threading\n"
        "def f():\n"
        "    out = []\n"
        "    worker = threading.Thread(target=lambda: out.append(threading.current_thread() is threading.main_thread()))\n"
        "    worker.start()\n"
        "    worker.join()\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(7)\n"
        "    _, status = os.waitpid(pid, 0)\n"
        "    return [out, os.waitstatus_to_exitcode(status), threading.current_thread() is threading.main_thread()]\n"
    )
    outs = sb.call(program, "f", [()])
    assert outs[0].status == "ok" and outs[0].value == [[False], 7, True]


def test_random_starts_from_the_same_state_in_every_program(sb):
    program = "import random\ndef f():\n    return [random.random(), random.randrange(10**9)]\n"
    values = [outs[0].value for outs in sb.call_many([(program, "f", [()])] * 6)]  # both workers
    assert len({repr(v) for v in values}) == 1
    import random

    expected = random.Random(0)
    assert values[0] == [expected.random(), expected.randrange(10**9)]


def test_a_program_cannot_take_away_the_working_directory(sb):
    vandal = (
        "import os, shutil\n"
        "def f():\n"
        "    here = os.getcwd()\n"
        "    os.chdir('/')\n"
        "    shutil.rmtree(here, ignore_errors=True)\n"
        "    try:\n"
        "        os.rmdir(here)\n"
        "        os.symlink('/etc', here)\n"
        "    except OSError:\n"
        "        pass\n"
        "    return here\n"
    )
    writer = (
        "import os\n"
        "def f():\n"
        "    with open('note.txt', 'w') as handle:\n"
        "        handle.write('ok')\n"
        "    return [os.getcwd(), os.path.islink(os.getcwd()), sorted(os.listdir('.'))]\n"
    )
    for _ in range(2):  # on both workers
        first, second = sb.call_many([(vandal, "f", [()]), (writer, "f", [()])])
        assert first[0].status == "ok" and second[0].status == "ok", (first[0], second[0])
        cwd, is_link, names = second[0].value
        assert os.path.basename(cwd) == os.path.basename(first[0].value) and not is_link and names == ["note.txt"]


def test_compat_mode_runs_checks_and_is_forgeable(sb):
    check = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n"
    good = sb.run_check("def sq(x):\n    return x * x\n", check, "sq")
    bad = sb.run_check("def sq(x):\n    return x + 2\n", check, "sq")
    assert good.passed and good.mode == "check"
    assert not bad.passed and bad.outcomes[0].status == "wrong_answer"
    assert bad.outcomes[0].detail == "AssertionError"
    # An always-equal object fools an assert-based check (documented) but not the default mode.
    forged = "class Yes:\n    def __eq__(self, other):\n        return True\n\ndef sq(x):\n    return Yes()\n"
    assert sb.run_check(forged, check, "sq").passed
    assert not sb.run_tests(forged, "sq", [TestCase((2,), 4)]).passed


def test_compat_mode_check_that_never_calls_the_candidate_fails(sb):
    empty = sb.run_check("def f(x):\n    return 0\n", "def check(candidate):\n    assert True\n", "f")
    assert not empty.passed and empty.outcomes[0].detail == "NoTestRun"
    called = sb.run_check("def f(x):\n    return 0\n", "def check(candidate):\n    assert candidate(1) == 0\n", "f")
    assert called.passed


SUM = "import sys\ndef main():\n    a, b = map(int, input().split())\n    print(a + b)\nif __name__ == '__main__':\n    main()\n"


def test_stdio_compares_what_the_program_printed(sb):
    result = sb.run_stdio(SUM, [("1 2\n", "3\n"), ("5 5", "10"), ("2 2\n", "5\n")])
    assert result.mode == "stdio" and not result.passed
    assert [o.status for o in result.outcomes] == ["passed", "passed", "wrong_answer"]
    assert result.outcomes[2].value == "4\n" and result.outcomes[2].detail == repr("4\n")
    # Trailing spaces and trailing blank lines do not matter; other whitespace does.
    assert sb.run_stdio("print('a b  ')\nprint()\nprint()", [("", "a b\n")]).passed
    assert not sb.run_stdio("print('a  b')", [("", "a b\n")]).passed
    assert not sb.run_stdio("print('a')\nprint('b')", [("", "a b\n")]).passed


def test_stdio_binary_streams_exits_and_errors(sb):
    fast = (
        "import sys\n"
        "nums = list(map(int, sys.stdin.buffer.read().split()))\n"
        "sys.stdout.buffer.write(b' '.join(str(x * x).encode() for x in nums) + b'\\n')\n"
        "sys.exit(0)\n"
        "print('not reached')\n"
    )
    assert sb.run_stdio(fast, [("1 2 3\n", "1 4 9\n")]).passed
    outcomes = sb.run_stdio(SUM, [("1\n", "1\n"), ("", "0\n")]).outcomes
    assert [(o.status, o.detail) for o in outcomes] == [("error", "ValueError"), ("error", "EOFError")]
    failed_exit = sb.run_stdio("print(3)\nraise SystemExit(2)\n", [("", "3\n")])
    assert failed_exit.outcomes[0].status == "error" and failed_exit.outcomes[0].detail == "SystemExit"
    syntax = sb.run_stdio("print(3\n", [("", "3\n"), ("", "3\n")])
    assert syntax.error == "SyntaxError" and [o.detail for o in syntax.outcomes] == ["SyntaxError"] * 2
    assert not sb.run_stdio(SUM, []).passed  # zero tests is never a pass


def test_stdio_runs_every_test_in_a_fresh_namespace(sb):
    counter = "try:\n    seen += 1\nexcept NameError:\n    seen = 1\nprint(seen)\n"
    assert sb.run_stdio(counter, [("", "1"), ("", "1"), ("", "1")]).passed
    with pytest.raises(TypeError):
        sb.run_stdio(SUM, [("1 2", 3)])


def test_child_limits_are_set():
    program = (
        "import resource\n"
        "def f():\n"
        "    names = ['RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CORE', 'RLIMIT_NPROC']\n"
        "    return [resource.getrlimit(getattr(resource, n))[1] for n in names]\n"
    )
    with Sandbox(workers=1, timeout=2.5, memory_mb=300, max_files=40, file_mb=3, max_processes=6) as box:
        cpu, space, size, files, core, procs = box.call(program, "f", [()])[0].value
    assert (cpu, space, size, files, core) == (4, 300 << 20, 3 << 20, 40, 0)
    if os.geteuid() == 0:
        assert procs == 6


def test_run_problem_chooses_the_mode(sb):
    literal = Problem("t/0", "def inc(x):\n", "inc", "def inc(x):\n    return x + 1\n", [TestCase((1,), 2)], "unit")
    checked = Problem(
        "t/1", "def inc(x):\n", "inc", "", [], "unit", check="def check(c):\n    assert c(1) == 2\n"
    )
    program = "def inc(x):\n    return x + 1\n"
    results = sb.run_problems([(literal, program), (checked, program), (literal, "def inc(x):\n    return x\n")])
    assert [r.mode for r in results] == ["literal", "check", "literal"]
    assert [r.passed for r in results] == [True, True, False]
    assert sb.run_problem(literal, program).passed


def test_worker_death_gives_a_failed_verdict_and_a_new_worker():
    with Sandbox(workers=1, timeout=10.0) as one:
        old_pid = one.worker_pids()[0]
        holder = {}
        thread = threading.Thread(
            target=lambda: holder.update(r=one.run_tests("import time\ndef f():\n    time.sleep(8)\n    return 1\n", "f", [TestCase((), 1)]))
        )
        start = time.monotonic()
        thread.start()
        time.sleep(0.5)
        os.kill(old_pid, signal.SIGKILL)
        thread.join(timeout=9)
        assert not thread.is_alive()
        assert time.monotonic() - start < 5.0
        result = holder["r"]
        assert not result.passed and result.error == "WorkerLost"
        assert one.worker_pids()[0] != old_pid
        assert one.run_tests(ADD, "add", [TestCase((1, 1), 2)]).passed
        # the loss is counted: one of two jobs lost its worker, above any sane threshold
        assert one.check_losses(max_fraction=0.5) == {"jobs": 2, "workers_lost": 1}
        with pytest.raises(RuntimeError, match="lost its worker on 1 of 2 jobs"):
            one.check_losses()


def test_close_stops_workers_and_rejects_new_jobs():
    box = Sandbox(workers=2, timeout=1.0)
    pids = box.worker_pids()
    box.close()
    box.close()  # idempotent
    for pid in pids:
        assert process_gone(pid)
    with pytest.raises(RuntimeError):
        box.run_tests(ADD, "add", [TestCase((1, 1), 2)])


# ------------------------------------------------------------------ codec
@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -1, 2**200, -(2**70), 1.5, float("inf"), -0.0, 1 + 2j, "", "héllo\ud800", b"\x00\xff",
     [1, [2, (3, {4: "x"})]], (), {"a": {1, 2}, (1, 2): frozenset({3})}, set()],
)
def test_codec_round_trips_exact_types(value):
    back = codec.decode(codec.encode(value))
    assert exact_equal(back, value) or (value != value)
    if type(value) is float:
        assert str(back) == str(value)


def test_codec_rejects_subclasses_and_foreign_objects():
    class MyInt(int):
        pass

    for bad in (MyInt(3), [1, MyInt(2)], {"k": object()}, range(3), bytearray(b"x")):
        with pytest.raises(CodecError):
            codec.encode(bad)
    deep: list = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(CodecError):
        codec.encode(deep)
    with pytest.raises(CodecError):
        codec.encode("x" * 100, limit=50)


def test_codec_rejects_every_truncation_and_garbage():
    data = codec.encode([1, "abc", {2: (3.0, None)}, {4}])
    for cut in range(len(data)):
        with pytest.raises(CodecError):
            codec.decode(data[:cut])
    for junk in (b"x", b"l\xff\xff\xff\xff", data + b"N", b"S\x01\x00\x00\x00l\x00\x00\x00\x00", b"i\x05\x00\x00\x00"):
        with pytest.raises(CodecError):
            codec.decode(junk)


# ------------------------------------------------------------------ pass@k and CLI
def test_pass_at_k_matches_the_closed_form():
    from math import comb

    for n, c, k in [(10, 3, 1), (10, 3, 5), (20, 0, 10), (5, 5, 5), (200, 17, 100)]:
        assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def test_cli_happy_path(tmp_path, capsys):
    from o1lite.problems import load_problems

    problems = load_problems("humaneval")[:3]
    samples = tmp_path / "samples.jsonl"
    lines = []
    for p in problems:
        lines.append(json.dumps({"task_id": p.task_id, "completion": p.reference[len(p.prompt):]}))
        lines.append(json.dumps({"task_id": p.task_id, "completion": "    return None\n"}))
    _write(samples, lines)
    assert cli_main([str(samples), "--suite", "humaneval", "--workers", "2", "--timeout", "3"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores == {"pass@1": pytest.approx(0.5)}
    rows = [json.loads(x) for x in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == [json.loads(x)["task_id"] for x in lines]
    assert [r["passed"] for r in rows] == [True, False] * 3
    assert rows[0]["result"] == "passed" and rows[1]["result"].startswith("failed")


def test_cli_malformed_line_names_it_and_writes_nothing(tmp_path, capsys):
    samples = tmp_path / "samples.jsonl"
    _write(samples, [json.dumps({"task_id": "HumanEval/0", "completion": "    return 1\n"}), "{not json"])
    assert cli_main([str(samples), "--suite", "humaneval"]) == 2
    err = capsys.readouterr().err
    assert ":2:" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "samples.jsonl_results.jsonl").exists()
    _write(samples, [json.dumps({"task_id": "HumanEval/0"})])
    assert cli_main([str(samples), "--suite", "humaneval"]) == 2
    assert ":1:" in capsys.readouterr().err
    _write(samples, [json.dumps({"task_id": "Nope/1", "completion": ""})])
    assert cli_main([str(samples), "--suite", "humaneval"]) == 2
    assert "Nope/1" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [samples]


def test_cli_import_is_light():
    code = "import sys, o1lite.sandbox.cli; print(sorted(m for m in ('torch', 'numpy', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]"


def test_cli_evaluation_loads_no_torch(tmp_path):
    samples = tmp_path / "s.jsonl"
    _write(samples, [json.dumps({"task_id": "HumanEval/0", "completion": "    return False\n"})])
    code = (
        "import sys\n"
        "from o1lite.sandbox.cli import main\n"
        "assert main([sys.argv[1], '--workers', '1']) == 0\n"
        "print(sorted(m for m in ('torch', 'numpy', 'transformers', 'datasets') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(samples)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_cli_bad_input_gives_one_line_and_no_results(tmp_path, capsys):
    samples, good = tmp_path / "samples.jsonl", tmp_path / "good.jsonl"
    line = json.dumps({"task_id": "HumanEval/0", "completion": ""}).encode() + b"\n"
    samples.write_bytes(line + b"\xff{}\n")
    good.write_bytes(line)
    cases = [
        ([str(samples)], ":2: not UTF-8"),
        ([str(tmp_path / "absent.jsonl")], "cannot read"),
        ([str(good), "--split", "train"], "one split"),
        ([str(good), "--suite", "synthetic", "--problem-file", str(good)], "--problem-file"),
    ]
    for argv, expected in cases:
        assert cli_main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1, err
    with pytest.raises(SystemExit) as stop:
        cli_main([str(samples), "--suite", "nope"])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and "nope" in err
    assert sorted(tmp_path.iterdir()) == sorted([samples, good])


def test_cli_mbpp_from_a_local_file(tmp_path, capsys, monkeypatch):
    import o1lite.problems.mbpp as mbpp

    record = {"task_id": 42, "prompt": "Write a function to check whether a number is even.",
              "code": "def is_even(n):\n    return n % 2 == 0\n", "test_imports": [],
              "test_list": ["assert is_even(2) == True", "assert is_even(3) == False"]}
    local = tmp_path / "sanitized-mbpp.json"
    local.write_text(json.dumps([record]))
    problem = mbpp.load_mbpp("test", path=local)[0]
    samples = tmp_path / "samples.jsonl"
    _write(samples, [json.dumps({"task_id": problem.task_id, "completion": "    return n % 2 == 0\n"}),
                     json.dumps({"task_id": problem.task_id, "completion": "    return True\n"})])
    assert cli_main([str(samples), "--suite", "mbpp", "--problem-file", str(local), "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"pass@1": pytest.approx(0.5)}

    def offline(*_args, **_kwargs):
        raise mbpp.MBPPUnavailable(mbpp.UNAVAILABLE_HINT)

    monkeypatch.setattr(mbpp, "_hub_problems", offline)
    assert cli_main([str(samples), "--suite", "mbpp"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--problem-file" in err and "sanitized-mbpp.json" in err


def test_jobs_submitted_while_closing_run_or_are_refused():
    box = Sandbox(workers=2, timeout=1.0)
    outcomes, errors = [], []

    def client():
        for _ in range(20):
            try:
                outcomes.append(box.run_tests(ADD, "add", [TestCase((1, 1), 2)]).passed)
            except RuntimeError:
                errors.append(1)
                return

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    box.close()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a caller hangs after close()"
    assert all(outcomes) and len(outcomes) + len(errors) >= 4


def test_fork_bound_reports_each_programs_own_verdict():
    from o1lite.sandbox.bench import fork_bound_run

    right = ("def f():\n    return 1\n", "def check(c):\n    assert c() == 1\n", "f")
    wrong = ("def f():\n    return 2\n", "def check(c):\n    assert c() == 1\n", "f")
    verdicts, seconds = fork_bound_run([right, wrong, right, wrong, right], [0.001, 0.1, 0.002, 0.0, 0.05], workers=2)
    assert verdicts == [True, False, True, False, True] and seconds > 0


def test_children_inherit_a_ready_compiler_when_the_worker_loads_from_bytecode(tmp_path):
    # The first compile() of a process builds the AST types (a millisecond, hundreds of
    # page faults). Importing the worker from source does it by accident; from a cached
    # .pyc (Python's default) it does not, so preload() must, or every child pays again.
    import py_compile

    from o1lite.sandbox import pool

    package = tmp_path / "o1lite" / "sandbox"
    package.mkdir(parents=True)
    here = os.path.dirname(pool.__file__)
    for name in ("worker", "codec"):  # bytecode only: nothing is compiled at import
        py_compile.compile(os.path.join(here, f"{name}.py"), cfile=str(package / f"{name}.pyc"), doraise=True)
    probe = (
        "import gc\n"
        "ready = lambda: any(isinstance(o, type) and o.__module__ == 'ast' for o in gc.get_objects())\n"
        "before = ready()\n"
        "worker.preload()\n"
        "print(type(worker.__loader__).__name__, before, ready())\n"
    )
    boot = pool.worker_import(str(tmp_path)) + probe
    out = subprocess.run([sys.executable, "-S", "-s", "-B", "-c", boot], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["SourcelessFileLoader", "False", "True"]
