"""The wheel ships every subpackage: pyproject.toml lists packages by hand (templates/ and
policies/ live at the top level and are mapped into the package), so a new folder under audit/
must be listed there, or an installed model-audit would miss it while the editable checkout
still works."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "audit").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert {"audit.templates", "audit.policies"} <= listed
