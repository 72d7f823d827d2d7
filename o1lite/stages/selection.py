"""Test-time compute, the o1-ioi way: draw many samples once; filter, cluster, rerank, submit k.

The second paper's lesson at a fixed model: sampling more buys solve rate,
and *selection* decides how much of it one keeps. o1-ioi clustered 10,000
samples by their outputs on model-written inputs, reranked, and submitted
50; AlphaCode filtered on the public examples and clustered; CodeT ranked by
agreement between programs and generated tests. This module rebuilds those
pieces small:

- `split_tests(problem)`: the problem's cases split into `PUBLIC` public ones
  (the filter, as a statement's examples) and the hidden rest (the judge).
- Inputs without a reference, which is all test time has: `tcg_cases` runs
  chapter 02's test-case generator with the signature alone in its code
  section (its inputs cluster; its written outputs are guesses CodeT counts
  agreement with), and `random_inputs` is a type-directed generator that
  draws new values shaped like the public inputs.
- `build_pool`: every distinct program of a problem's samples run once, in
  one sandbox batch with every other problem's, on the public, hidden and
  generated inputs; kept as a `Pool` (verdicts and output signatures only).
- `submissions(pool, subset, k, ranker, source)`: filter on the public tests
  (all candidates when none passes; `filtered=False` skips the filter, to
  see what grouping buys alone), group, rank the groups, submit
  round-robin over them, best first. Rankers: `cluster` (group size,
  AlphaCode), `codet` (|programs| x |generated cases they pass|, grouped by
  which cases they pass), `prm` (chapter 05's score of a group's best
  member), `combined` (an o1-ioi-style mix of the three and the errors on
  generated inputs; equal weights, not learned).
- `measure(pool, budgets, ks)`: the N samples reused for every smaller
  budget as disjoint subsets of the draw order (each budget divides N); per
  subset, the oracle (does it hold a right program?), k random samples and
  k random samples among those that pass the public cases in closed form
  (`o1lite.metrics.pass_at_k`: samples, so duplicates of one program can
  fill several of the k), the first k *distinct* programs drawn (the fair
  random baseline for k > 1 submissions), and every selector by running it. `gap_recovered` is the headline: (select@k - pass@1) /
  (pass@N - pass@1), a ratio of sums over problems.

Introduced in chapter 07.
"""

from __future__ import annotations

import inspect
import json
import math
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..metrics import pass_at_k
from ..problems import Problem
from ..record import code_text, source_hash, stable_hash, write_json
from ..sandbox import Sandbox, exact_equal
from .mcts import derive_seed
from .prm import aggregate, split_completion
from .prompts import ParsedTests
from .tcg import check_cases, generate_tests

PUBLIC = 2  # public cases per problem: the filter; the rest are hidden and judge
RANKERS = ("cluster", "codet", "prm", "combined")
SOURCES = ("tcg", "random")  # where the generated inputs come from


# ---------------------------------------------------------------- public and hidden tests
def split_tests(problem: Problem, public: int = PUBLIC) -> tuple[list, list]:
    """(public, hidden) cases: `public` of the problem's cases picked by a seed
    derived from its task id (the same on every run), the rest hidden."""
    cases = list(problem.tests)
    if len(cases) <= public:
        raise ValueError(f"{problem.task_id} has {len(cases)} literal tests: it needs more than {public} to keep some hidden")
    picked = sorted(random.Random(derive_seed("public", problem.task_id)).sample(range(len(cases)), public))
    return [cases[i] for i in picked], [c for i, c in enumerate(cases) if i not in picked]


# ---------------------------------------------------------------- inputs without a reference
def _leaves(value: Any, ints: list, texts: list, lengths: list) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        ints.append(value)
    elif isinstance(value, str):
        texts.append(value)
        lengths.append(len(value))
    elif isinstance(value, (list, tuple)):
        lengths.append(len(value))
        for item in value:
            _leaves(item, ints, texts, lengths)
    elif isinstance(value, dict):
        for item in value.values():
            _leaves(item, ints, texts, lengths)


