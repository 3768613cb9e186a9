"""Run the model on the probe and collect per-layer activation matrices (points x features).

- The model runs in eval mode under ``torch.inference_mode()``, batch by batch; forward hooks
  copy each selected module's output (the first tensor of a tuple, ``last_hidden_state`` or
  the first tensor of a mapping).
- Outputs become points as the spec's ``capture`` section says. Channel-first conv outputs
  (N, C, H, W), (N, C, D, H, W), and (N, C, L) from 1-d conv, pooling and norm layers: ``mean``
  over positions (one point of C features per sample), ``positions`` (every position a point)
  or ``flatten`` (C*H*W features). Other 3-d outputs are sequences (N, T, C): ``mean``,
  ``tokens`` (every position a point) or ``last``. Higher-rank outputs are flattened per sample.
- Each layer keeps at most ``max_points`` points. A point's inclusion depends only on a hash of
  (seed, sample index, position), never on batch size or order: the kept points are the
  ``max_points`` with the smallest hashes, merged batch by batch, so memory stays bounded and
  per-sample layers keep the same samples.
- NaN or inf in an activation raises :class:`~audit.errors.CaptureError` naming the layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import CaptureError
from .layers import OUTPUT

__all__ = ["CaptureSettings", "LayerCapture", "Captured", "capture"]

_CHANNEL_FIRST_1D = (torch.nn.Conv1d, torch.nn.BatchNorm1d, torch.nn.MaxPool1d, torch.nn.AvgPool1d,
                     torch.nn.AdaptiveAvgPool1d, torch.nn.AdaptiveMaxPool1d, torch.nn.InstanceNorm1d)


@dataclass(frozen=True)
class CaptureSettings:
    max_points: int = 5000
    conv: str = "mean"
    sequence: str = "mean"
    batch_size: int = 256
    seed: int = 0


@dataclass
class LayerCapture:
    """The sampled points of one layer, kept sorted by their sampling key."""

    name: str
    module_type: str
    max_points: int
    reduction: str = ""
    is_output: bool = False
    n_seen: int = 0
    _keys: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    _order: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _rows: np.ndarray | None = None

    def add(self, rows: np.ndarray, keys: np.ndarray, order: np.ndarray) -> None:
        """Merge a batch: keep the ``max_points`` rows with the smallest keys."""
        self.n_seen += rows.shape[0]
        if self._rows is not None and rows.shape[1] != self._rows.shape[1]:
            raise CaptureError(self.name, f"output width changed between batches ({self._rows.shape[1]} -> {rows.shape[1]})")
        all_rows = rows if self._rows is None else np.concatenate([self._rows, rows])
        all_keys, all_order = np.concatenate([self._keys, keys]), np.concatenate([self._order, order])
        if all_keys.size > self.max_points:
            kept = np.argpartition(all_keys, self.max_points - 1)[: self.max_points]
            all_rows, all_keys, all_order = all_rows[kept], all_keys[kept], all_order[kept]
        self._rows, self._keys, self._order = all_rows, all_keys, all_order

    @property
    def matrix(self) -> np.ndarray:
        """Kept points in probe order (sample, then position)."""
        return self._rows[np.argsort(self._order, kind="stable")]


@dataclass(frozen=True)
class Captured:
    layers: dict[str, LayerCapture]
    predictions: np.ndarray | None
    n_samples: int


def capture(module: torch.nn.Module, features: np.ndarray, layer_names: list[str], settings: CaptureSettings,
            input_dtype=torch.float32, progress=None) -> Captured:
    """Run ``module`` over ``features`` in batches; return every selected layer's points."""
    modules = dict(module.named_modules())
    layers = {name: LayerCapture(name, _type_name(modules.get(name), name), settings.max_points) for name in layer_names}
    outputs: dict[str, torch.Tensor] = {}
    handles = [modules[name].register_forward_hook(_recorder(name, outputs)) for name in layer_names if name != OUTPUT]
    predictions = []
    n = features.shape[0]
    bar = progress.bar((n + settings.batch_size - 1) // settings.batch_size, "capture") if progress else None
    try:
        module.eval()
        with torch.inference_mode():
            for start in range(0, n, settings.batch_size):
                batch = torch.as_tensor(features[start : start + settings.batch_size]).to(input_dtype)
                result = _run(module, batch)
                outputs[OUTPUT] = _first_tensor(result)
                predictions.append(_predictions(outputs[OUTPUT]))
                for name, layer in layers.items():
                    layer.is_output = outputs.get(name) is outputs[OUTPUT]
                    _take(layer, outputs.get(name), modules.get(name), settings, start)
                outputs.clear()
                if bar:
                    bar.update(1)
    finally:
        for handle in handles:
            handle.remove()
        if bar:
            bar.close()
    return Captured(layers, None if any(p is None for p in predictions) else np.concatenate(predictions), n)


def _run(module, batch):
    try:
        return module(batch)
    except Exception as error:  # the user's model: any failure is a capture error
        raise CaptureError("model", f"forward pass failed on a batch of shape {tuple(batch.shape)}: "
                           f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}") from error


def _recorder(name, outputs):
    def hook(module, inputs, output):
        outputs[name] = _first_tensor(output)

    return hook


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict) or hasattr(output, "keys"):
        if "last_hidden_state" in output:
            return output["last_hidden_state"]
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return next((_first_tensor(item) for item in output if _first_tensor(item) is not None), None)
    return None


