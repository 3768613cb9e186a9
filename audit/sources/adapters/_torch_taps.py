"""Taps on a torch module (the ``torch``, ``torchscript`` and ``transformers`` kinds): forward
hooks on named submodules, the return value as ``output``, and forward pre-hooks for a module's
input (a capture name made by :func:`audit.layers.input_tap`). Private to the adapters (discovery
skips it), so reading a spec does not import torch."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from ...batches import first_tensor
from ...errors import CaptureError
from ...layers import OUTPUT, tapped_input

__all__ = ["TorchTaps"]

_CHANNEL_FIRST_1D = (torch.nn.Conv1d, torch.nn.BatchNorm1d, torch.nn.MaxPool1d, torch.nn.AvgPool1d,
                     torch.nn.AdaptiveAvgPool1d, torch.nn.AdaptiveMaxPool1d, torch.nn.InstanceNorm1d)


class TorchTaps:
    """Taps on a torch module: forward hooks on named submodules, the return value as ``output``,
    forward pre-hooks for the inputs :func:`audit.layers.input_tap` names."""

    def __init__(self, module: torch.nn.Module):
        self.module = module
        self._modules = dict(module.named_modules())

    def type_name(self, name: str) -> str:
        if name == OUTPUT:
            return "model output"
        module = tapped_input(name)
        if module is not None:
            return f"input of {type(self._modules.get(module)).__name__}"
        return type(self._modules.get(name)).__name__

    def channel_first_1d(self, name: str) -> bool:
        return isinstance(self._modules.get(name), _CHANNEL_FIRST_1D)

    @contextmanager
    def open(self, names: list[str]):
        """Yield ``run(batch) -> {name: tensor}`` with the named layers' outputs (or inputs) and ``output``."""
        outputs: dict[str, torch.Tensor] = {}
        handles = [self._hook(name, outputs) for name in names if name != OUTPUT]

        def run(batch):
            outputs.clear()
            outputs[OUTPUT] = first_tensor(_run(self.module, batch))
            return dict(outputs)

        try:
            self.module.eval()
            with torch.inference_mode():
                yield run
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, name: str, outputs: dict):
        module = tapped_input(name)
        if module is None:
            return self._modules[name].register_forward_hook(_recorder(name, outputs))
        return self._modules[module].register_forward_pre_hook(_input_recorder(name, outputs), with_kwargs=True)


def _run(module, batch):
    try:
        return batch.run(module)
    except Exception as error:  # the user's model: any failure is a capture error
        raise CaptureError("model", f"forward pass failed on samples {batch.first_sample}..{batch.first_sample + batch.size - 1}: "
                           f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}") from error


def _recorder(name, outputs):
    def hook(module, inputs, output):
        outputs[name] = first_tensor(output)

    return hook


def _input_recorder(name, outputs):
    def hook(module, args, kwargs):
        found = first_tensor(args)
        outputs[name] = found if found is not None else first_tensor(kwargs)

    return hook