def _like(value: Any, rng: random.Random, ints: list, chars: str, longest: int) -> Any:
    """A new value of `value`'s type, drawn from what the examples show."""
    if isinstance(value, bool):
        return rng.random() < 0.5
    if isinstance(value, int):
        low, high = min(ints), max(ints)
        return rng.choice(ints) if rng.random() < 0.5 else rng.randint(low - 3, high + 3)
    if isinstance(value, float):
        return round(rng.uniform(-10.0, 10.0), 2)
    if isinstance(value, str):
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, longest + 2)))
    if isinstance(value, list):
        element = (lambda: _like(rng.choice(value), rng, ints, chars, longest)) if value else (lambda: rng.choice(ints))
        return [element() for _ in range(rng.randint(0, longest + 2))]
    if isinstance(value, tuple):
        return tuple(_like(item, rng, ints, chars, longest) for item in value)
    if isinstance(value, dict):
        return {key: _like(item, rng, ints, chars, longest) for key, item in value.items()}
    return value


def random_inputs(examples: Sequence[tuple], count: int, rng: random.Random, tries: int = 40) -> list[tuple]:
    """Up to `count` distinct new argument tuples shaped like `examples` (the
    public inputs): each value redrawn by type, integers from the examples'
    values and range, strings from their characters, lists up to a little
    longer than the longest shown. Needs nothing but the examples."""
    if not examples:
        return []
    ints, texts, lengths = [], [], []
    for args in examples:
        _leaves(tuple(args), ints, texts, lengths)
    ints = ints or list(range(-3, 10))
    chars = "".join(sorted(set("".join(texts)))) or "abcxyz"
    longest = max(lengths, default=3)
    seen = {repr(tuple(args)) for args in examples}
    found: dict[str, tuple] = {}
    for _ in range(count * tries):
        args = tuple(_like(value, rng, ints, chars, longest) for value in rng.choice(list(examples)))
        key = repr(args)
        if key not in seen and key not in found:
            found[key] = args
            if len(found) == count:
                break
    return list(found.values())


def typed_inputs(problem: Problem, count: int, seed: int = 0) -> list[tuple]:
    """`random_inputs` from the problem's public cases, seeded by `seed` and its task id."""
    examples = [case.args for case in split_tests(problem)[0]]
    return random_inputs(examples, count, random.Random(derive_seed("random inputs", seed, problem.task_id)))


def stub(problem: Problem) -> str:
    """What the TCG's code section holds at test time: the signature and docstring, no body."""
    return problem.prompt.rstrip() + "\n    ...\n"


def tcg_cases(model, tokenizer, problems: Sequence[Problem], n_samples: int = 8, temperature: float = 0.8,
              n_cases: int = 3, max_new_tokens: int = 112, seed: int = 0) -> list[list]:
    """Chapter 02's TCG prompted with `stub(problem)` instead of the reference:
    `n_samples` completions per problem at `temperature`, their parsed cases
    pooled (first occurrence of each input kept), unchecked: at test time
    nothing can check them."""
    return generate_tests(model, tokenizer, problems, solutions=[stub(p) for p in problems], n_cases=n_cases,
                          temperature=temperature, n_samples=n_samples, max_new_tokens=max_new_tokens, seed=seed)


# ---------------------------------------------------------------- running every distinct program once
@dataclass
class Pool:
    """One problem's samples, run. Per sample: the index of its distinct
    program (-1: no code) and its tokens; per distinct program: passes the
    public cases? the hidden ones (the judge)? which generated cases it
    returns the written output for (`passes`, "1"/"0" per case), a signature
    of its outputs on each source's inputs, its share of errors there, and
    chapter 05's PRM score (None without a PRM)."""

    task_id: str
    samples: list[int]
    tokens: list[int]
    public: list[bool]
    correct: list[bool]
    passes: list[str]
    outputs: dict[str, list[str]]
    errors: dict[str, list[float]]
    prm: list[float] | None = None
    inputs: dict[str, int] = field(default_factory=dict)  # generated inputs per source

    @property
    def correct_samples(self) -> int:
        return sum(1 for p in self.samples if p >= 0 and self.correct[p])


