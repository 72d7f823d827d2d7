# The two commands: `make reproduce` (the whole tutorial on the tiny profile,
# regenerating figures/) and `make test`. Both create .venv/ when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is installed first, alone, at the version pyproject.toml pins, so that
# no other package pulls a different (CUDA) build.
TORCH_PIN := $(shell grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')
PROFILE ?= tiny
# FORCE=1 re-runs every chapter; by default a chapter whose notebook, package sources,
# parameters and upstream chapters are unchanged since its last successful run is skipped.
FORCE ?=

.PHONY: install reproduce test test-quick bench clean-runs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH_PIN)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m o1lite reproduce --profile $(PROFILE) $(if $(FORCE),--force)

test: $(STAMP)
	$(BIN)/python -m pytest

# The same without the chapters' run on a Qwen2.5-shaped checkpoint (its slowest part), for a quick loop.
test-quick: $(STAMP)
	O1LITE_QWEN_PASS=0 $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/sandbox_bench.py

clean-runs:
	rm -rf runs/
