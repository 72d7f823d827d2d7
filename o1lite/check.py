"""`python -m o1lite check`: does a re-run agree with the committed figures?

A reviewer runs `make reproduce`, which rewrites `figures/NN_metrics.json`,
then `python -m o1lite check`, which compares those files with the ones in
git (`HEAD` by default, or a folder of metrics files) and prints one table:

- **an estimate** (a key with a `_ci95`) agrees when the re-run's value lies
  within the tolerance of the committed one: the half-width of the committed
  95% CI, which resamples seeds and problems and so carries the recorded
  seed spread (never less than `MIN_TOLERANCE`);
- **a difference** (`<a>_minus_<b>`) whose committed CI excludes 0 is a
  direction a chapter states: the re-run must have the same direction, its
  CI excluding 0 on the same side. One whose CI holds 0 ("no difference we
  can detect") is reported, not compared: a re-run may find either sign;
- **volatile keys** (timings, throughputs: each file lists them) are
  reported beside the rest and never compared; counts and settings without
  a CI are reported too.

It also says when the committed figures are stale: made by other package or
notebook sources than the ones checked out (`figures/manifest.json`).
Exit status 0 when everything compared agrees, 1 otherwise, 2 when there is
nothing to compare. Introduced in the README's section for reviewers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from .metrics import direction
from .profiles import figures_dir, project_root
from .record import is_volatile

MIN_TOLERANCE = 0.02
PARTS = ("_ci95", "_n", "_seeds", "_per_seed")


def committed(name: str, against: str) -> dict | None:
    """figures/<name> as committed at `against` (a git revision) or in a folder `against`."""
    folder = Path(against)
    if folder.is_dir():
        path = folder / name
        return json.loads(path.read_text()) if path.exists() else None
    shown = subprocess.run(["git", "show", f"{against}:figures/{name}"], cwd=project_root(), capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def part_of_estimate(key: str, record: dict) -> bool:
    """Is `key` the CI, n, seeds or per-seed list of another key?"""
    return any(key.endswith(part) and key[: -len(part)] in record for part in PARTS)


def compare_key(key: str, old: dict, new: dict) -> tuple[str, str, str, str]:
    """(committed, re-run, rule, verdict) for one key; verdict is ok, DIFFERS, reported or missing."""
    if key not in new:
        return _show(old, key), "—", "", "missing"
    if is_volatile(key) or f"{key}_ci95" not in old or not isinstance(old[key], (int, float)):
        return _show(old, key), _show(new, key), "volatile" if is_volatile(key) else "", "reported"
    if "_minus_" in key:
        stated = direction({"ci95": old[f"{key}_ci95"]})
        if stated == 0:
            return _show(old, key), _show(new, key), "no direction stated", "reported"
        found = direction({"ci95": new.get(f"{key}_ci95", [new[key], new[key]])})
        word = "> 0" if stated > 0 else "< 0"
        return _show(old, key), _show(new, key), f"CI {word}", "ok" if found == stated else "DIFFERS"
    low, high = old[f"{key}_ci95"]
    tolerance = max((high - low) / 2, MIN_TOLERANCE)
    verdict = "ok" if abs(new[key] - old[key]) <= tolerance + 1e-9 else "DIFFERS"
    return _show(old, key), _show(new, key), f"± {tolerance:.3f}", verdict


def _show(record: dict, key: str) -> str:
    value = record.get(key)
    if isinstance(value, float):
        text = f"{value:.3f}"
    else:
        text = str(value)
    if f"{key}_ci95" in record and record[f"{key}_ci95"][0] is not None:
        low, high = record[f"{key}_ci95"]
        text += f" [{low:.3f}, {high:.3f}]"
    return text


def stale_note(against: str) -> str | None:
    """A line naming the chapters whose committed figures other sources made: their
    fingerprints, recomputed from the notebooks and package checked out now (with
    the parameters and versions the committed manifest records), differ."""
    from .reproduce import chapters, fingerprint, notebook_reads, package_hash

    manifest = committed("manifest.json", against)
    if not manifest or not manifest.get("chapters") or not all("fingerprint" in c for c in manifest["chapters"]):
        return "the committed manifest records no chapter fingerprints: cannot tell whether the figures are stale"
    available, sources, prints, stale = chapters(), package_hash(), {}, []
    for entry in manifest["chapters"]:
        number = entry["chapter"]
        if number not in available:
            continue
        upstream = [prints.get(read, "") for read in notebook_reads(available[number])]
        prints[number] = fingerprint(available[number], manifest["profile"], entry["parameters"], sources, upstream,
                                     manifest["versions"])
        if prints[number] != entry["fingerprint"]:
            stale.append(number)
    if stale:
        return (f"the committed figures of chapter(s) {', '.join(stale)} were made by other notebook or package "
                "sources than the ones checked out: they are stale (re-run `make reproduce` and commit figures/)")
    return None


def kernel_note(against: str, current: Path) -> str | None:
    """A line when the committed run and the re-run took different CPU float paths (torch's kernel
    path or thread count, `figures/manifest.json`): then some numbers move even with the same seeds."""
    old = (committed("manifest.json", against) or {}).get("machine", {})
    path = current / "manifest.json"
    new = json.loads(path.read_text()).get("machine", {}) if path.exists() else {}
    differ = [f"{name} {old[name]} → {new[name]}" for name in ("kernel_path", "threads")
              if old.get(name) is not None and new.get(name) is not None and old[name] != new[name]]
    if not differ:
        return None
    paths = old.get("kernel_path"), new.get("kernel_path")
    hint = ("; run with nothing set and judge the numbers by their CIs: another kernel path pretrains another base, "
            "as another seed would (an AVX2 CPU computes what ATEN_CPU_CAPABILITY=avx2 does on an AVX-512 one: "
            "benchmarks/kernel_path_ops.py; what moved on that path: the README's 'What to expect')") \
        if all(paths) and paths[0] != paths[1] else ""
    return (f"the re-run took another CPU float path than the committed one ({', '.join(differ)}): the same seeds give "
            f"other floats there, so a number may move by about a seed's spread{hint}")


def check(against: str = "HEAD", current: Path | None = None, stream: TextIO = sys.stdout, verbose: bool = False) -> int:
    current = Path(current) if current else figures_dir()
    rows, compared, differ = [], 0, 0
    for path in sorted(current.glob("[0-9][0-9]_metrics.json")):
        old, new = committed(path.name, against), json.loads(path.read_text())
        if old is None:
            rows.append((path.name[:2], "(whole file)", "—", "new", "", "reported"))
            continue
        for key in sorted(old):
            if key in ("profile", "volatile") or part_of_estimate(key, old):
                continue
            was, now, rule, verdict = compare_key(key, old, new)
            compared += verdict in ("ok", "DIFFERS")
            differ += verdict in ("DIFFERS", "missing")
            if verbose or verdict != "reported" or rule == "no direction stated":
                rows.append((path.name[:2], key, was, now, rule, verdict))
    if not rows:
        print(f"nothing to compare: no figures/NN_metrics.json in {current}", file=stream)
        return 2
    header = ("ch", "key", "committed", "re-run", "rule", "verdict")
    widths = [max(len(str(row[i])) for row in [*rows, header]) for i in range(6)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)), file=stream)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)), file=stream)
    for note in (stale_note(against), kernel_note(against, current)):
        if note:
            print(f"note: {note}", file=stream)
    print(f"{compared} numbers and directions compared against {against}: "
          + ("all agree" if not differ else f"{differ} disagree") + " (volatile keys and counts: `--verbose`)", file=stream)
    return 1 if differ else 0
