"""Model and probe loaders: files named by the spec -> a loaded model (one adapter per model kind,
:mod:`.adapters`) and arrays.

Every failure to read or use a file becomes a :class:`~audit.errors.SourceError` naming the
file and the problem (exit code 2 in the CLI).
"""

from .adapters import LoadedModel, load_model
from .digest import file_digest
from .probes import Probe, load_probe

__all__ = ["LoadedModel", "Probe", "file_digest", "load_model", "load_probe"]
