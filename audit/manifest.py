"""``manifest.json``: which files one run wrote, so a folder of reports can be checked whole.

A run writes its reports into a private staging folder, then moves them into the output
folder together, the manifest last (:mod:`audit.render.publish`). The manifest names the run
(``run_id``, also in audit.json and on the HTML and PDF), when it was made, and the sha256 and
size of each file. A folder whose manifest is missing or disagrees with a file was left by an
interrupted move or was edited; :func:`check_beside` says so for ``compare`` and ``--baseline``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import SourceError

__all__ = ["MANIFEST", "manifest", "sha256_of", "check_beside"]

MANIFEST = "manifest.json"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(run_id: str, created: str, version: str, files: dict[str, bytes]) -> dict:
    """The manifest of a run that wrote ``files`` (``{file name: content}``)."""
    return {
        "tool": "model-audit",
        "version": version,
        "run_id": run_id,
        "created": created,
        "files": {name: {"sha256": sha256_of(data), "bytes": len(data)} for name, data in sorted(files.items())},
    }


def check_beside(path: Path) -> None:
    """Check an audit.json against the manifest.json in its folder, when there is one.

    Raises :class:`SourceError` when the manifest is unreadable or its sha256 of the file
    differs (the file was edited, or the manifest is another run's): the folder's reports may
    then disagree with each other. A file the manifest does not list is not held to it.
    """
    path = Path(path)
    beside = path.parent / MANIFEST
    if not beside.is_file():
        return
    try:
        recorded = json.loads(beside.read_text(encoding="utf-8"))
        entry = recorded["files"].get(path.name)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SourceError(str(beside), f"unreadable manifest ({type(error).__name__}); rerun the audit "
                                       "or move audit.json out of that folder") from None
    if not isinstance(entry, dict):
        return  # a file the run did not write (a copy renamed by hand): nothing to hold it to
    if entry.get("sha256") != sha256_of(path.read_bytes()):
        raise SourceError(str(path), f"differs from the sha256 in {beside.name} beside it: the file was changed "
                                     "or comes from another run, so the folder's reports may disagree")