def _predictions(output):
    if output is None or output.ndim != 2 or output.shape[1] < 2:
        return None
    return output.argmax(dim=1).numpy()


def _take(layer: LayerCapture, tensor, module, settings: CaptureSettings, first_sample: int) -> None:
    if tensor is None:
        raise CaptureError(layer.name, "produced no tensor output (or was never called in the forward pass)")
    tensor = tensor.detach().float()
    if not torch.isfinite(tensor).all():
        raise CaptureError(layer.name, f"produced NaN or inf on samples {first_sample}..{first_sample + tensor.shape[0] - 1}")
    points, positions, layer.reduction = _to_points(tensor, module, settings)
    sample = first_sample + np.repeat(np.arange(tensor.shape[0]), positions)
    position = np.tile(np.arange(positions), tensor.shape[0])
    layer.add(points.numpy(), _hash_keys(settings.seed, sample, position), sample * positions + position)


def _to_points(tensor: torch.Tensor, module, settings):
    """(points, positions per sample, description) for one batch of a layer's output."""
    if tensor.ndim == 1:
        return tensor[:, None], 1, "scalar per sample"
    if tensor.ndim == 2:
        return tensor, 1, "one point per sample"
    channel_first = tensor.ndim >= 4 or isinstance(module, _CHANNEL_FIRST_1D)
    if channel_first:
        return _conv_points(tensor, settings.conv)
    if tensor.ndim == 3:
        return _sequence_points(tensor, settings.sequence)
    return tensor.flatten(1), 1, f"flattened {tuple(tensor.shape[1:])} per sample"


def _conv_points(tensor, mode):
    n, channels = tensor.shape[:2]
    spatial = tensor.flatten(2)  # (N, C, P)
    if mode == "mean":
        return spatial.mean(dim=2), 1, f"conv: mean over {spatial.shape[2]} positions of {channels} channels"
    if mode == "positions":
        return spatial.transpose(1, 2).reshape(-1, channels), spatial.shape[2], f"conv: every position a point ({channels} channels)"
    return tensor.flatten(1), 1, f"conv: flattened {tuple(tensor.shape[1:])}"


def _sequence_points(tensor, mode):
    n, length, width = tensor.shape
    if mode == "mean":
        return tensor.mean(dim=1), 1, f"sequence: mean over {length} positions"
    if mode == "last":
        return tensor[:, -1], 1, "sequence: last position"
    return tensor.reshape(-1, width), length, f"sequence: every position a point ({length} per sample)"


def _hash_keys(seed: int, sample: np.ndarray, position: np.ndarray) -> np.ndarray:
    """splitmix64 of (seed, sample, position): a seeded pseudo-random key per point."""
    with np.errstate(over="ignore"):
        x = (np.uint64(seed % 2**64) * np.uint64(0x9E3779B97F4A7C15)
             + sample.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
             + position.astype(np.uint64) * np.uint64(0x94D049BB133111EB))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _type_name(module, name) -> str:
    return "model output" if name == OUTPUT else type(module).__name__
