"""The search tree (selection, expansion, backup, labels) on scripted policies
with known rewards; the search on the real sandbox; data that survives a
crash and a kill."""

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from o1lite.stages import mcts
from o1lite.stages.mcts import ScriptedPolicy, SearchStep, Tree, Verdict
from o1lite.problems import Problem, TestCase, load_problems
from o1lite.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = Problem("toy/0", "def f(x):\n", "f", "def f(x):\n    return x\n", [TestCase((1,), 1)], "toy")


def code(name):
    return SearchStep(name, -1.0, True, f"program {name}", 2)


def thought(name):
    return SearchStep(name, -1.0, False, None, 2)


def judge_from(rewards):
    """A judge that looks the reward up by program; a reward of 1 passes all tests."""
    def judge(items):
        return [Verdict(rewards[prog], rewards[prog] == 1.0, rewards[prog] == 1.0, rewards[prog]) for _, prog, _ in items]
    return judge


def visited_each_simulation(tree, policy, judge, simulations):
    """Run one simulation at a time; return, per simulation, the root child whose visits grew."""
    chosen = []
    for _ in range(simulations):
        before = {i: tree.nodes[i].visits for i in tree.root.children}
        mcts.search([tree], policy, judge, simulations=1)
        grew = [tree.nodes[i].step for i in tree.root.children if tree.nodes[i].visits > before.get(i, 0)]
        assert len(grew) == 1
        chosen.append(grew[0])
    return chosen


def test_uct_score_is_the_papers_formula():
    assert mcts.uct_score(1.0, 0, 5) == math.inf
    assert mcts.uct_score(3.0, 2, 5, c=2.0) == pytest.approx(1.5 + 2 * math.sqrt(math.log(5) / 2))
    assert mcts.puct_score(3.0, 2, 9, prior=0.5, c=2.0) == pytest.approx(1.5 + 2 * 0.5 * 3 / 3)
    assert mcts.puct_score(0.0, 0, 4, prior=0.25, c=2.0, first_play=0.4) == pytest.approx(0.4 + 2 * 0.25 * 2)
    priors = mcts.step_priors([-2.0, -4.0, -2.0], [2, 2, 1])  # per-token means -1, -2, -2
    assert priors == pytest.approx([math.e / (math.e + 2), 1 / (math.e + 2), 1 / (math.e + 2)])


def test_depth_one_tree_takes_the_exact_uct_choices():
    policy = ScriptedPolicy({(): [code("x1"), code("x2"), code("x3")]})
    tree = Tree(PROBLEM, k=3, c=2.0)
    chosen = visited_each_simulation(tree, policy, judge_from({"program x1": 1.0, "program x2": 0.0, "program x3": 0.5}), 6)
    # unvisited first (in order); then sim 4: 3.096 / 2.096 / 2.596; sim 5: 2.665 / 2.355 / 2.855; sim 6: 2.794 / 2.537 / 2.294
    assert chosen == ["x1", "x2", "x3", "x1", "x3", "x1"]
    x1, x2, x3 = (tree.nodes[i] for i in tree.root.children)
    assert (x1.visits, x1.value_sum, x2.visits, x3.visits, x3.value_sum) == (3, 3.0, 1, 2, 1.0)
    assert tree.root.value == pytest.approx(4 / 6)
    assert policy.calls == 1  # one batched expansion; the rest are revisits
    assert tree.solution() is x1


