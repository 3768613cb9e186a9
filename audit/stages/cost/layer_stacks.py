"""Layer stacks of a torch model and the model without some of their blocks (``cost.drop_layers``).

A stack is an ``nn.ModuleList`` of the model (a transformer encoder's ``layer``: the elements a
forward loop runs one after the other); its blocks are its elements, named as ``named_modules()``
names them (``transformer.encoder.layer.3``). A variant is the model with the stack replaced by a
``ModuleList`` of the blocks it keeps, while it is measured (:func:`without_blocks`). An
``nn.Sequential``'s elements are not blocks: its widths may change from one to the next (the digits
MLP's 64 -> 128 -> 64 -> 32), and a ModuleList is how a stack of interchangeable blocks is written.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from torch import nn

from ...yaml_source import did_you_mean
from .variants import swapped

__all__ = ["DropPlan", "block_label", "layer_stacks", "plan_dropped", "without_blocks"]


@dataclass(frozen=True)
class DropPlan:
    """What ``cost.drop_layers`` asks, checked against the model: the stacks blocks are dropped
    from, in the model's order, and each one's named blocks in the spec's order (``auto``: none named,
    the stage ranks them)."""

    stacks: tuple[str, ...]
    named: dict[str, tuple[int, ...]]
    auto: bool


def layer_stacks(module: nn.Module) -> dict[str, nn.ModuleList]:
    """Every ``nn.ModuleList`` below ``module`` with at least one block, by module name."""
    return {name: child for name, child in module.named_modules()
            if name and isinstance(child, nn.ModuleList) and len(child)}


def block_label(stack: str, dropped: tuple[int, ...]) -> str:
    """A variant's label: ``drop transformer.encoder.layer.3``; ``drop transformer.encoder.layer.{3,4}``."""
    inner = str(dropped[0]) if len(dropped) == 1 else "{" + ",".join(map(str, dropped)) + "}"
    return f"drop {stack}.{inner}"


def plan_dropped(loaded, module: nn.Module | None) -> DropPlan | None:
    """``cost.drop_layers`` against the model, before the probe runs: each name must be a block
    of a stack, and no stack may lose every block; ``auto`` needs a stack of two blocks or more
    (outermost stacks only: a stack inside another's block is left to a list). Each broken rule
    is a spec error naming its line."""
    asked = loaded.spec.cost.drop_layers if loaded.spec.cost is not None else None
    if not asked:
        return None
    stacks = layer_stacks(module)
    if asked == "auto":
        outer = [name for name, stack in stacks.items() if len(stack) >= 2
                 and not any(name.startswith(f"{other}.") for other in stacks if other != name)]
        if not outer:
            raise loaded.error(("cost", "drop_layers"), f"auto: no layer stack of two blocks or more to drop from "
                               f"(an nn.ModuleList): {_stacks_named(stacks)}")
        return DropPlan(tuple(outer), {}, True)
    blocks = {f"{name}.{index}": (name, index) for name, stack in stacks.items() for index in range(len(stack))}
    named: dict[str, list[int]] = {}
    for position, name in enumerate(asked):
        if name not in blocks:
            raise loaded.error(("cost", "drop_layers", position), _not_a_block(module, name, stacks, blocks))
        stack, index = blocks[name]
        named.setdefault(stack, []).append(index)
        if len(named[stack]) == len(stacks[stack]):
            raise loaded.error(("cost", "drop_layers", position), f"with {name!r} every block of {stack!r} "
                               f"({len(stacks[stack])}) is dropped: keep at least one")
    order = [name for name in stacks if name in named]
    return DropPlan(tuple(order), {name: tuple(named[name]) for name in order}, False)


def _not_a_block(module: nn.Module, name: str, stacks: dict, blocks: dict) -> str:
    parent_name, _, child = name.rpartition(".")
    parent = dict(module.named_modules()).get(parent_name)
    sequential = f"an element of the nn.Sequential {parent_name!r}, " if isinstance(parent, nn.Sequential) and \
        child.isdigit() else ""
    why = f"{sequential}not a block of a layer stack (an element of an nn.ModuleList)"
    hint = did_you_mean(name, blocks) if blocks else ""
    return f"{name!r} is {why}: {_stacks_named(stacks)}{hint if 'did you mean' in hint else ''}"


def _stacks_named(stacks: dict) -> str:
    if not stacks:
        return "the model has no nn.ModuleList"
    return "the model's stacks: " + ", ".join(f"{name} ({len(stack)} blocks)" for name, stack in stacks.items())


@contextmanager
def without_blocks(module: nn.Module, stack: str, dropped: tuple[int, ...]):
    """``module`` with the ``nn.ModuleList`` ``stack`` holding every block but the ``dropped``
    indices while the block runs (the same block objects, in order); restored after."""
    kept = nn.ModuleList(block for index, block in enumerate(module.get_submodule(stack)) if index not in dropped)
    with swapped(module, stack, kept):
        yield module
