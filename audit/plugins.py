"""What every registry of plug-ins shares (metrics, model adapters): importing a package's
modules so that their registration decorators run."""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["import_plugins"]


def import_plugins(package_name: str) -> None:
    """Import every module and subpackage of ``package_name`` whose name does not start with ``_``."""
    package = importlib.import_module(package_name)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package_name}.{module.name}")
