"""Which modules an audit captures: the default choice and glob patterns from the spec.

Layer names are module names as ``model.named_modules()`` gives them, plus ``output`` for the
model's own return value. The default: the children of the model's largest block container
(an ``nn.Sequential`` or ``nn.ModuleList``, "the main blocks") followed by the model's top-level
children registered after that container (heads, final projections, poolers); a model without a
container uses its top-level children; a TorchScript model, whose submodules take no hooks, its
``output``.
"""

from __future__ import annotations

import difflib
import fnmatch

import torch

OUTPUT = "output"
_INPUT = ":input"  # module names hold no colon, so no module is named like an input tap

__all__ = ["OUTPUT", "available_layers", "default_layers", "input_tap", "largest_container", "select_layers",
           "tapped_input"]


def input_tap(module: str) -> str:
    """The capture name of what ``module`` is called with (its first tensor argument), for a stage
    that reads a module's input rather than its output: the per-head contexts entering an
    attention layer's output projection. A stage asks for it in its ``CaptureRequest``; it is not
    a layer a spec selects."""
    return module + _INPUT


def tapped_input(name: str) -> str | None:
    """The module whose input the capture name ``name`` taps, or None when it names a module's output."""
    return name[: -len(_INPUT)] if name.endswith(_INPUT) else None


def available_layers(module: torch.nn.Module, hookable: bool = True) -> list[str]:
    names = [name for name, _ in module.named_modules() if name] if hookable else []
    return names + [OUTPUT]


def default_layers(module: torch.nn.Module, hookable: bool = True) -> list[str]:
    if not hookable:
        return [OUTPUT]
    container = largest_container(module)
    if container is None:
        top = [name for name, _ in module.named_children()]
        return top or [OUTPUT]
    prefix = container[0]
    blocks = [f"{prefix}.{child}" for child, _ in container[1].named_children()]
    top_names = [name for name, _ in module.named_children()]
    ancestor = prefix.split(".")[0]
    after = top_names[top_names.index(ancestor) + 1:] if ancestor in top_names else []
    return blocks + after


def largest_container(module):
    best = None
    for name, child in module.named_modules():
        if name and isinstance(child, (torch.nn.Sequential, torch.nn.ModuleList)):
            size = len(child)
            if size >= 2 and (best is None or size > len(best[1])):
                best = (name, child)
    return best


def select_layers(available: list[str], include, exclude, on_error) -> list[str]:
    """Names matching any ``include`` pattern and no ``exclude`` pattern, in ``available`` order.

    A pattern matching nothing calls ``on_error(loc, message)``, which must raise (the message
    carries a "did you mean"); ``loc`` is the pattern's key path in the spec.
    """
    for key, patterns in (("include", include), ("exclude", exclude)):
        for i, pattern in enumerate(patterns):
            if not any(fnmatch.fnmatchcase(name, pattern) for name in available):
                on_error(("layers", key, i), f"pattern {pattern!r} matches no layer{_suggest(pattern, available)}")
    chosen = [n for n in available if any(fnmatch.fnmatchcase(n, p) for p in include)]
    chosen = [n for n in chosen if not any(fnmatch.fnmatchcase(n, p) for p in exclude)]
    if not chosen:
        on_error(("layers",), "the include and exclude patterns leave no layer to audit")
    return chosen


def _suggest(pattern: str, available: list[str]) -> str:
    close = difflib.get_close_matches(pattern, available, n=3, cutoff=0.5)
    if close:
        return "; did you mean " + " or ".join(repr(name) for name in close) + "?"
    return f"; layers are: {', '.join(available[:12])}{' ...' if len(available) > 12 else ''}"
