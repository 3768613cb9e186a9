#!/usr/bin/env bash
# DADApy pins numpy<2 and pulls JAX: it gets a throw-away environment of its own, used by
# benchmarks/estimators.py (and tests/data/make_dadapy_reference.py) through a subprocess.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 -m venv "$here/.venv-dadapy"
"$here/.venv-dadapy/bin/pip" install -q --upgrade pip
"$here/.venv-dadapy/bin/pip" install -q dadapy
