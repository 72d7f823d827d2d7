"""The papermill runner on throwaway notebooks: order, failure reporting, manifest."""

import json

import nbformat
import pytest

from o1lite import reproduce as runner


def write_notebook(path, cells, parameters='PROFILE = "tiny"\nSEED = 0', title=None, reads=None, evidence=None):
    """A notebook: an optional title, the parameters cell, then `cells` (text is a code cell)."""
    notebook = nbformat.v4.new_notebook()
    tagged = nbformat.v4.new_code_cell(parameters)
    tagged.metadata["tags"] = ["parameters"]
    body = [nbformat.v4.new_code_cell(cell) if isinstance(cell, str) else cell for cell in cells]
    notebook.cells = ([nbformat.v4.new_markdown_cell(title)] if title else []) + [tagged] + body
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if reads is not None:
        notebook.metadata["o1lite"] = {"reads": list(reads)}
    if evidence is not None:
        notebook.metadata.setdefault("o1lite", {})["evidence"] = list(evidence)
    nbformat.write(notebook, path)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "o1lite"\n')
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "00_first.ipynb", ["open('first.txt', 'w').write(str(SEED))"])
    write_notebook(notebooks / "01_broken.ipynb", ["x = 1", "raise ValueError('boom in the middle')"])
    write_notebook(notebooks / "02_last.ipynb", ["open('last.txt', 'w').write(PROFILE)"])
    monkeypatch.setenv("O1LITE_ROOT", str(tmp_path))
    monkeypatch.setenv("O1LITE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(tmp_path / "figures"))
    return tmp_path


def test_failing_chapter_is_named_and_others_still_run(project, capsys):
    manifest = runner.reproduce("tiny", seed=7)
    status = {c["chapter"]: c for c in manifest.chapters}
    assert status["00"]["status"] == "ok" and status["02"]["status"] == "ok"
    assert status["01"]["status"] == "failed"
    assert "ValueError" in status["01"]["error"] and "boom in the middle" in status["01"]["error"]
    assert status["01"]["error"].startswith("cell ")
    assert (project / "notebooks" / "first.txt").read_text() == "7"
    assert (project / "notebooks" / "last.txt").read_text() == "tiny"
    assert (project / "runs" / "tiny" / "notebooks" / "01_broken.ipynb").exists()
    saved = json.loads((project / "runs" / "tiny" / "manifest.json").read_text())
    assert saved["seed"] == 7 and saved["profile"] == "tiny" and len(saved["chapters"]) == 3
    assert set(saved["versions"]) >= {"python", "torch", "transformers", "trl"}
    assert "chapter 01 failed" in capsys.readouterr().err


def test_only_selects_chapters_and_rejects_unknown(project):
    manifest = runner.reproduce("tiny", only="2")
    assert [c["chapter"] for c in manifest.chapters] == ["02"]
    with pytest.raises(SystemExit, match="no chapter 09"):
        runner.reproduce("tiny", only="00,09")


def write_chapter(path, number, reads=(), body="x = 1", evidence=None):
    """A chapter with sections that records one metric, as a real one does."""
    record = f"from o1lite import record\nrecord.write_metrics('{number}', {{'rate': {{'value': 0.5, 'ci95': [0.4, 0.6], 'n': 9}}}}, PROFILE)"
    write_notebook(path, [nbformat.v4.new_markdown_cell("## 1. Work"), body, nbformat.v4.new_markdown_cell("## 2. Record"), record],
                   parameters='PROFILE = "tiny"\nSEED = 0\nSMOKE = False', title=f"# {number} · a chapter", reads=reads,
                   evidence=evidence)


@pytest.fixture
def chapters3(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "o1lite"\n')
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_chapter(notebooks / "00_base.ipynb", "00")
    write_chapter(notebooks / "01_alone.ipynb", "01")
    write_chapter(notebooks / "02_reader.ipynb", "02", reads=["00"])
    monkeypatch.setenv("O1LITE_ROOT", str(tmp_path))
    monkeypatch.setenv("O1LITE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(tmp_path / "figures"))
    return notebooks


def statuses(manifest):
    return {c["chapter"]: ("fresh" if c["skipped"] else c["status"]) for c in manifest.chapters}


def test_fresh_chapters_are_skipped_and_a_change_reruns_its_readers(chapters3, capfd, monkeypatch):
    import io

    first = runner.reproduce("tiny", stream=io.StringIO())
    assert statuses(first) == {"00": "ok", "01": "ok", "02": "ok"}
    out = io.StringIO()
    second = runner.reproduce("tiny", stream=out)
    assert statuses(second) == {"00": "fresh", "01": "fresh", "02": "fresh"}
    assert out.getvalue().count("fresh, skipped") == 3 and "0 ran, 3 fresh, 0 failed" in out.getvalue()
    write_chapter(chapters3 / "00_base.ipynb", "00", body="x = 2")  # a changed notebook
    third = runner.reproduce("tiny", stream=io.StringIO())
    assert statuses(third) == {"00": "ok", "01": "fresh", "02": "ok"}  # 02 reads 00's outputs
    (prose,) = chapters3.glob("01_*.ipynb")
    notebook = nbformat.read(prose, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("## What you should see\n\nnew words, same code"))
    nbformat.write(notebook, prose)
    assert statuses(runner.reproduce("tiny", stream=io.StringIO()))["01"] == "fresh"  # prose is not a result
    code_cell = next(c for c in notebook.cells if c.cell_type == "code" and "tags" not in c.metadata)
    code_cell.source += "  # a comment added to a code cell"
    nbformat.write(notebook, prose)
    assert statuses(runner.reproduce("tiny", stream=io.StringIO()))["01"] == "fresh"  # nor is a comment
    assert statuses(runner.reproduce("tiny", parameters={"SMOKE": True}, stream=io.StringIO()))["01"] == "ok"
    assert statuses(runner.reproduce("tiny", only="01", force=True, stream=io.StringIO())) == {"01": "ok"}
    saved = json.loads((chapters3.parent / "runs" / "tiny" / "manifest.json").read_text())
    assert [c["chapter"] for c in saved["chapters"]] == ["00", "01", "02"]  # chapters this run did not select are kept
    assert saved["machine"]["cores"] and len(saved["sources"]) == 16
    assert saved["chapters"][1]["parameters"]["SMOKE"] is False  # every parameter, as run
    assert "Kernel is running over TCP" not in capfd.readouterr().err
    monkeypatch.setattr(runner, "package_hash", lambda: "a-changed-source")  # an edit anywhere in o1lite/
    assert statuses(runner.reproduce("tiny", stream=io.StringIO())) == {"00": "ok", "01": "ok", "02": "ok"}


def test_progress_on_a_terminal_rewrites_one_line(chapters3):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    runner.reproduce("tiny", only="01", stream=out)
    assert "\r\033[K[1/1] 01_alone · cell" in out.getvalue() and "ok (" in out.getvalue()


def test_progress_without_a_terminal_is_one_line_per_section(chapters3):
    import io

    out = io.StringIO()
    manifest = runner.reproduce("tiny", only="00", stream=out)
    text = out.getvalue()
    assert "\r" not in text
    assert "[1/1] 00_base · cell 4/7 · 1. Work" in text and "2. Record" in text  # papermill injects one cell
    assert "rate 0.5 [0.40, 0.60]" not in text  # only HEADLINES keys are shown; these chapters have none
    assert manifest.chapters[0]["status"] == "ok" and "figures and metrics:" in text and "next:" in text


def test_a_chapter_gets_only_the_parameters_it_declares_and_a_typo_is_one_line(project):
    notebooks = project / "notebooks"
    write_notebook(notebooks / "00_first.ipynb", ["open('seeds.txt', 'w').write(str(SEEDS))"],
                   parameters='PROFILE = "tiny"\nSEED = 0\nSEEDS = 3')
    manifest = runner.reproduce("tiny", only="00,02", parameters={"SEEDS": 1})
    assert all(c["status"] == "ok" for c in manifest.chapters)  # 02 has no SEEDS: not passed to it
    assert (notebooks / "seeds.txt").read_text() == "1"
    assert manifest.chapters[0]["parameters"]["SEEDS"] == 1 and "SEEDS" not in manifest.chapters[1]["parameters"]
    with pytest.raises(SystemExit, match="no selected chapter has a parameter SEDS"):
        runner.reproduce("tiny", only="00", parameters={"SEDS": 1})


def test_the_manifest_lets_check_recompute_every_fingerprint(project):
    """A dict parameter comes back from the manifest with its keys sorted; the fingerprint must not care,
    or `python -m o1lite check` would call fresh figures stale."""
    from o1lite.check import stale_note

    write_notebook(project / "notebooks" / "00_first.ipynb", ["x = 1"],
                   parameters='PROFILE = "tiny"\nSEED = 0\nTOKENS = {"vanilla": 96, "pseudocode": 320}')
    runner.reproduce("tiny", only="00,02")
    assert stale_note(str(project / "figures")) is None
    write_notebook(project / "notebooks" / "00_first.ipynb", ["x = 2"],
                   parameters='PROFILE = "tiny"\nSEED = 0\nTOKENS = {"vanilla": 96, "pseudocode": 320}')
    assert "chapter(s) 00" in stale_note(str(project / "figures"))


def test_a_changed_evidence_file_makes_the_chapter_that_draws_it_stale(chapters3):
    """A benchmark run again (or `python -m o1lite calibrate`) rewrites a committed file a chapter draws:
    that chapter (and its readers) runs again, and `check` calls its committed figures stale until it has."""
    import io

    from o1lite.check import stale_note

    project = chapters3.parent
    (project / "benchmarks").mkdir()
    measured = project / "benchmarks" / "measured.json"
    measured.write_text('{"auroc": 0.6}')
    write_chapter(chapters3 / "01_alone.ipynb", "01", evidence=["benchmarks/measured.json"])
    write_chapter(chapters3 / "03_reads_01.ipynb", "03", reads=["01"])
    runner.reproduce("tiny", stream=io.StringIO())
    assert set(statuses(runner.reproduce("tiny", stream=io.StringIO())).values()) == {"fresh"}
    assert stale_note(str(project / "figures")) is None
    measured.write_text('{"auroc": 0.7}')
    assert "chapter(s) 01, 03 were made" in stale_note(str(project / "figures"))  # 03 reads 01
    assert statuses(runner.reproduce("tiny", stream=io.StringIO())) == {"00": "fresh", "01": "ok", "02": "fresh", "03": "ok"}
    measured.unlink()  # a missing file counts as a change too, not as an error
    assert statuses(runner.reproduce("tiny", only="01", stream=io.StringIO())) == {"01": "ok"}


def test_every_committed_measurement_a_chapter_reads_is_declared_as_its_evidence():
    """A chapter that reads a committed benchmark or calibration file must name it in its metadata,
    or re-running that benchmark would leave the chapter's figures looking fresh."""
    import subprocess

    from o1lite.reproduce import chapters, notebook_evidence

    root = runner.project_root()
    tracked = subprocess.run(["git", "ls-files", "benchmarks", "figures"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.split()
    committed = [name for name in tracked if name.endswith(".json")
                 and not name.endswith(("_metrics.json", "manifest.json")) and name.count("/") == 1]
    assert "benchmarks/prm_data.json" in committed and "figures/00_calibration.json" in committed
    for path in chapters().values():
        code = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
                         if cell["cell_type"] == "code")
        mentioned = {name for name in committed if name.split("/")[1].removesuffix(".json") in code}
        declared = set(notebook_evidence(path))
        assert mentioned <= declared, f"{path.name} reads {sorted(mentioned - declared)} without declaring it"
        assert all((root / name).is_file() for name in declared), f"{path.name} declares a file that is not there"


def test_a_run_stopped_halfway_keeps_what_it_finished(chapters3, monkeypatch):
    """The manifest is written after every chapter: a run killed in chapter 02 has recorded
    00 and 01, so the next run skips them and runs 02 alone."""
    import io

    real = runner.run_chapter

    def stopped_in_02(number, *args, **kwargs):
        if number == "02":
            raise KeyboardInterrupt
        return real(number, *args, **kwargs)

    monkeypatch.setattr(runner, "run_chapter", stopped_in_02)
    with pytest.raises(KeyboardInterrupt):
        runner.reproduce("tiny", stream=io.StringIO())
    saved = json.loads((chapters3.parent / "runs" / "tiny" / "manifest.json").read_text())
    assert [(c["chapter"], c["status"]) for c in saved["chapters"]] == [("00", "ok"), ("01", "ok")]
    assert saved == json.loads((chapters3.parent / "figures" / "manifest.json").read_text())
    monkeypatch.setattr(runner, "run_chapter", real)
    assert statuses(runner.reproduce("tiny", stream=io.StringIO())) == {"00": "fresh", "01": "fresh", "02": "ok"}
