"""The checkpoints a ``checkpoints:`` section names, resolved and checked before the probe runs:
files found (a glob, or a list of ``{step, weights}``), steps read and unique, every state dict
fitting the model's keys and shapes. Each problem is a spec error naming its line."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError

__all__ = ["Checkpoint", "checkpoint_series", "check_fits"]

_SHOWN = 3  # keys named in a "does not fit" message


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: its step, its file, how the spec names it (``label``) and where (``loc``)."""

    step: int
    path: Path
    label: str
    loc: tuple


def checkpoint_series(loaded) -> list[Checkpoint]:
    """The section's checkpoints by step; a :class:`~audit.errors.SpecError` naming the line of a
    glob matching no file, a name without a step, a missing file or a step named twice."""
    section = loaded.spec.checkpoints
    found = _from_glob(loaded, section) if isinstance(section.weights, str) else _from_list(loaded, section)
    _unique_steps(loaded, found)
    return sorted(found, key=lambda checkpoint: checkpoint.step)


def _from_glob(loaded, section) -> list[Checkpoint]:
    loc = ("checkpoints", "weights")
    pattern = str(loaded.resolve(section.weights))
    paths = sorted(Path(name) for name in glob.glob(pattern) if Path(name).is_file())
    if not paths:
        raise loaded.error(loc, f"no file matches {section.weights!r} (looked for {pattern})")
    return [Checkpoint(_step_of(loaded, path, section.step_pattern), path, path.name, loc) for path in paths]


def _step_of(loaded, path: Path, pattern: str) -> int:
    matches = re.findall(pattern, path.name)
    group = matches[-1] if matches else None
    group = group[0] if isinstance(group, tuple) else group
    if group is None or not str(group).isdigit():
        raise loaded.error(("checkpoints", "weights"), f"cannot read a step from {path.name!r} with step_pattern "
                                                       f"{pattern!r} (its first group must match the step's digits)")
    return int(group)


def _from_list(loaded, section) -> list[Checkpoint]:
    found = []
    for index, entry in enumerate(section.weights):
        path = loaded.resolve(entry.weights)
        if not path.is_file():
            raise loaded.error(("checkpoints", "weights", index, "weights"), f"file not found: {path}")
        found.append(Checkpoint(entry.step, path, entry.weights, ("checkpoints", "weights", index, "step")))
    return found


def _unique_steps(loaded, found: list[Checkpoint]) -> None:
    seen: dict[int, Checkpoint] = {}
    for checkpoint in found:
        if checkpoint.step in seen:
            raise loaded.error(checkpoint.loc, f"step {checkpoint.step} is named twice ({seen[checkpoint.step].label} "
                                               f"and {checkpoint.label})")
        seen[checkpoint.step] = checkpoint


def check_fits(loaded, module, series: list[Checkpoint]) -> None:
    """Every checkpoint's state dict has the model's keys with the model's shapes; otherwise a
    spec error naming the checkpoint's line and the first mismatches."""
    from ...sources.adapters.torch import read_state_dict

    expected = {key: tuple(tensor.shape) for key, tensor in module.state_dict().items()}
    for checkpoint in series:
        loc = checkpoint.loc[:-1] + ("weights",) if checkpoint.loc[-1] == "step" else checkpoint.loc
        try:
            state = read_state_dict(checkpoint.path)
        except SourceError as error:
            raise loaded.error(loc, f"{checkpoint.label}: {error.what}") from None
        problem = _mismatch(expected, {key: tuple(tensor.shape) for key, tensor in state.items()})
        if problem:
            raise loaded.error(loc, f"{checkpoint.label}: weights do not fit the model: {problem}")


def _mismatch(expected: dict, found: dict) -> str:
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    shapes = [f"{key} {list(found[key])} (model: {list(shape)})" for key, shape in expected.items()
              if key in found and found[key] != shape]
    parts = [f"{what}: {', '.join(keys[:_SHOWN])}{' ...' if len(keys) > _SHOWN else ''}"
             for what, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shapes", shapes)) if keys]
    return "; ".join(parts)
