"""Shared fixtures: every test writes runs/ and figures/ into a temporary folder."""

import pytest

from o1lite.profiles import MICRO


@pytest.fixture(autouse=True)
def isolated_outputs(tmp_path_factory, monkeypatch):
    """Never touch the repository's runs/ or figures/ from a test."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("O1LITE_RUNS_DIR", str(base / "runs"))
    monkeypatch.setenv("O1LITE_FIGURES_DIR", str(base / "figures"))


@pytest.fixture(scope="session")
def micro_base(tmp_path_factory):
    """A micro tiny base built once per test session (seconds)."""
    import os

    from o1lite import models

    os.environ["O1LITE_RUNS_DIR"] = str(tmp_path_factory.getbasetemp() / "runs")
    return models.ensure_tiny_base(MICRO, progress=False)


@pytest.fixture(scope="module")
def sandbox():
    """Two sandbox workers shared by a test module (one per core)."""
    from o1lite.sandbox import Sandbox

    with Sandbox(workers=2) as box:
        yield box
