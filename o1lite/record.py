"""Recorded results: each chapter's metrics JSON, the runner's manifest, and
the two file rules every cache and record shares (one atomic writer, one
stable hash that names a cache folder after the settings that made it).

Metrics are flat: `key: value`, with `key_ci95: [low, high]` and `key_n`
beside every estimate (and `key_seeds`, `key_per_seed` for estimates over
several seeds). Floats are rounded to 6 places and keys sorted. Each file
lists its `volatile` keys: timings, throughputs and sandbox job counts, which
measure the machine or the cache and are reported but never compared
(`is_volatile` says which). Every other
key is the same, byte for byte, when the same run repeats on the same machine
and thread count; across machines, only within the recorded seed spread
(`python -m o1lite check` compares a re-run with the committed files).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from .profiles import figures_dir, get_profile


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


ESTIMATE_PARTS = ("ci95", "n", "seeds", "per_seed")
# Keys that measure the machine or the cache, not the method: timings, throughputs, and
# counts of work done (`sandbox_jobs`), which are smaller when a run finds its searches cached.
VOLATILE_PATTERN = re.compile(r"(_seconds$|per_second|speedup|_vs_|load_average|throughput|sandbox_jobs$)")


def is_volatile(key: str) -> bool:
    return bool(VOLATILE_PATTERN.search(key))


def flatten(metrics: dict[str, Any]) -> dict[str, Any]:
    """Turn `{"k": {"value", "ci95", "n", ...}}` (from `metrics.estimate` or
    `metrics.seeded_estimate`) into k, k_ci95, k_n, k_seeds, k_per_seed."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict) and "value" in value:
            flat[key] = value["value"]
            flat.update({f"{key}_{part}": value[part] for part in ESTIMATE_PARTS if part in value})
        else:
            flat[key] = value
    return _clean(flat)


def write_metrics(chapter: str, metrics: dict[str, Any], profile: str = "tiny") -> Path:
    """Write figures/<chapter>_metrics.json (chapter like "00") and return its path.
    The file lists its volatile keys (`is_volatile`) under "volatile"."""
    record = flatten(metrics)
    record["profile"] = get_profile(profile).name
    record["volatile"] = sorted(key for key in record if is_volatile(key))
    return write_json(figures_dir() / f"{chapter}_metrics.json", record)


def write_json(path: str | Path, record: dict[str, Any]) -> Path:
    """Write `record` as sorted, indented JSON, atomically."""
    return write_atomic(path, json.dumps(_clean(record), indent=2, sort_keys=True) + "\n")


def write_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to `path` through a synced temporary file and a rename, so a
    reader (or a run killed half-way) sees the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


@functools.lru_cache(maxsize=None)
def code_text(source: str) -> str:
    """Python `source` as it runs: comments and docstrings cut, trailing spaces and blank lines
    dropped. What a hash of code should see, so that rewording a comment or a docstring leaves
    caches and figures fresh while any change to a statement does not. Cuts go by the positions
    that `tokenize` and `ast` report (the same on every Python version); text that does not parse
    (a notebook cell with a shell escape) is returned as it is."""
    import ast
    import io
    import tokenize

    lines = source.splitlines()
    try:
        cuts = [(t.start, t.end) for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if t.type == tokenize.COMMENT]
        tree = ast.parse(source)
    except (SyntaxError, tokenize.TokenError, ValueError):
        return source

    def column(row: int, offset: int) -> int:  # ast counts UTF-8 bytes along a line; tokenize, characters
        return len(lines[row - 1].encode()[:offset].decode(errors="ignore"))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                cuts.append(((first.lineno, column(first.lineno, first.col_offset)),
                             (first.end_lineno, column(first.end_lineno, first.end_col_offset))))
    for (row, col), (end_row, end_col) in sorted(cuts, reverse=True):  # from the end: earlier positions stay put
        lines[row - 1:end_row] = [lines[row - 1][:col] + lines[end_row - 1][end_col:]]
    return "\n".join(line.rstrip() for line in lines if line.strip())


def source_hash(*modules: str) -> str:
    """A hash of the code (`code_text`) of the package's source files `modules` (paths under
    `o1lite/`, a folder meaning every `.py` in it). Cache keys include the code that makes the
    artifact, not only its settings, so a changed generator or trainer never reuses a model
    that the old code built; a reworded comment or docstring changes no key."""
    package = Path(__file__).resolve().parent
    files = []
    for name in modules:
        path = package / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return stable_hash({str(f.relative_to(package)): code_text(f.read_text()) for f in files}, 16)


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts (stable across runs and machines)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def stable_hash(value: Any, length: int = 12) -> str:
    """A short SHA-256 of `value` that is the same on every run and machine.

    Strings are hashed as they are; anything else as sorted-key JSON (a
    dataclass config through `dataclasses.asdict` first). Cache folders are
    named with it, so a changed setting never reuses a stale artifact.
    """
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def torch_threads() -> int:
    """The torch threads a chapter uses on CPU: OMP_NUM_THREADS where set (its outer level, as in
    `4,2`), else every core this process may use. `models.configure_threads` sets it; `machine` records it."""
    omp = (os.environ.get("OMP_NUM_THREADS") or "").split(",")[0].strip()
    if omp.isascii() and omp.isdigit() and int(omp) > 0:  # ASCII digits only, as OpenMP reads them
        return int(omp)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # the cores this process may use


def machine() -> dict[str, Any]:
    """CPU model, core count, memory, torch's CPU kernel path and thread count: what decides the
    float paths and the timings of a run. The kernel path is the one torch picks in a process
    started with this environment (`AVX512`, `AVX2` or `DEFAULT`; `ATEN_CPU_CAPABILITY` chooses
    it), so two runs whose figures differ can say whether they took the same float path."""
    import platform

    import torch

    cpu, memory = platform.processor() or platform.machine(), None
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        memory = round(kib / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory, "system": f"{platform.machine()} {platform.system()}",
            "kernel_path": torch.backends.cpu.get_cpu_capability(), "threads": torch_threads()}
