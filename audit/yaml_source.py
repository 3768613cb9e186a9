"""Where things are in a YAML file, for one-line errors: the line of a key path, the key path
as text, "did you mean" suggestions, and parsing that reports the line of malformed YAML.

Shared by the audit spec (:mod:`audit.spec`) and policy files (:mod:`audit.policy`).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from .errors import SpecError

__all__ = ["compose", "line_of", "key_path", "did_you_mean"]


def compose(path: Path, text: str, *, what: str = "the spec") -> yaml.Node:
    """The YAML node tree of ``text``; malformed or empty YAML raises SpecError naming the line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(f"{path}:{line}", f"malformed YAML: {problem}") from None
    if root is None:
        raise SpecError(f"{path}:1", f"{what} is empty")
    return root


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