def test_expansion_rollout_backup_and_labels_on_a_two_level_tree():
    script = {
        (): [thought("a"), thought("b"), thought("c")],
        ("a",): [code("a1"), code("a2"), code("a3")],
        ("b",): [code("b1"), code("b2"), code("b3")],
        ("c",): [code("c1"), code("c2"), code("c3")],
    }
    rewards = {"program a1": 1.0, "program a2": 0.0, "program a3": 0.0, "program b1": 0.0, "program b2": 0.0,
               "program b3": 0.0, "program c1": 0.5, "program c2": 1.0, "program c3": 0.0}
    policy = ScriptedPolicy(script)
    tree = Tree(PROBLEM, k=3, c=2.0)
    chosen = visited_each_simulation(tree, policy, judge_from(rewards), 5)
    assert chosen == ["a", "b", "c", "a", "c"]
    by_step = {n.step: n for n in tree.nodes[1:]}
    # sim 1: root gets 3 children, the rollout from `a` adds one child (a1); sim 4 tops `a` up with a2, a3
    assert [tree.nodes[i].step for i in by_step["a"].children] == ["a1", "a2", "a3"]
    assert {s: (n.visits, n.value) for s, n in by_step.items() if n.visits} == {
        "a": (2, 0.5), "b": (1, 0.0), "c": (2, 0.75), "a1": (1, 1.0), "a2": (1, 0.0), "b1": (1, 0.0),
        "c1": (1, 0.5), "c2": (1, 1.0)}
    assert (tree.root.visits, tree.root.value_sum) == (5, 2.5)
    assert tree.solution() is by_step["c2"]  # a and c tie on visits: c has the higher value

    record = tree.to_record()
    assert record["pass_at_1"] == 1.0
    assert record["aspr"] == pytest.approx(2 / 9)  # every sampled terminal counts, visited or not
    rows = {tuple(r["completions"]): r for r in mcts.trajectories([record], threshold=0.5)}
    assert set(rows) == {("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1"), ("c", "c2")}
    assert rows[("a", "a1")]["values"] == [0.5, 1.0] and rows[("a", "a1")]["labels"] == [False, True]
    assert rows[("c", "c1")]["labels"] == [True, False] and rows[("c", "c2")]["is_solution"]
    summary = mcts.summarize([record])
    assert summary["valid_step_fraction"]["value"] == pytest.approx(3 / 8)  # c, a1, c2 of 8 visited steps
    # rewarded by the reference tests already: re-scoring by them changes no value
    rescored = mcts.reference_values(record)
    assert all(rescored[n["id"]] == pytest.approx(n["value"]) for n in mcts.step_nodes(record))
    assert summary["valid_step_fraction_reference"]["value"] == pytest.approx(3 / 8)
    assert summary["reference_rewarded_problems"] == 1 and summary["tcg_rewarded_problems"] == 0
    assert mcts.correct_paths([record], by="reference") == [
        {"prompt": PROBLEM.prompt, "completion": "aa1"}, {"prompt": PROBLEM.prompt, "completion": "cc2"}]


def test_puct_prefers_the_likelier_unvisited_step():
    unlikely, likely = SearchStep("u", -9.0, True, "program u", 3), SearchStep("l", -0.3, True, "program l", 3)
    policy = ScriptedPolicy({(): [unlikely, likely]})
    tree = Tree(PROBLEM, k=2, c=2.0, rule="puct")
    mcts.search([tree], policy, judge_from({"program u": 0.0, "program l": 0.0}), simulations=2)
    u, l = (tree.nodes[i] for i in tree.root.children)
    assert (u.visits, l.visits) == (1, 1)  # sim 1 rolls out from the first child; sim 2: the prior decides
    mcts.search([tree], policy, judge_from({"program u": 0.0, "program l": 0.0}), simulations=3)
    assert l.visits > u.visits
    with pytest.raises(ValueError):
        Tree(PROBLEM, rule="ucb2")


def test_dead_ends_and_depth_limit_score_zero():
    script = {(): [thought("t")], ("t",): [thought("u")], ("t", "u"): [SearchStep("stopped", -1.0, True, None)]}
    tree = Tree(PROBLEM, k=1, max_depth=2)
    mcts.search([tree], ScriptedPolicy(script), judge_from({}), simulations=2)
    leaf = tree.nodes[-1]
    assert leaf.step == "u" and leaf.terminal and leaf.dead_end and leaf.reward == 0.0
    assert tree.root.visits == 2 and tree.root.value == 0.0 and tree.to_record()["code_terminals"] == 0
    tree = Tree(PROBLEM, k=1, max_depth=5)
    mcts.search([tree], ScriptedPolicy(script), judge_from({}), simulations=1)
    assert tree.nodes[-1].step == "stopped" and tree.nodes[-1].dead_end


