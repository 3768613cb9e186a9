"""sha256 of the files an audit read, so a report names exactly what was audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..results import FileDigest

_CHUNK = 1 << 20


def file_digest(path: Path) -> FileDigest:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return FileDigest(path=str(path), sha256=digest.hexdigest(), bytes=path.stat().st_size)
