#!/usr/bin/env bash
# Set up model-audit on a fresh machine:
#  1. the Debian libraries WeasyPrint needs for the PDF report (pango, harfbuzz-subset, a font),
#     and poppler-utils, whose pdftoppm the tests use to look at a rendered page;
#  2. a virtual environment in .venv with the project and its test dependencies. torch==2.13.0
#     goes first: it takes the local CPU wheel, where any other torch requirement would pull
#     gigabytes of CUDA packages.
#  3. rapidocr-onnxruntime without its dependencies: it is installed only for the ONNX model it
#     ships (PaddleOCR's text-direction classifier), used by an example and the tests; its code,
#     which would want OpenCV, is never imported.
#  4. silero-vad without its dependencies, likewise only for the ONNX voice-activity detector it
#     ships (silero_vad/data/*.onnx, whose recurrent state and sample rate are graph inputs), used by
#     the tests; its code (which would want torch and torchaudio) is never imported.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q -e ".[test]"
.venv/bin/pip install -q --no-deps rapidocr-onnxruntime==1.4.4
.venv/bin/pip install -q --no-deps silero-vad==6.2.3