def _shown(outcome) -> str:
    """An output as clustering compares it: type and value, or how the call failed."""
    return f"{type(outcome.value).__name__}:{outcome.value!r}" if outcome.ok else outcome.status


def build_pools(sandbox, problems: Sequence[Problem], programs: Sequence[Sequence[str | None]],
                tokens: Sequence[Sequence[int]], generated: Sequence[Sequence], inputs: dict[str, Sequence[Sequence[tuple]]],
                public: int = PUBLIC) -> tuple[list[Pool], dict]:
    """A `Pool` per problem from its samples' programs (None: no code) and token
    counts; `generated` holds the TCG's cases per problem and `inputs` each
    source's inputs per problem. Identical programs run once; all programs of
    all problems run in one `call_many` batch. Returns (pools, stats)."""
    started = time.perf_counter()
    jobs, layout = [], []
    for index, (problem, candidates) in enumerate(zip(problems, programs)):
        shown, hidden = split_tests(problem, public)
        distinct = list(dict.fromkeys(p for p in candidates if p is not None))
        cases = list(generated[index])
        extra = {source: [tuple(a) for a in inputs[source][index]] for source in inputs}
        calls = [c.args for c in shown] + [c.args for c in hidden] + [c.args for c in cases] + [a for s in extra.values() for a in s]
        jobs += [(program, problem.entry_point, calls) for program in distinct]
        layout.append((distinct, shown, hidden, cases, extra))
    results = iter(sandbox.call_many(jobs) if jobs else [])
    pools = []
    for problem, candidates, counts, (distinct, shown, hidden, cases, extra) in zip(problems, programs, tokens, layout):
        where = {program: i for i, program in enumerate(distinct)}
        pool = Pool(problem.task_id, [where[p] if p is not None else -1 for p in candidates], list(counts), [], [], [],
                    {s: [] for s in extra}, {s: [] for s in extra}, inputs={s: len(a) for s, a in extra.items()})
        for _ in distinct:
            outcomes = next(results)
            right = [o.ok and exact_equal(o.value, c.expected) for o, c in zip(outcomes, shown + hidden + cases)]
            pool.public.append(all(right[: len(shown)]))
            pool.correct.append(all(right[len(shown): len(shown) + len(hidden)]))
            pool.passes.append("".join("1" if r else "0" for r in right[len(shown) + len(hidden):]))
            at = len(shown) + len(hidden) + len(cases)
            for source, arguments in extra.items():
                mine = outcomes[at: at + len(arguments)]
                pool.outputs[source].append(stable_hash([_shown(o) for o in mine]))
                pool.errors[source].append(sum(not o.ok for o in mine) / len(mine) if mine else 0.0)
                at += len(arguments)
        pools.append(pool)
    return pools, {"programs_run": len(jobs), "samples": sum(len(c) for c in programs),
                   "calls": sum(len(j[2]) for j in jobs), "seconds": round(time.perf_counter() - started, 2)}


def score_pools(pools: Sequence[Pool], scorer, prompts: Sequence[str], completions: Sequence[Sequence[str]]) -> None:
    """Chapter 05's PRM score (its last step's) for every distinct program, read
    off the first sample that wrote it; one batched `step_scores` call."""
    asks, owners = [], []
    for index, (pool, texts) in enumerate(zip(pools, completions)):
        first = {}
        for sample, program in enumerate(pool.samples):
            if program >= 0:
                first.setdefault(program, sample)
        for program, sample in sorted(first.items()):
            asks.append((prompts[index], split_completion(texts[sample]) or [texts[sample]]))
            owners.append((index, program))
    for pool in pools:
        pool.prm = [0.0] * len(pool.correct)
    scores = scorer.step_scores([p for p, _ in asks], [s for _, s in asks]) if asks else []
    for (index, program), steps in zip(owners, scores):
        pools[index].prm[program] = aggregate(steps, "last")