def test_sandbox_rewards_and_tcg_disagreement():
    """Real programs in the sandbox: a reward test that is wrong makes the TCG
    verdict disagree with the reference verdict."""
    from o1lite.sandbox import Sandbox

    problem = load_problems("synthetic", "test", n=1, seed=0)[0]
    body = problem.reference[len(problem.prompt):]
    right = SearchStep(body, -1.0, True, problem.reference, 5)
    wrong = SearchStep("    return None\n", -1.0, True, problem.prompt + "    return None\n", 5)
    case = problem.tests[0]
    bad_tcg = [problem.tests[1], TestCase(case.args, "surely not the answer")]
    with Sandbox(workers=2) as sandbox:
        judge = mcts.SandboxJudge(sandbox)
        trees = [Tree(problem, k=2, reward_tests=bad_tcg, reward_source="tcg"), Tree(problem, k=2)]
        mcts.search(trees, ScriptedPolicy({(): [right, wrong]}), judge, simulations=4)
    tcg_record, ref_record = (t.to_record() for t in trees)
    right_tcg = next(n for n in tcg_record["nodes"] if n["step"] == body)
    assert right_tcg["reward"] == 0.5 and right_tcg["passed_reference"] and not right_tcg["passed_reward"]
    assert tcg_record["disagreement"] == 0.5 and ref_record["disagreement"] is None
    assert ref_record["pass_at_1"] == 1.0 and ref_record["aspr"] == 0.5
    assert judge.programs_run == 4  # two distinct programs, each on two test sets; the second tree hit the cache


def random_script(state, n):
    """A stateless fake policy: the steps depend only on the state's seed."""
    rng = random.Random(state.seed)
    depth = len(state.steps)
    steps = []
    for j in range(n):
        if depth >= 2 or rng.random() < 0.3:
            name = f"code{rng.randrange(5)}"
            steps.append(SearchStep(name, -rng.random(), True, name, 3))
        else:
            steps.append(SearchStep(f"step{depth}.{rng.randrange(9)}", -rng.random(), False, None, 3))
    return steps


def program_judge(items):
    return [Verdict(int(p[-1]) / 4, p.endswith("4"), p.endswith(("3", "4")), int(p[-1]) / 4) for _, p, _ in items]


class CrashAfter:
    def __init__(self, calls):
        self.inner, self.left = ScriptedPolicy(random_script), calls

    def expand(self, states, k):
        self.left -= 1
        if self.left < 0:
            raise RuntimeError("injected crash")
        return self.inner.expand(states, k)


def toy_problems(n=10):
    return [Problem(f"toy/{i}", "def f(x):\n", "f", "", [TestCase((1,), 1)], "toy", split="train") for i in range(n)]


def shard_texts(folder):
    return {p.name: p.read_text() for p in sorted(Path(folder).glob("shard-*.jsonl"))}


