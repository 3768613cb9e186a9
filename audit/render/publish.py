"""Putting a run's reports in place together, so a folder never holds files of two runs.

Files are written into a private staging folder inside the output folder
(``.model-audit-<run id>-<pid>.partial``: same file system, so each move is a rename) and moved in
only when every one is written. The move removes the old ``manifest.json`` first, then any
report file of an earlier run that this run did not write, renames the new files in and the
new manifest last. A run killed before the move leaves the earlier reports and their
manifest as they were; one killed during it leaves no manifest, which says the set is not
whole. The staging folder is removed on every way out the process can see (an error, Ctrl-C,
SIGTERM, which the CLI turns into an exception); one left by a process that could not clean up
(SIGKILL, a power cut) is removed by the next run into that folder, once its process is gone.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from ..manifest import MANIFEST, manifest
from ._atomic import fsynced_write

__all__ = ["Staging", "staging_name", "remove_abandoned"]


def staging_name(run_id: str, pid: int | None = None) -> str:
    return f".model-audit-{run_id}-{os.getpid() if pid is None else pid}.partial"


def remove_abandoned(out_dir: Path) -> None:
    """Remove staging folders in ``out_dir`` whose process no longer runs on this machine."""
    for folder in out_dir.glob(".model-audit-*-*.partial"):
        pid = folder.name.removesuffix(".partial").rsplit("-", 1)[-1]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class Staging:
    """``with Staging(out_dir, run_id) as stage: stage.add(name, data); stage.publish(...)``."""

    def __init__(self, out_dir: Path, run_id: str):
        self.out_dir = Path(out_dir)
        self.run_id = run_id or uuid.uuid4().hex[:16]  # a result made without a run (tests) still stages apart
        self.folder = self.out_dir / staging_name(self.run_id)
        self.files: dict[str, bytes] = {}

    def __enter__(self) -> "Staging":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        remove_abandoned(self.out_dir)
        self.folder.mkdir()
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, name: str, data: bytes) -> None:
        fsynced_write(self.folder / name, data)
        self.files[name] = data

    def publish(self, *, created: str, version: str, known: tuple[str, ...]) -> dict[str, Path]:
        """Move the added files into the output folder, the manifest last; ``known`` are the
        report file names an earlier run may have left there. Returns ``{name: path}``."""
        import json

        record = manifest(self.run_id, created, version, self.files)
        fsynced_write(self.folder / MANIFEST, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
        (self.out_dir / MANIFEST).unlink(missing_ok=True)
        for name in set(known) - set(self.files):
            (self.out_dir / name).unlink(missing_ok=True)  # an earlier run's report this run did not write
        for name in (*self.files, MANIFEST):
            os.replace(self.folder / name, self.out_dir / name)
        _fsync_folder(self.out_dir)
        return {name: self.out_dir / name for name in self.files}


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
