"""Model and probe loaders: files named by the spec -> a torch module and arrays.

Every failure to read or use a file becomes a :class:`~audit.errors.SourceError` naming the
file and the problem (exit code 2 in the CLI).
"""

from .digest import file_digest
from .models import LoadedModel, load_model
from .probes import Probe, load_probe

__all__ = ["LoadedModel", "Probe", "file_digest", "load_model", "load_probe"]