def _making_code() -> str:
    """A hash of the functions here that make a pool (not of those that measure one:
    a changed ranker re-measures the cached samples instead of drawing them again)."""
    makers = (split_tests, _leaves, _like, random_inputs, typed_inputs, stub, tcg_cases, _shown, build_pools, score_pools, prepare)
    return stable_hash("\n".join(code_text(inspect.getsource(f)) for f in makers))


def save_pools(path: Path, pools: Sequence[Pool], stats: dict) -> None:
    write_json(path, {"stats": stats, "pools": [asdict(pool) for pool in pools]})


def load_pools(path: Path) -> tuple[list[Pool], dict]:
    data = json.loads(Path(path).read_text())
    return [Pool(**pool) for pool in data["pools"]], data["stats"]


def prepare(policy, problems: Sequence[Problem], n: int, seed: int, folder: str | Path, tcg: Callable[[], tuple] | None = None,
            scorer: Callable[[], Any] | None = None, names: Sequence[str] = (), n_inputs: int = 16, tcg_samples: int = 8,
            workers: int = 2, batch_size: int = 256) -> tuple[list[Pool], list[list[str]], dict]:
    """Draw `n` samples per problem from `policy` (a `LanguagePolicy`) once, write
    the generated inputs (`tcg()` loads the TCG; `random_inputs` from the public
    cases), run every distinct program, score it with `scorer()` (a PRM), and
    cache all of it under `folder/<hash of everything that shaped it>/`.
    `names` name what the callables load (their cache folders), for the key.
    Returns (pools, completions, stats with the seconds of each part)."""
    settings = [policy.name, policy.fmt, policy.temperature, policy.max_new_tokens, [p.task_id + p.split for p in problems], n,
                seed, list(names), n_inputs, tcg_samples, PUBLIC, tcg is not None, scorer is not None,
                _making_code(), source_hash("stages/policies.py", "stages/prompts.py", "stages/tcg.py", "generation.py")]
    out = Path(folder) / stable_hash(settings)
    if (out / "pools.json").exists():
        pools, stats = load_pools(out / "pools.json")
        return pools, json.loads((out / "samples.json").read_text())["completions"], {**stats, "cached": True}
    started = time.perf_counter()
    completions = policy.sample(problems, n=n, seed=seed, batch_size=batch_size)
    tokens = [[len(policy.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in cs] for cs in completions]
    programs = [[policy.program(p, c) for c in cs] for p, cs in zip(problems, completions)]
    write_json(out / "samples.json", {"completions": completions, "tokens": tokens})
    sampled = time.perf_counter()
    cases = [list(c)[:n_inputs] for c in tcg_cases(*tcg(), problems, n_samples=tcg_samples, seed=seed)] if tcg else [[] for _ in problems]
    written = time.perf_counter()
    inputs = {"tcg": [[c.args for c in found] for found in cases], "random": [typed_inputs(p, n_inputs, seed) for p in problems]}
    with Sandbox(workers=workers) as sandbox:
        pools, stats = build_pools(sandbox, problems, programs, tokens, cases, inputs)
        # a diagnostic test time could not compute: the share of the TCG's written outputs the reference returns
        right = [ok for flags in check_cases(sandbox, problems, [ParsedTests(cases=c) for c in cases]) for ok in flags]
        stats.update(sandbox.check_losses())
    ran = time.perf_counter()
    if scorer is not None:
        score_pools(pools, scorer(), [policy.prompt(p) for p in problems], completions)
    stats.update(sample_seconds=round(sampled - started, 2), tcg_seconds=round(written - sampled, 2),
                 run_seconds=round(ran - written, 2), prm_seconds=round(time.perf_counter() - ran, 2),
                 tcg_cases=sum(len(c) for c in cases), tcg_cases_right=round(sum(right) / len(right), 4) if right else None)
    save_pools(out / "pools.json", pools, stats)
    return pools, completions, {**stats, "cached": False}


# ---------------------------------------------------------------- filter, group, rank, submit
def groups(pool: Pool, subset: Sequence[int], ranker: str = "cluster", source: str = "tcg",
           filtered: bool = True) -> list[tuple[float, list[int], int]]:
    """The candidates of the samples `subset`, filtered on the public cases (all
    of them when none passes, or when not `filtered`), grouped and ranked:
    [(score, members, samples)], best first; members are distinct programs,
    best first (by PRM score when the ranker reads it, else by how many
    samples wrote them)."""
    if ranker not in RANKERS:
        raise ValueError(f"unknown ranker {ranker!r}: choose one of {', '.join(RANKERS)}")
    if ranker in ("prm", "combined") and pool.prm is None:
        raise ValueError(f"the {ranker!r} ranker needs PRM scores: pass a scorer to score_pools first")
    counts = Counter(pool.samples[i] for i in subset if pool.samples[i] >= 0)  # first-drawn order
    kept = ({p: c for p, c in counts.items() if pool.public[p]} if filtered else {}) or dict(counts)
    total = sum(kept.values())
    grouped: dict[str, list[int]] = {}
    for program in kept:
        grouped.setdefault(pool.passes[program] if ranker == "codet" else pool.outputs[source][program], []).append(program)
    ranked = []
    for key, members in grouped.items():
        size = sum(kept[p] for p in members)
        if ranker in ("prm", "combined"):
            members.sort(key=lambda p: -pool.prm[p])
        else:
            members.sort(key=lambda p: -kept[p])
        if ranker == "cluster":
            score = float(size)
        elif ranker == "codet":
            score = float(size * key.count("1"))
        elif ranker == "prm":
            score = pool.prm[members[0]]
        else:
            cases = len(pool.passes[members[0]])
            terms = [math.log1p(size) / math.log1p(total), pool.passes[members[0]].count("1") / cases if cases else 0.0,
                     sum(pool.prm[p] for p in members) / len(members),
                     1.0 - sum(pool.errors[source][p] for p in members) / len(members)]
            score = sum(terms) / len(terms)
        ranked.append((score, members, size))
    ranked.sort(key=lambda group: -group[0])  # stable: ties keep the first-drawn group first
    return ranked


def round_robin(ranked: Sequence[Sequence[int]], k: int) -> list[int]:
    """Up to `k` submissions: the best member of each group in rank order, then
    each group's second best, and so on."""
    chosen, depth = [], 0
    while len(chosen) < k and any(depth < len(members) for members in ranked):
        for members in ranked:
            if depth < len(members) and len(chosen) < k:
                chosen.append(members[depth])
        depth += 1
    return chosen


def submissions(pool: Pool, subset: Sequence[int], k: int, ranker: str = "cluster", source: str = "tcg",
                filtered: bool = True) -> list[int]:
    """The distinct programs (indices into the pool) submitted for the samples `subset`."""
    return round_robin([members for _, members, _ in groups(pool, subset, ranker, source, filtered)], k)


# ---------------------------------------------------------------- measuring
def subsets(total: int, n: int) -> list[range]:
    """Disjoint budgets of `n` samples in draw order (the draw is i.i.d., so each is a fresh draw of n)."""
    if not 1 <= n <= total:
        raise ValueError(f"a budget of {n} samples needs 1 <= n <= {total}, the samples drawn")
    return [range(start, start + n) for start in range(0, total - n + 1, n)]


def random_at(n: int, c: int, k: int) -> float:
    """The chance that k distinct random picks among n samples (c correct) hold a correct one; all n when k >= n."""
    return 0.0 if c == 0 else pass_at_k(n, c, min(k, n))


BASELINES = ("random", "distinct", "filter")  # no ranking: k random samples, the first k distinct programs, k random public-passing samples


def methods(rankers: Sequence[str] = RANKERS, sources: Sequence[str] = SOURCES) -> list[str]:
    """What `measure` reports: the `BASELINES`, then `ranker:source` (CodeT groups
    by cases, so it has one source), then clustering alone, without the public
    filter (`cluster:source:unfiltered`: what clustering buys by itself)."""
    found = list(BASELINES) + [f"{r}:{s}" for r in rankers for s in sources if r != "codet" or s == "tcg"]
    return found + ([f"cluster:{s}:unfiltered" for s in sources] if "cluster" in rankers else [])


def measure(pool: Pool, budgets: Sequence[int], ks: Sequence[int], rankers: Sequence[str] = RANKERS,
            sources: Sequence[str] = SOURCES) -> dict:
    """One problem's solve rates at every budget n and number of submissions k,
    averaged over the disjoint budgets of its draw: `pass1` (a sample's
    chance), `oracle[n]`, `select[method][n][k]`, and the cost of a budget,
    `tokens[n]` and `programs[n]` (distinct programs run). Every budget must
    divide the draw, so that each uses every sample once and pass@1 is the
    same for all."""
    total = len(pool.samples)
    if any(n < 1 or total % n for n in budgets):
        raise ValueError(f"every budget must divide the {total} samples drawn: got {list(budgets)}")
    right = [p >= 0 and pool.correct[p] for p in pool.samples]
    passing = [p >= 0 and pool.public[p] for p in pool.samples]
    found = {"pass1": sum(right) / total, "oracle": {}, "tokens": {}, "programs": {},
             "select": {m: {} for m in methods(rankers, sources)}}
    for n in budgets:
        chunks = subsets(total, n)
        tally = {m: {k: 0.0 for k in ks} for m in found["select"]}
        oracle = tokens = programs = 0.0
        for chunk in chunks:
            c = sum(right[i] for i in chunk)
            kept = [i for i in chunk if passing[i]] or list(chunk)
            oracle += c > 0
            tokens += sum(pool.tokens[i] for i in chunk)
            programs += len({pool.samples[i] for i in chunk if pool.samples[i] >= 0})
            drawn = list(dict.fromkeys(pool.samples[i] for i in chunk if pool.samples[i] >= 0))  # distinct, in draw order
            for k in ks:
                tally["random"][k] += random_at(n, c, k)
                tally["distinct"][k] += any(pool.correct[p] for p in drawn[:k])
                tally["filter"][k] += random_at(len(kept), sum(right[i] for i in kept), k)
            for method in tally:
                if ":" not in method:
                    continue
                ranker, source, *rest = method.split(":")
                chosen = submissions(pool, chunk, max(ks), ranker, source, filtered=not rest)
                for k in ks:
                    tally[method][k] += any(pool.correct[p] for p in chosen[:k])
        found["oracle"][n] = oracle / len(chunks)
        found["tokens"][n] = tokens / len(chunks)
        found["programs"][n] = programs / len(chunks)
        for method in tally:
            found["select"][method][n] = {k: tally[method][k] / len(chunks) for k in ks}
    return found


def gap_recovered(items: Sequence[tuple[float, float, float]]) -> float:
    """(sum select - sum pass1) / (sum oracle - sum pass1) over (select, pass1, oracle)
    per problem: the share of the way from one sample to the oracle that the
    selection keeps (NaN when the oracle gains nothing)."""
    select = sum(s for s, _, _ in items)
    base = sum(p for _, p, _ in items)
    oracle = sum(o for _, _, o in items)
    return (select - base) / (oracle - base) if oracle - base > 1e-12 else float("nan")
