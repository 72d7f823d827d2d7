"""The papermill runner on throwaway notebooks: order, failure reporting, manifest."""

import json

import nbformat
import pytest

from o1lite import reproduce as runner


def write_notebook(path, cells):
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('PROFILE = "tiny"\nSEED = 0')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters] + [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
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
