"""Policy files -> validated :class:`PolicyPack`; stock packs by name; the baseline audit.

A policy is named by a stock pack's name (``default``, ``embedding``, ``strict``: the files in
the top-level ``policies/`` folder, shipped as ``audit.policies``) or by a path to a YAML file.
Errors follow the spec's style, ``<file>:<line>: <key path>: <what>``, and exit 2.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import SourceError, SpecError
from ..manifest import check_beside
from ..yaml_source import did_you_mean, key_path, line_of, read_yaml
from .evaluate import Gate
from .rules import PolicyPack, Rule

__all__ = ["stock_packs", "load_pack", "resolve_reference", "read_audit", "gate_for"]

_SUFFIXES = (".yaml", ".yml")


def stock_packs() -> dict[str, Path]:
    """``{name: file}`` of the stock policy packs shipped with the package."""
    folder = resources.files("audit.policies")
    return {Path(entry.name).stem: Path(str(entry)) for entry in sorted(folder.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(_SUFFIXES)}


def resolve_reference(reference: str, base: Path) -> Path:
    """The file of a policy named by a stock name or by a path (relative to ``base``).

    Raises ValueError (with a "did you mean") for an unknown name or a missing file; the caller
    says where the reference was written.
    """
    if "/" not in reference and "\\" not in reference and not reference.endswith(_SUFFIXES):
        packs = stock_packs()
        if reference not in packs:
            raise ValueError(f"unknown policy pack {reference!r}{did_you_mean(reference, packs)}")
        return packs[reference]
    path = Path(reference).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise ValueError(f"policy file not found: {path}")
    return path


def load_pack(path: Path) -> PolicyPack:
    """Read and validate the policy file at ``path``; a bare list of rules is a pack too."""
    root, data = read_yaml(Path(path), what="the policy")
    bare_list = isinstance(data, list)
    if bare_list:
        data = {"rules": data}
    if not isinstance(data, dict):
        raise SpecError(f"{path}:1", "a policy is a list of rules, or a mapping with name, description, rules")
    data.setdefault("name", Path(path).stem)
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as error:
        first = min(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise _policy_error(path, root, first, error.error_count(), bare_list) from None


def _policy_error(path: Path, root: yaml.Node, error: dict, count: int, bare_list: bool) -> SpecError:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        allowed = Rule.model_fields if len(loc) > 1 and loc[0] == "rules" else PolicyPack.model_fields
        what = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), list(allowed))}"
    elif error["type"] == "missing":
        what = "required key is missing"
    else:
        what = error["msg"].removeprefix("Value error, ")
    if count > 1:
        what += f" (and {count - 1} more problem{'s' if count > 2 else ''})"
    yaml_loc = loc[1:] if bare_list and loc[:1] == ("rules",) else loc
    return SpecError(f"{path}:{line_of(root, yaml_loc)}: {key_path(yaml_loc)}", what)


def read_audit(path: Path) -> dict:
    """An audit.json (a baseline, or compare's files) as a document; an unreadable or non-audit
    file, or one that disagrees with the manifest.json beside it, is a SourceError."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(str(path), f"cannot read the audit: {getattr(error, 'strerror', None) or error}") from None
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}:{error.lineno}", f"not JSON: {error.msg}") from None
    if not isinstance(document, dict) or "layers" not in document or "schema_version" not in document:
        raise SourceError(str(path), "not an audit.json (no schema_version and layers)")
    check_beside(path)
    return document


def gate_for(loaded, *, policies=(), fail_on: str = "fail", baseline: str | None = None) -> Gate:
    """The :class:`~audit.policy.evaluate.Gate` of a run: the spec's ``policies`` (relative to its
    folder, errors at their line; ``loaded`` is None for ``compare``, which has no spec), then
    ``policies`` from the command line (relative to the working directory), each pack read and
    validated, and the baseline audit if any."""
    files = []
    for index, reference in enumerate(loaded.spec.policies if loaded is not None else ()):
        try:
            files.append(resolve_reference(reference, loaded.base))
        except ValueError as error:
            raise loaded.error(("policies", index), str(error)) from None
    for reference in policies:
        try:
            files.append(resolve_reference(reference, Path.cwd()))
        except ValueError as error:
            raise SpecError("--policy", str(error)) from None
    document = None if baseline is None else read_audit(Path(baseline))
    return Gate(packs=tuple(load_pack(path) for path in files), fail_on=fail_on, baseline=document,
                baseline_path=baseline)