def test_a_crashed_run_resumes_to_the_same_data(tmp_path):
    options = dict(judge=program_judge, simulations=5, k=3, seed=7, batch_problems=3, progress=False)
    mcts.synthesize(toy_problems(), ScriptedPolicy(random_script), tmp_path / "whole", **options)
    with pytest.raises(RuntimeError, match="injected"):
        mcts.synthesize(toy_problems(), CrashAfter(25), tmp_path / "resumed", **options)
    partial = shard_texts(tmp_path / "resumed")
    assert 0 < len(partial) < 4
    mcts.synthesize(toy_problems(), ScriptedPolicy(random_script), tmp_path / "resumed", **options)
    assert shard_texts(tmp_path / "resumed") == shard_texts(tmp_path / "whole")
    records = mcts.load_records(tmp_path / "resumed")
    assert [r["task_id"] for r in records] == [f"toy/{i}" for i in range(10)]
    dataset = mcts.load_trajectories(tmp_path / "resumed")
    assert len(dataset) == mcts.summarize(records)["trajectories"] > 10
    assert set(dataset.column_names) >= {"prompt", "completions", "labels", "values", "task_id", "reward", "passed_reference"}
    with pytest.raises(ValueError, match="other settings"):
        mcts.synthesize(toy_problems(), ScriptedPolicy(random_script), tmp_path / "resumed", **{**options, "seed": 8})


def test_a_tree_does_not_depend_on_its_batch():
    one = [Tree(p, seed=7) for p in toy_problems(4)]
    mcts.search(one, ScriptedPolicy(random_script), program_judge, 5)
    alone = Tree(toy_problems(4)[2], seed=7)
    mcts.search([alone], ScriptedPolicy(random_script), program_judge, 5)
    assert alone.to_record() == one[2].to_record()


KILLED_RUN = """
import sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from test_mcts import random_script, program_judge, toy_problems
from o1lite.stages import mcts

class Slow(mcts.ScriptedPolicy):
    def expand(self, states, k):
        time.sleep(0.02)
        return super().expand(states, k)

mcts.synthesize(toy_problems(), Slow(random_script), {out!r}, judge=program_judge, simulations=5, k=3, seed=7,
                batch_problems=3, progress=False)
"""


def test_a_killed_process_resumes_to_the_same_data(tmp_path):
    out = tmp_path / "killed"
    script = KILLED_RUN.format(root=str(ROOT), tests=str(ROOT / "tests"), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out / "shard-00000.jsonl").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(shard_texts(out)) < 4, "the run finished before it could be killed"
    for text in shard_texts(out).values():  # a shard is there whole or not at all
        assert len([json.loads(line) for line in text.splitlines()]) in (3, 1)
    mcts.synthesize(toy_problems(), ScriptedPolicy(random_script), out, judge=program_judge, simulations=5, k=3,
                    seed=7, batch_problems=3, progress=False)
    mcts.synthesize(toy_problems(), ScriptedPolicy(random_script), tmp_path / "whole", judge=program_judge,
                    simulations=5, k=3, seed=7, batch_problems=3, progress=False)
    assert shard_texts(out) == shard_texts(tmp_path / "whole")
    assert json.loads((out / "config.json").read_text())["n_problems"] == 10


def test_shared_prefix_sampling_matches_generate_and_ignores_the_batch(micro_base):
    from o1lite import models
    from o1lite.generation import sample_steps_shared, sample_with_generate

    model, tokenizer = models.load_model(get_profile("tiny", smoke=True))
    prompts = [p.prompt for p in load_problems("synthetic", "test", n=3, seed=0)]
    greedy = sample_steps_shared(model, tokenizer, prompts, [1, 1, 1], [0, 0, 0], temperature=0, max_new_tokens=16,
                                 stop="\n\n\n\n")
    assert [g[0].text for g in greedy] == [r[0] for r in sample_with_generate(model, tokenizer, prompts, max_new_tokens=16)]
    batch = sample_steps_shared(model, tokenizer, prompts, [3, 2, 1], [5, 6, 7], temperature=1.0, max_new_tokens=12,
                                stop="\n\n\n\n")
    assert [len(steps) for steps in batch] == [3, 2, 1]
    alone = sample_steps_shared(model, tokenizer, prompts[1:2], [2], [6], temperature=1.0, max_new_tokens=12, stop="\n\n\n\n")
    assert [s.text for s in alone[0]] == [s.text for s in batch[1]]  # a prefix's samples do not depend on its batch
    assert all(s.logprob < 0 and 0 < s.n_tokens <= 12 for steps in batch for s in steps)
