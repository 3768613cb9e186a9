"""Atomic file writes: a temporary file in the same folder, then a rename, so a crash never
leaves a half-written report that looks whole."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic", "fsynced_write"]


def write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(handle, "wb") as stream:
            _write_through(stream, data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fsynced_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file at ``path`` (in a folder no one else reads) and sync it."""
    with open(path, "xb") as stream:
        _write_through(stream, data)


def _write_through(stream, data: bytes) -> None:
    stream.write(data)
    stream.flush()
    os.fsync(stream.fileno())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
