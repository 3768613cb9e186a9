"""Ablation passes that start where the ablated head is: every block before it is skipped.

Zeroing a head of layer L changes nothing upstream of L, so the passes that ablate L's heads
need not recompute the blocks before it. The blocks are the elements of the model's layer stack
(the ``nn.ModuleList`` enclosing each attention layer: BERT's ``encoder.layer``, GPT-2's ``h``,
Llama's ``layers``). One recorded pass keeps what each block returned on each batch; an ablation
pass then replaces the forward of every block before L's by one that returns its recorded value,
so only L's block and those after it run.

This is exact only if a block's output is all that the blocks after it receive from it, as in
every sequential stack, and if no block changes a recorded value in place. It is checked rather
than assumed: resumed at the last block of each stack with no head zeroed, twice, the model must
return outputs equal to the unablated pass, bit for bit; where it does not (or a block cannot be
skipped), every pass runs the whole model.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch

from ...outputs import outputs_of

__all__ = ["ResumablePasses"]


class ResumablePasses:
    """The ablation texts' batches, run through ``module`` whole or resumed at a block."""

    def __init__(self, module: torch.nn.Module, ready_batches: list, layer_names: list[str]):
        self.module, self.batches = module, ready_batches
        self.blocks = _stack_blocks(module, layer_names)  # attention layer name -> (stack blocks before its block)
        self.recorded: dict[int, list] = {}

    def baseline(self) -> torch.Tensor:
        """The unablated outputs, recording every stack block's output on each batch; the resumed
        passes are then checked against them (and abandoned where they differ)."""
        blocks = {id(block): block for before in self.blocks.values() for block in before}
        handles = [block.register_forward_hook(self._recorder(key)) for key, block in blocks.items()]
        try:
            outputs = outputs_of(self.module, self.batches)
        finally:
            for handle in handles:
                handle.remove()
        if not self._resumes_exactly(outputs):
            self.blocks = {}
        return outputs

    def outputs(self, layer_name: str) -> torch.Tensor:
        """The outputs of a pass in which ``layer_name``'s block is the first to run."""
        return self._resumed(self.blocks.get(layer_name, ()))

    def _recorder(self, key: int):
        self.recorded[key] = []
        return lambda module, args, output: self.recorded[key].append(output)

    def _resumes_exactly(self, outputs: torch.Tensor) -> bool:
        deepest = {}  # per stack, the longest run of skipped blocks
        for before in self.blocks.values():
            if before and len(before) > len(deepest.get(id(before[0]), ())):
                deepest[id(before[0])] = before
        try:
            return bool(deepest) and all(torch.equal(self._resumed(before), outputs)
                                         for before in deepest.values() for _ in range(2))
        except Exception:  # a block whose output the rest cannot take back: run whole passes
            return False

    def _resumed(self, before) -> torch.Tensor:
        with self._skipping(before):
            return outputs_of(self.module, self.batches)

    def _skipping(self, blocks):
        return _replayed(blocks, self.recorded) if blocks else nullcontext()


@contextmanager
def _replayed(blocks, recorded: dict[int, list]):
    """``blocks`` whose forward returns, call by call, what they returned when recorded."""
    for block in blocks:
        replies = iter(recorded[id(block)])
        block.forward = lambda *args, _replies=replies, **kwargs: next(_replies)
    try:
        yield
    finally:
        for block in blocks:
            del block.forward  # the class's forward again


def _stack_blocks(module: torch.nn.Module, layer_names: list[str]) -> dict[str, tuple]:
    """For each attention layer inside an element of a ``ModuleList``, the elements before it."""
    stacks = [(name, child) for name, child in module.named_modules() if isinstance(child, torch.nn.ModuleList)]
    found = {}
    for layer in layer_names:
        for stack_name, stack in stacks:
            prefix = f"{stack_name}." if stack_name else ""
            index = layer[len(prefix):].partition(".")[0] if layer.startswith(prefix) else ""
            if index.isdigit() and int(index) < len(stack):
                found[layer] = tuple(stack[: int(index)])
                break
    return found
