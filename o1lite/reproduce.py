"""The papermill runner: execute the chapters in order and record a manifest.

Executed notebooks go to `runs/<profile>/notebooks/`, figures to `figures/`.
A failing chapter is named with its failing cell; the other chapters still
run and their results are kept. The manifest (`runs/<profile>/manifest.json`,
copied to `figures/manifest.json`) holds the profile, parameters, seeds,
package versions, git commit and per-chapter seconds.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .profiles import figures_dir, get_profile, project_root, runs_dir
from .record import write_json

PACKAGES = ("torch", "transformers", "tokenizers", "trl", "peft", "datasets", "accelerate", "papermill", "numpy")


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


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    try:
        root = project_root()
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True)
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@dataclass
class ChapterResult:
    chapter: str
    notebook: str
    status: str
    seconds: float
    error: str | None = None


@dataclass
class Manifest:
    profile: str
    seed: int
    parameters: dict[str, Any]
    versions: dict[str, str] = field(default_factory=package_versions)
    commit: str = field(default_factory=git_commit)
    machine: str = field(default_factory=lambda: f"{platform.machine()} {platform.system()}")
    chapters: list[dict] = field(default_factory=list)
    total_seconds: float = 0.0


def describe_failure(error: Exception) -> str:
    """One line: which cell failed and with what."""
    cell = getattr(error, "cell_index", None)
    ename = getattr(error, "ename", type(error).__name__)
    evalue = str(getattr(error, "evalue", error)).strip().splitlines()
    where = f"cell {cell}" if cell is not None else "before any cell ran"
    return f"{where}: {ename}: {evalue[0] if evalue else ''}"


def run_chapter(number: str, profile: str, parameters: dict[str, Any], out_dir: Path) -> ChapterResult:
    import papermill

    notebook = chapters()[number]
    output = out_dir / notebook.name
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters={"PROFILE": profile, **parameters},
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=False,
        )
        return ChapterResult(number, str(output), "ok", round(time.perf_counter() - start, 2))
    except Exception as error:  # papermill's PapermillExecutionError and kernel failures
        return ChapterResult(number, str(output), "failed", round(time.perf_counter() - start, 2), describe_failure(error))


def reproduce(
    profile: str = "tiny", only: str | None = None, seed: int = 0, parameters: dict[str, Any] | None = None
) -> Manifest:
    """Run the selected chapters in order; write and return the manifest."""
    name = get_profile(profile).name  # fails early, in one line, on an unknown profile
    parameters = {"SEED": seed, **(parameters or {})}
    selected = select(only)
    out_dir = runs_dir() / name / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(profile=profile, seed=seed, parameters=parameters)
    start = time.perf_counter()
    for position, number in enumerate(selected, 1):
        title = chapters()[number].stem
        print(f"[{position}/{len(selected)}] {title} ...", flush=True)
        result = run_chapter(number, profile, parameters, out_dir)
        manifest.chapters.append(result.__dict__)
        status = "ok" if result.status == "ok" else f"FAILED at {result.error}"
        print(f"[{position}/{len(selected)}] {title}: {status} ({result.seconds:.1f} s)", flush=True)
    manifest.total_seconds = round(time.perf_counter() - start, 2)
    record = manifest.__dict__
    write_json(runs_dir() / name / "manifest.json", record)
    write_json(figures_dir() / "manifest.json", record)
    failed = [c for c in manifest.chapters if c["status"] != "ok"]
    print(f"done in {manifest.total_seconds:.0f} s: {len(selected) - len(failed)} ok, {len(failed)} failed", flush=True)
    for chapter in failed:
        print(f"  chapter {chapter['chapter']} failed at {chapter['error']}; executed copy: {chapter['notebook']}", file=sys.stderr)
    return manifest
