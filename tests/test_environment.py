"""environment.yml and pyproject.toml must pin the same versions."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pins(requirements):
    found = {}
    for line in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = pins(project["dependencies"] + project["optional-dependencies"]["test"] + project["optional-dependencies"]["notebook"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert pins(pip_section) == declared
    assert "-e ." in pip_section


def test_every_runtime_dependency_is_pinned_and_gpu_extra_stays_out():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert len(pins(project["dependencies"])) == len(project["dependencies"])
    assert "torch" in pins(project["dependencies"])
    assert any(dep.startswith("unsloth") for dep in project["optional-dependencies"]["gpu"])
    makefile = (ROOT / "Makefile").read_text()
    assert "[gpu]" not in makefile and ".[test]" in makefile
