"""Reading YAML files for one-line errors: one safe parse that keeps the node tree (for the
line of a key path) and the data, the key path as text, "did you mean" suggestions.

Shared by the audit spec (:mod:`audit.spec`) and policy files (:mod:`audit.policy`). Limits
that keep a hostile file from costing more than a clear error: at most :data:`MAX_BYTES` (1 MiB)
and :data:`MAX_DEPTH` (64) levels of nested mappings and lists; tags that would build Python
objects (``!!python/...``) are refused by the safe loader, with their line.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from .errors import SpecError

__all__ = ["read_yaml", "line_of", "key_path", "did_you_mean", "MAX_BYTES", "MAX_DEPTH"]

MAX_BYTES = 1 << 20  # a spec or policy is a few KiB; anything near a MiB is not one
MAX_DEPTH = 64  # nested mappings and lists; the deepest real spec is about 5
_OPENS = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken,
          yaml.FlowSequenceStartToken)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: the same rules, faster


def read_yaml(path: Path, *, what: str = "the spec") -> tuple[yaml.Node, object]:
    """The node tree and the data of the YAML file at ``path``, parsed once with the safe loader.

    Raises :class:`SpecError` naming the file (and line) for an unreadable, oversized, non-UTF-8,
    malformed, too deeply nested or empty file, or one with a tag the safe loader refuses.
    """
    text = _read_text(Path(path), what)
    _check_depth(path, text)
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    finally:
        loader.dispose()
    if root is None:
        raise SpecError(f"{path}:1", f"{what} is empty")
    return root, data


def _read_text(path: Path, what: str) -> str:
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise SpecError(str(path), f"cannot read {what}: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise SpecError(str(path), f"{what} is over {MAX_BYTES // (1 << 20)} MiB; it cannot be an audit file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise SpecError(f"{path}:{line}", f"cannot read {what}: not UTF-8 text (byte {error.start})") from None


def _check_depth(path: Path, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the (recursive) composer sees it; the scanner
    that counts is iterative."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_LOADER):
            depth += isinstance(token, _OPENS) - isinstance(token, _CLOSES)
            if depth > MAX_DEPTH:
                raise SpecError(f"{path}:{token.start_mark.line + 1}",
                                f"nested more than {MAX_DEPTH} levels deep; an audit file is a few levels deep")
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None


def _yaml_error(path: Path, error: yaml.YAMLError) -> SpecError:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark else 1
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if isinstance(error, yaml.constructor.ConstructorError) and " for the tag " in problem:
        tag = problem.split(" for the tag ")[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
        return SpecError(f"{path}:{line}", f"tag {tag} refused: YAML here builds plain data, never Python objects")
    return SpecError(f"{path}:{line}", f"malformed YAML: {problem}")


def line_of(root: yaml.Node, loc: tuple) -> int:
    """1-based line of the deepest node of ``loc`` present in the YAML (a key's own line)."""
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((key, value) for key, value in node.value if key.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def key_path(loc: tuple) -> str:
    """``('rules', 2, 'metric')`` -> ``rules[2].metric``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def did_you_mean(word: str, choices) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, else the list of choices."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(map(str, choices))}"
