#!/usr/bin/env bash
# Set up model-audit on a fresh machine: a virtual environment in .venv with the project and
# its test dependencies. torch==2.13.0 goes first: it takes the local CPU wheel, where any other
# torch requirement would pull gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test]"
