"""Errors that mean "bad input" (exit code 2): the CLI prints them as one line, no traceback.

Each carries ``where`` (a file, ``file:line``, or a layer name) and ``what`` (the problem), and
prints as ``error: <where>: <what>``.
"""

from __future__ import annotations

__all__ = ["AuditInputError", "SpecError", "SourceError", "CaptureError", "OutputError"]


class AuditInputError(Exception):
    """A problem with what the user gave us: the spec, the model, the probe data."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


class SpecError(AuditInputError):
    """The YAML spec is malformed or invalid; ``where`` is ``file:line: key.path``."""


class SourceError(AuditInputError):
    """A model or probe file cannot be read or does not fit the spec; ``where`` names the file."""


class CaptureError(AuditInputError):
    """Running the model on the probe failed or produced unusable activations (NaN, inf)."""


class OutputError(AuditInputError):
    """The output place cannot take the reports (a file where the folder should be, no write
    permission); ``where`` is ``--out`` or the spec's ``output.dir`` line."""
