"""The wheel ships every subpackage and every file the package reads at run time: packages are
found by setup.py (a new folder under audit/ needs no edit), templates/ and policies/ are mapped
into the package, and each stage's report partial lives in its own package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_package_and_data_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path)], check=True, cwd=tmp_path, capture_output=True)
    (wheel,) = tmp_path.glob("model_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {init.relative_to(ROOT).as_posix() for init in (ROOT / "audit").rglob("__init__.py")}
    assert packages - names == set(), "packages missing from the wheel"
    partials = {path.relative_to(ROOT).as_posix() for path in (ROOT / "audit" / "stages").rglob("*.j2")}
    assert partials and partials - names == set()
    shipped = {"audit/templates/report.html.j2", "audit/templates/report.css", "audit/policies/default.yaml",
               "audit/schema/audit.schema.json"}
    assert shipped - names == set()
