"""Monte Carlo tree search over reasoning steps, and the step-labelled data it leaves behind.

The third step of o1-Coder's framework: a policy writes a solution one
step at a time; a search tree over those steps, rewarded by running the
final code against test cases, tells which steps lead to correct code.
What this module does, and the choices the paper leaves open:

- **State**: the problem plus the steps so far (`State`). **Action**: the
  next step, sampled by a `Policy` (a Protocol: `expand(states, k)` returns
  `k` sampled `SearchStep`s per state; `o1lite.stages.policies.LanguagePolicy`
  is a causal LM that implements it, and `ScriptedPolicy` a fake that stands
  in for it in the unit tests and the chapter's toy tree). A node is
  *terminal* once its step holds code, or when it is a *dead end* (the
  policy stopped without code, ran out of tokens, or the tree reached
  `max_depth`; reward 0).
- **Selection** descends from the root while a node is fully expanded (has
  `k` children), taking the child with the best score: UCT
  `W/N + c*sqrt(ln N_parent / N)` (the paper's, c = 2; an unvisited child
  first, ties to the earlier child) or, as an option, PUCT
  `Q + c*P*sqrt(N_parent)/(1 + N)` with the prior `P` a softmax over the
  siblings' mean per-token log-probabilities (an unvisited child's `Q` is
  its parent's mean value).
- **Expansion** tops the selected node up to `k` children in one batched
  call (the paper: 3 children at temperature 0.8). **Simulation**: from the
  first new child, one sampled step at a time to a terminal; the rollout's
  steps stay in the tree as a chain (each later topped up when selected),
  so no generated step is thrown away.
- **Reward** of a terminal: the fraction of the reward tests its program
  passes, run in `o1lite.sandbox`. The reward tests are the test-case
  generator's (chapter 02; the paper's self-play setting) or the problem's
  reference tests; each record says which (`reward_source`). Every terminal
  is also run on the reference tests, so the verdicts can be compared.
- **Backup** adds the reward to every node on the path. A step's **value**
  is its node's mean backed-up reward; its **validity label** is hard
  (`value > threshold`, default 0.5) and soft (the value itself).

The search runs many trees in lockstep (one batched policy call per round
for all of them, one sandbox batch for all new terminals) and writes one
JSONL record per problem, in shards, so a killed run resumes where it
stopped (`synthesize`). Each tree is seeded from (seed, task_id, node), so
its result does not depend on the other problems or on resumption.

Definitions used for the paper's Table 1 (it gives no formulas):

- **Pass@1** of a search: 1 when the program the search returns passes all
  the reference tests, else 0; the returned program is the terminal reached
  by following the most visited child from the root (ties: the higher
  value, then the earlier child); averaged over problems.
- **ASPR** (average sampling pass rate): per problem, the fraction of the
  tree's code terminals (dead ends excluded) whose program passes all the
  reference tests (0 when the tree has none); averaged over problems.

The search knows problems, metrics and files, nothing of language models:
the policy that writes steps, and the policy initialisation on correct
paths, live in `o1lite.stages.policies`; drawing a tree in `o1lite.plots`.
Not here either: the process reward model (chapter 05) and RL (chapter 06)
that consume the labels. Introduced in chapter 04.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

from ..metrics import estimate, sampling_pass_rate
from ..problems import Problem, TestCase
from ..record import derive_seed, stable_hash, write_atomic

SELECTION_RULES = ("uct", "puct")
RECORD_FORMAT = 2  # bump when a record's fields change: a run folder of another format is not reused


# ---------------------------------------------------------------- the policy interface
@dataclass
class SearchStep:
    """One proposed step, as a `Policy` hands it to the search. `program` is
    the code to run for a terminal code step (None for a non-terminal step or
    a dead end); `logprob` is the step's total log-probability under the
    policy, over `n_tokens` tokens."""

    text: str
    logprob: float = 0.0
    terminal: bool = False
    program: str | None = None
    n_tokens: int = 1


@dataclass(frozen=True)
class State:
    """The problem plus the steps so far; `seed` seeds the next expansion;
    `siblings` counts the children the node already has (a top-up adds to them)."""

    problem: Problem
    steps: tuple[str, ...] = ()
    seed: int = 0
    siblings: int = 0


class Policy(Protocol):
    def expand(self, states: Sequence[State], k: int | Sequence[int]) -> list[list[SearchStep]]:
        """`k` (or `k[i]`) sampled next steps for each state, in order."""
        ...


class ScriptedPolicy:
    """A fake policy for tests and toy examples: `script(state, n)` returns
    the `n` next steps, or `script` is a dict from a state's steps to its
    children in order (a top-up continues where the node's children end)."""

    def __init__(self, script):
        self.script = script
        self.calls = 0

    def expand(self, states: Sequence[State], k: int | Sequence[int]) -> list[list[SearchStep]]:
        self.calls += 1
        counts = [k] * len(states) if isinstance(k, int) else list(k)
        if callable(self.script):
            return [list(self.script(s, n)) for s, n in zip(states, counts)]
        out = []
        for state, n in zip(states, counts):
            children = self.script[state.steps]
            out.append([children[(state.siblings + j) % len(children)] for j in range(n)])
        return out


# ---------------------------------------------------------------- selection scores
def uct_score(value_sum: float, visits: int, parent_visits: int, c: float = 2.0) -> float:
    """UCT, as the paper writes it: Q/N + c*sqrt(ln N_parent / N); unvisited: +inf."""
    if visits == 0:
        return math.inf
    return value_sum / visits + c * math.sqrt(math.log(parent_visits) / visits)


def puct_score(value_sum: float, visits: int, parent_visits: int, prior: float, c: float = 2.0,
               first_play: float = 0.0) -> float:
    """PUCT: Q + c*P*sqrt(N_parent)/(1 + N); an unvisited child's Q is `first_play`."""
    q = value_sum / visits if visits else first_play
    return q + c * prior * math.sqrt(parent_visits) / (1 + visits)


def step_priors(logprobs: Sequence[float], tokens: Sequence[int]) -> list[float]:
    """Softmax over siblings of their mean per-token log-probabilities.

    Per token, so a long step is not penalised for its length."""
    means = [lp / max(n, 1) for lp, n in zip(logprobs, tokens)]
    top = max(means)
    weights = [math.exp(m - top) for m in means]
    total = sum(weights)
    return [w / total for w in weights]


# ---------------------------------------------------------------- the tree
def lineage(nodes: Sequence, end) -> list:
    """Root to `end`, both included, in a list of nodes indexed by id: `Node`s
    of a live tree, or the node dicts of a saved record (`to_record`)."""
    parent = (lambda n: n["parent"]) if isinstance(end, dict) else (lambda n: n.parent)
    out = [end]
    while parent(out[-1]) is not None:
        out.append(nodes[parent(out[-1])])
    return out[::-1]


@dataclass
class Node:
    id: int
    parent: int | None
    depth: int
    step: str = ""
    logprob: float = 0.0
    n_tokens: int = 0
    terminal: bool = False
    dead_end: bool = False
    program: str | None = None
    children: list[int] = field(default_factory=list)
    visits: int = 0
    value_sum: float = 0.0
    reward: float | None = None  # fraction of reward tests passed (terminals)
    passed_reward: bool | None = None  # all reward tests passed
    passed_reference: bool | None = None  # all reference tests passed
    reference_fraction: float | None = None

    @property
    def value(self) -> float:
        """The mean backed-up reward (0 before the first visit)."""
        return self.value_sum / self.visits if self.visits else 0.0


class Tree:
    """One problem's search tree. Node 0 is the root (the bare problem)."""

    def __init__(self, problem: Problem, seed: int = 0, k: int = 3, c: float = 2.0, rule: str = "uct",
                 max_depth: int = 8, reward_tests: Sequence[TestCase] | None = None, reward_source: str = "reference"):
        if rule not in SELECTION_RULES:
            raise ValueError(f"unknown selection rule {rule!r}: choose one of {', '.join(SELECTION_RULES)}")
        self.problem, self.seed, self.k, self.c, self.rule, self.max_depth = problem, seed, k, c, rule, max_depth
        self.reward_tests = list(reward_tests) if reward_tests is not None else list(problem.tests)
        self.reward_source = reward_source
        self.nodes: list[Node] = [Node(0, None, 0)]

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def path(self, node: Node) -> list[Node]:
        """Root to `node`, both included."""
        return lineage(self.nodes, node)

    def state(self, node: Node) -> State:
        """The state after `node`; its seed names this node's next expansion."""
        steps = tuple(n.step for n in self.path(node)[1:])
        seed = derive_seed(self.seed, self.problem.task_id, node.id, len(node.children))
        return State(self.problem, steps, seed, len(node.children))

    def scores(self, node: Node) -> list[float]:
        children = [self.nodes[i] for i in node.children]
        if self.rule == "uct":
            return [uct_score(ch.value_sum, ch.visits, node.visits, self.c) for ch in children]
        priors = step_priors([ch.logprob for ch in children], [ch.n_tokens for ch in children])
        return [puct_score(ch.value_sum, ch.visits, node.visits, p, self.c, node.value) for ch, p in zip(children, priors)]

    def best_child(self, node: Node) -> Node:
        scores = self.scores(node)
        return self.nodes[node.children[scores.index(max(scores))]]  # index(): ties go to the earlier child

    def select(self) -> Node:
        """Descend while fully expanded; return a terminal or a node to expand."""
        node = self.root
        while not node.terminal and len(node.children) >= self.k:
            node = self.best_child(node)
        return node

    def add_children(self, node: Node, steps: Sequence[SearchStep]) -> list[Node]:
        new = []
        for step in steps:
            child = Node(len(self.nodes), node.id, node.depth + 1, step.text, step.logprob, step.n_tokens,
                         terminal=step.terminal, program=step.program if step.terminal else None)
            if child.terminal and child.program is None:
                child.dead_end = True
            if not child.terminal and child.depth >= self.max_depth:
                child.terminal = child.dead_end = True
            if child.dead_end:
                child.reward, child.passed_reward, child.passed_reference, child.reference_fraction = 0.0, False, False, 0.0
            self.nodes.append(child)
            node.children.append(child.id)
            new.append(child)
        return new

    def backup(self, node: Node, reward: float) -> None:
        for n in self.path(node):
            n.visits += 1
            n.value_sum += reward

    # ------------------------------------------------ what the search found
    def code_terminals(self) -> list[Node]:
        return [n for n in self.nodes if n.terminal and not n.dead_end]

    def solution(self) -> Node | None:
        """Follow the most visited child (ties: higher value, then earlier) to a terminal."""
        node = self.root
        while node.children:
            node = max((self.nodes[i] for i in node.children), key=lambda n: (n.visits, n.value, -n.id))
            if node.visits == 0:
                return None
        return node if node.terminal else None

    def to_record(self, **extra: Any) -> dict:
        solution = self.solution()
        terminals = self.code_terminals()
        disagree = [n.passed_reward != n.passed_reference for n in terminals]
        return {
            "task_id": self.problem.task_id,
            "split": self.problem.split,
            "prompt": self.problem.prompt,
            "entry_point": self.problem.entry_point,
            "seed": self.seed,
            "k": self.k,
            "c": self.c,
            "rule": self.rule,
            "reward_source": self.reward_source,
            "reward_tests": [case.to_json() for case in self.reward_tests],
            "nodes": [_node_json(n) for n in self.nodes],
            "solution": solution.id if solution else None,
            "pass_at_1": float(bool(solution and solution.passed_reference)),
            "aspr": sampling_pass_rate([bool(n.passed_reference) for n in terminals]),
            "code_terminals": len(terminals),
            "disagreement": (sum(disagree) / len(disagree)) if disagree and self.reward_source == "tcg" else None,
            **extra,
        }


def _node_json(node: Node) -> dict:
    return {"id": node.id, "parent": node.parent, "depth": node.depth, "step": node.step,
            "logprob": round(node.logprob, 6), "n_tokens": node.n_tokens, "terminal": node.terminal,
            "dead_end": node.dead_end, "program": node.program, "visits": node.visits,
            "value": round(node.value, 6), "reward": node.reward, "passed_reward": node.passed_reward,
            "passed_reference": node.passed_reference, "reference_fraction": node.reference_fraction}


# ---------------------------------------------------------------- rewards
@dataclass
class Verdict:
    reward: float  # fraction of the reward tests passed
    passed_reward: bool
    passed_reference: bool
    reference_fraction: float


class SandboxJudge:
    """Runs terminal programs in the sandbox, on the reward tests and the
    reference tests, in one batch per call. A (problem, program, tests) run
    happens once: identical programs, and reward tests that are the
    reference tests, hit a cache."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.cache: dict[tuple, tuple[float, bool]] = {}
        self.programs_run = 0

    def __call__(self, items: Sequence[tuple[Problem, str, Sequence[TestCase]]]) -> list[Verdict]:
        wanted = []
        for problem, program, tests in items:
            where = (problem.task_id, problem.entry_point, program)
            wanted.append([(*where, repr(list(tests))), (*where, repr(list(problem.tests)))])
        todo: dict[tuple, tuple] = {}
        for (problem, program, tests), keys in zip(items, wanted):
            for key, cases in zip(keys, (tests, problem.tests)):
                if key not in self.cache and key not in todo:
                    todo[key] = (program, problem.entry_point, list(cases))
        results = self.sandbox.run_many(list(todo.values())) if todo else []
        self.programs_run += len(todo)
        for key, result in zip(todo, results):
            self.cache[key] = (result.pass_fraction, result.passed)
        verdicts = []
        for reward_key, reference_key in wanted:
            (reward, passed_reward), (fraction, passed) = self.cache[reward_key], self.cache[reference_key]
            verdicts.append(Verdict(reward, passed_reward, passed, fraction))
        return verdicts


Judge = Callable[[Sequence[tuple[Problem, str, Sequence[TestCase]]]], list[Verdict]]


# ---------------------------------------------------------------- the search
def _expand(policy: Policy, requests: list[tuple[Tree, Node, int]]) -> list[list[Node]]:
    if not requests:
        return []
    steps = policy.expand([tree.state(node) for tree, node, _ in requests], [n for _, _, n in requests])
    return [tree.add_children(node, s) for (tree, node, _), s in zip(requests, steps)]


def search(trees: Sequence[Tree], policy: Policy, judge: Judge, simulations: int = 8,
           on_simulation: Callable[[int], None] | None = None) -> list[Tree]:
    """Run `simulations` simulations on every tree, in lockstep.

    Each round: every tree selects; all expansions are one policy call; the
    rollouts advance together one step per call; all new terminals are
    judged in one batch; then every tree backs up its reward.
    """
    for _ in range(simulations):
        leaves = [tree.select() for tree in trees]
        requests = [(t, n, t.k - len(n.children)) for t, n in zip(trees, leaves) if not n.terminal]
        frontier = dict(zip((id(t) for t, _, _ in requests), (new[0] for new in _expand(policy, requests))))
        created: list[tuple[Tree, Node]] = [(t, n) for t, leaf, _ in requests for n in (t.nodes[i] for i in leaf.children)
                                             if n.reward is None and n.terminal]
        while True:  # rollouts: one sampled step at a time, all trees together
            walking = [(t, frontier[id(t)], 1) for t, _, _ in requests if not frontier[id(t)].terminal]
            if not walking:
                break
            for (tree, _, _), new in zip(walking, _expand(policy, walking)):
                frontier[id(tree)] = new[0]
                if new[0].terminal and new[0].reward is None:
                    created.append((tree, new[0]))
        pending = [(t, n) for t, n in created if n.reward is None]
        verdicts = judge([(t.problem, n.program, t.reward_tests) for t, n in pending])
        for (_, node), verdict in zip(pending, verdicts):
            node.reward, node.passed_reward = verdict.reward, verdict.passed_reward
            node.passed_reference, node.reference_fraction = verdict.passed_reference, verdict.reference_fraction
        for tree, leaf in zip(trees, leaves):
            end = leaf if leaf.terminal else frontier[id(tree)]
            tree.backup(end, end.reward)
        if on_simulation:
            on_simulation(len(trees))
    return list(trees)


# ---------------------------------------------------------------- data that survives
def synthesize(
    problems: Sequence[Problem],
    policy: Policy,
    out_dir: str | Path,
    judge: Judge,
    reward_tests: dict[str, Sequence[TestCase]] | None = None,
    simulations: int = 8,
    k: int = 3,
    c: float = 2.0,
    rule: str = "uct",
    max_depth: int = 8,
    seed: int = 0,
    batch_problems: int = 32,
    policy_id: str = "",
    progress: bool = True,
) -> Path:
    """Search every problem and write one JSONL record per problem, in shards.

    Problems go in fixed chunks of `batch_problems` (searched in lockstep);
    each chunk is written, atomically, as `shard-NNNNN.jsonl` once it is
    done. Run again with the same arguments and it skips the shards that
    exist: a run killed at any point resumes without losing or duplicating a
    problem, and ends with the same files as an uninterrupted run. The
    folder's `config.json` (search settings, policy id, problems, reward
    tests) must match, so results of different settings never mix.

    `reward_tests` maps task ids to the tests the reward uses (the TCG's);
    a problem missing from it, or with no case, is rewarded on its
    reference tests (`reward_source` says which in every record).
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    problems = list(problems)
    sources = {p.task_id: "tcg" if reward_tests and reward_tests.get(p.task_id) else "reference" for p in problems}
    tests_of = {p.task_id: list(reward_tests[p.task_id]) if sources[p.task_id] == "tcg" else list(p.tests) for p in problems}
    config = {
        "format": RECORD_FORMAT,
        "simulations": simulations, "k": k, "c": c, "rule": rule, "max_depth": max_depth, "seed": seed,
        "batch_problems": batch_problems, "policy": policy_id,
        "problems": stable_hash("\n".join(p.task_id for p in problems), 16),
        "reward_tests": stable_hash(repr(sorted((t, repr(v)) for t, v in tests_of.items())), 16),
        "n_problems": len(problems),
    }
    config_path = out / "config.json"
    if config_path.exists():
        found = json.loads(config_path.read_text())
        if found != config:
            changed = sorted(key for key in config if found.get(key) != config[key])
            raise ValueError(f"{out} holds a run with other settings ({', '.join(changed)}): use another folder")
    else:
        write_atomic(config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")

    chunks = [problems[i:i + batch_problems] for i in range(0, len(problems), batch_problems)]
    shard_path = [out / f"shard-{index:05d}.jsonl" for index in range(len(chunks))]
    done = [path.exists() for path in shard_path]
    bar_problems = tqdm(total=len(problems), desc="problems", unit="problem", disable=not progress, position=0)
    bar_sims = tqdm(total=simulations * sum(len(c) for c, d in zip(chunks, done) if not d), desc="simulations",
                    unit="sim", disable=not progress, position=1, leave=False)
    bar_problems.update(sum(len(c) for c, d in zip(chunks, done) if d))
    try:
        for chunk, path, finished in zip(chunks, shard_path, done):
            if finished:
                continue
            trees = [Tree(p, seed, k, c, rule, max_depth, tests_of[p.task_id], sources[p.task_id]) for p in chunk]
            search(trees, policy, judge, simulations, on_simulation=bar_sims.update)
            lines = [json.dumps(t.to_record(simulations=simulations, policy=policy_id), sort_keys=True) for t in trees]
            write_atomic(path, "\n".join(lines) + "\n")
            bar_problems.update(len(chunk))
    finally:
        bar_sims.close()
        bar_problems.close()
    return out


def load_records(folder: str | Path) -> list[dict]:
    """Every problem record of a run folder, in problem order."""
    records = []
    for path in sorted(Path(folder).glob("shard-*.jsonl")):
        records.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return records


def trajectories(records: Iterable[dict], threshold: float = 0.5) -> list[dict]:
    """One row per visited root-to-terminal path, in TRL's stepwise-supervision
    format plus what a later stage needs to know about the path.

    - `prompt` (the problem prompt), `completions` (one entry per step, in
      order; joined they are the policy's whole output), `labels` (per step,
      `value > threshold`: the hard labels a PRM trainer takes);
    - `values`: the steps' node values (the soft labels), `visits`;
    - provenance: `task_id`, `reward` and `passed_reference` of the terminal,
      `dead_end`, `program`, `is_solution` (the path the search returns),
      `reward_source` ("tcg" or "reference"), `policy`.
    """
    rows = []
    for record in records:
        nodes = record["nodes"]
        for end in nodes:
            if not end["terminal"] or end["visits"] == 0:  # an unvisited node has no value yet
                continue
            path = lineage(nodes, end)[1:]  # the root holds no step
            rows.append({
                "prompt": record["prompt"],
                "completions": [n["step"] for n in path],
                "labels": [bool(n["value"] > threshold) for n in path],
                "values": [float(n["value"]) for n in path],
                "visits": [n["visits"] for n in path],
                "task_id": record["task_id"],
                "reward": float(end["reward"] or 0.0),
                "passed_reference": bool(end["passed_reference"]),
                "dead_end": bool(end["dead_end"]),
                "program": end["program"] or "",
                "is_solution": end["id"] == record["solution"],
                "reward_source": record["reward_source"],
                "policy": record.get("policy", ""),
            })
    return rows


def load_trajectories(folder: str | Path, threshold: float = 0.5):
    """The run's trajectories (see `trajectories`) as a `datasets.Dataset`."""
    from datasets import Dataset

    rows = trajectories(load_records(folder), threshold)
    if not rows:
        raise ValueError(f"{folder} holds no trajectories yet")
    return Dataset.from_list(rows)


# ---------------------------------------------------------------- what the chapter reports
def solution_path(record: dict) -> list[int]:
    """Ids of the nodes from the root to the solution the search returns (empty when it returned none)."""
    nodes = record["nodes"]
    return [] if record["solution"] is None else [n["id"] for n in lineage(nodes, nodes[record["solution"]])]


def step_nodes(record: dict) -> list[dict]:
    """The visited step nodes of a record (the root excluded)."""
    return [n for n in record["nodes"][1:] if n["visits"] > 0]


def reference_values(record: dict) -> dict[int, float]:
    """Each visited step's value had the search's visits been rewarded by the
    reference tests instead: the visit-weighted mean reference pass fraction of
    the ends (code terminals and dead ends, which score 0) below it. The visits
    themselves were steered by the actual rewards, so this re-scores the same
    tree; it does not replay a search on reference rewards."""
    nodes = record["nodes"]
    ends = [n for n in nodes if n["visits"] > 0 and (n["terminal"] or n["dead_end"])]
    totals: dict[int, list[float]] = {}
    for end in ends:
        score = 0.0 if end["dead_end"] else (end["reference_fraction"] or 0.0)
        for node in lineage(nodes, end):
            total = totals.setdefault(node["id"], [0.0, 0.0])
            total[0] += end["visits"] * score
            total[1] += end["visits"]
    return {i: weighted / visits for i, (weighted, visits) in totals.items() if visits}


def summarize(records: Sequence[dict], threshold: float = 0.5) -> dict:
    """Table 1 numbers (see the module docstring) and data statistics, each
    per problem with a bootstrap 95% CI (`o1lite.metrics.estimate`).

    Of the code terminals of TCG-rewarded trees, per problem: `tcg_false_pass`,
    the share the generated tests pass but the reference tests fail, and
    `tcg_false_fail`, the reverse (`tcg_reference_disagreement` is their sum).
    `valid_step_fraction_reference` is the valid-step fraction under
    `reference_values`. `reference_rewarded_problems` counts the trees
    rewarded on reference tests: with TCG rewards, those the TCG gave no case
    (a fallback the chapter reports)."""
    tcg_records = [r for r in records if r["reward_source"] == "tcg"]

    def share(record: dict, reward: bool, reference: bool) -> float:
        ends = [n for n in record["nodes"] if n["terminal"] and not n["dead_end"]]
        hits = sum(bool(n["passed_reward"]) == reward and bool(n["passed_reference"]) == reference for n in ends)
        return hits / len(ends) if ends else 0.0

    with_tcg = [r["disagreement"] for r in tcg_records if r.get("disagreement") is not None]
    valid = [sum(n["value"] > threshold for n in step_nodes(r)) / len(step_nodes(r)) for r in records if step_nodes(r)]
    valid_reference = []
    for r in records:
        if step_nodes(r):
            values = reference_values(r)
            valid_reference.append(sum(values.get(n["id"], 0.0) > threshold for n in step_nodes(r)) / len(step_nodes(r)))
    return {
        "pass_at_1": estimate([r["pass_at_1"] for r in records]),
        "aspr": estimate([r["aspr"] for r in records]),
        "tcg_reference_disagreement": estimate(with_tcg),
        "tcg_false_pass": estimate([share(r, True, False) for r in tcg_records if r["code_terminals"]]),
        "tcg_false_fail": estimate([share(r, False, True) for r in tcg_records if r["code_terminals"]]),
        "valid_step_fraction": estimate(valid),
        "valid_step_fraction_reference": estimate(valid_reference),
        "trajectories": len(trajectories(records, threshold)),
        "problems": len(records),
        "tcg_rewarded_problems": len(tcg_records),
        "reference_rewarded_problems": len(records) - len(tcg_records),
    }


def correct_paths(records: Sequence[dict], by: str = "reward", per_problem: int = 4) -> list[dict]:
    """Prompt/completion pairs from the paths that end in correct code.

    `by="reward"`: the terminal passed all the reward tests (what a
    self-play run knows); `by="reference"`: all reference tests. At most
    `per_problem` distinct completions per problem, most visited first.
    The prompt is the problem prompt (the tiny model's format); a chat
    policy's prompt is `o1lite.stages.prompts.policy_prompt(problem, fmt, tokenizer, chat=True)`.
    """
    key = {"reward": "passed_reward", "reference": "passed_reference"}[by]
    examples = []
    for record in records:
        nodes = record["nodes"]
        ends = sorted((n for n in nodes if n["terminal"] and n[key]), key=lambda n: (-n["visits"], n["id"]))
        seen: set[str] = set()
        for end in ends:
            completion = "".join(n["step"] for n in lineage(nodes, end)[1:])
            if completion not in seen and len(seen) < per_problem:
                seen.add(completion)
                examples.append({"prompt": record["prompt"], "completion": completion})
    return examples


# ---------------------------------------------------------------- what the figures draw
def values_by_depth(records: Sequence[dict], threshold: float = 0.5) -> dict[str, dict[int, list[float]]]:
    """Values of the visited steps, grouped by hard label ("valid"/"invalid") then depth."""
    groups: dict[str, dict[int, list[float]]] = {"valid": {}, "invalid": {}}
    for record in records:
        for n in step_nodes(record):
            label = "valid" if n["value"] > threshold else "invalid"
            groups[label].setdefault(n["depth"], []).append(n["value"])
    return groups
