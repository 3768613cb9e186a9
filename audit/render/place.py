"""The output place, checked before any work: a run that cannot write its reports says so
before the model loads, not after minutes of audit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError

__all__ = ["OutputPlace", "prepare_output_place", "check_output_file"]


@dataclass(frozen=True)
class OutputPlace:
    """A folder proven writable, and the folders the check had to create (outermost first)."""

    folder: Path
    made: tuple[Path, ...] = ()

    def undo(self) -> None:
        """Remove the folders the check created, while they are still empty: a run that fails
        or a ``validate`` leaves nothing behind."""
        for folder in reversed(self.made):
            try:
                folder.rmdir()
            except OSError:
                return


def prepare_output_place(out_dir: Path, where: str) -> OutputPlace:
    """Create ``out_dir`` (or find it) and prove it writable by writing and removing a probe
    file; raise :class:`OutputError` at ``where`` (``--out`` or the spec's line) otherwise."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(where, f"{out_dir} is a file, not a folder for the reports")
    missing = _missing_folders(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(where, f"cannot create the folder {out_dir}: {error.strerror or error}") from None
    place = OutputPlace(out_dir, missing)
    probe = out_dir / f".model-audit-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        place.undo()
        raise OutputError(where, f"cannot write in {out_dir}: {error.strerror or error}") from None
    return place


def _missing_folders(folder: Path) -> tuple[Path, ...]:
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return tuple(reversed(missing))


def check_output_file(path: Path, where: str) -> Path:
    """A single output file (``compare --out``): its folder must exist and take a file, and the
    path must not be a folder."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(where, f"{path} is a folder; name the file to write")
    if not path.parent.is_dir():
        raise OutputError(where, f"no folder {path.parent} to write {path.name} into")
    prepare_output_place(path.parent, where)
    return path
