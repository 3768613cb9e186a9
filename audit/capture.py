"""Run the model on the probe and collect per-layer activation matrices (points x features).

- The model runs batch by batch through its *taps*: for a torch module
  (:class:`~audit.sources.adapters._torch_taps.TorchTaps`), in eval mode under
  ``torch.inference_mode()`` with forward hooks copying each selected module's output (the
  first tensor of a tuple, ``last_hidden_state`` or the first tensor of a mapping), and forward
  pre-hooks copying a module's input where a stage asks for it (:func:`audit.layers.input_tap`);
  for an ONNX graph (:class:`audit.sources.adapters.onnx.taps.OnnxTaps`), as extra graph outputs.
  Each model kind's adapter (:mod:`audit.sources.adapters`) says which taps its model uses.
- Outputs become points as the spec's ``capture`` section says. Channel-first conv outputs
  (N, C, H, W), (N, C, D, H, W), and (N, C, L) from 1-d conv, pooling and norm layers: ``mean``
  over positions (one point of C features per sample), ``positions`` (every position a point)
  or ``flatten`` (C*H*W features). Other 3-d outputs are sequences (N, T, C): ``mean``,
  ``tokens`` (every position a point) or ``last`` (each text's last real token, from the
  mask). Higher-rank outputs are flattened per sample.
- Each layer keeps at most ``max_points`` points. A point's inclusion depends only on a hash of
  (seed, sample index, position), never on batch size or order: the kept points are the
  ``max_points`` with the smallest hashes, merged batch by batch, so memory stays bounded and
  per-sample layers keep the same samples.
- NaN or inf in an activation raises :class:`~audit.errors.CaptureError` naming the layer.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import numpy as np
import torch

from .batches import batches, last_positions, masked_mean, n_batches
from .errors import CaptureError
from .layers import OUTPUT

__all__ = ["CaptureSettings", "LayerCapture", "Captured", "capture", "capture_probe"]

_POSITION_STRIDE = 1 << 32  # order key: sample * stride + position


@dataclass(frozen=True)
class CaptureSettings:
    max_points: int = 5000
    conv: str = "mean"
    sequence: str | None = "mean"  # None (capture.sequence left to the model) reads as mean; the runner passes the model's
    overrides: tuple[tuple[str, str], ...] = ()  # (glob, reduction), first match wins
    point_caps: tuple[tuple[str, int], ...] = ()  # (layer name, max points) replacing max_points
    seed: int = 0

    def cap_for(self, name: str) -> int:
        return dict(self.point_caps).get(name, self.max_points)

    def reduction_for(self, name: str, channel_first: bool) -> str:
        for pattern, mode in self.overrides:
            if fnmatch.fnmatchcase(name, pattern):
                return mode
        return self.conv if channel_first else (self.sequence or "mean")


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

    @property
    def point_keys(self) -> np.ndarray:
        """Each row's (sample, position) as one key, in :attr:`matrix` order: two captures of the
        same probe hold the same points when their keys are equal."""
        return np.sort(self._order, kind="stable")

    @property
    def samples(self) -> np.ndarray:
        """The probe sample each row of :attr:`matrix` comes from (tokens of one text share it)."""
        return np.sort(self._order, kind="stable") // _POSITION_STRIDE


@dataclass(frozen=True)
class Captured:
    layers: dict[str, LayerCapture]
    predictions: np.ndarray | None
    n_samples: int
    output_width: int | None = None
    output_scores: int | None = None  # the output's last-axis width when every row is a probability distribution


def capture(model, batch_stream, layer_names: list[str], settings: CaptureSettings,
            progress=None, n_batches: int | None = None) -> Captured:
    """Run ``model`` (a torch module, or the taps its adapter gives) over ``batch_stream``
    (:class:`~audit.batches.Batch` objects); return every selected layer's points and the model's
    predictions (argmax of a 2-D output)."""
    if isinstance(model, torch.nn.Module):
        from .sources.adapters._torch_taps import TorchTaps

        model = TorchTaps(model)
    taps = model
    layers = {name: LayerCapture(name, taps.type_name(name), settings.cap_for(name)) for name in layer_names}
    predictions, n_samples, output_width, distributions = [], 0, None, []
    bar = progress.bar(n_batches, "capture") if progress and n_batches else None
    try:
        with taps.open(layer_names) as run:
            for batch in batch_stream:
                outputs = run(batch)
                predictions.append(_predictions(outputs[OUTPUT]))
                output_width = None if outputs[OUTPUT] is None or outputs[OUTPUT].ndim != 2 else outputs[OUTPUT].shape[1]
                distributions.append(_distribution_width(outputs[OUTPUT]))
                for name, layer in layers.items():
                    layer.is_output = outputs.get(name) is outputs[OUTPUT]
                    _take(layer, outputs.get(name), taps.channel_first_1d(name), settings, batch)
                n_samples += batch.size
                if bar:
                    bar.update(1)
    finally:
        if bar:
            bar.close()
    kept = None if any(p is None for p in predictions) else np.concatenate(predictions)
    scores = distributions[0] if distributions and len(set(distributions)) == 1 else None
    return Captured(layers, kept, n_samples, output_width, scores)


def capture_probe(model, probe, names: list[str], spec, progress=None, requests=()) -> Captured:
    """One pass of ``model`` (a :class:`~audit.sources.LoadedModel`) over the whole probe for the
    layers ``names`` and those the stages' ``requests`` ask for, as the spec's ``capture`` and
    ``probe`` sections say. The same spec, names and weights give the same points (the sampling
    hashes depend on the seed only): what the audit and each checkpoint of a series read."""
    extra = [(name, request) for request in requests for name in request.layers if name not in names]
    settings = CaptureSettings(
        max_points=spec.capture.max_points, conv=spec.capture.conv, sequence=spec.capture.sequence or model.sequence,
        overrides=tuple((name, request.reduction) for name, request in extra) + tuple(spec.capture.overrides.items()),
        point_caps=tuple((name, request.max_points) for name, request in extra if request.max_points is not None),
        seed=spec.seed,
    )
    stream = batches(probe.features, spec.probe.batch_size, dtype=model.input_dtype, tokenizer=model.tokenizer,
                     max_length=model.max_length)
    return capture(model.taps(), stream, names + [name for name, _ in extra], settings, progress,
                   n_batches(probe.features, spec.probe.batch_size))


def _distribution_width(output) -> int | None:
    """The last-axis width of ``output`` when each of its rows along that axis is a probability
    distribution (a softmax: non-negative, summing to 1), else None."""
    if output is None or output.ndim < 2 or output.shape[-1] < 2 or not output.is_floating_point():
        return None
    values = output.detach().double()
    if values.min() < 0 or not torch.allclose(values.sum(dim=-1), torch.ones((), dtype=torch.float64), atol=1e-3):
        return None
    return int(output.shape[-1])


def _predictions(output):
    if output is None or output.ndim != 2 or output.shape[1] < 2:
        return None
    return output.argmax(dim=1).numpy()


def _take(layer: LayerCapture, tensor, channel_first_1d: bool, settings: CaptureSettings, batch) -> None:
    if tensor is None:
        raise CaptureError(layer.name, "produced no tensor output (or was never called in the forward pass)")
    tensor = tensor.detach().float()
    last = batch.first_sample + tensor.shape[0] - 1
    if not torch.isfinite(tensor).all():
        raise CaptureError(layer.name, f"produced NaN or inf on samples {batch.first_sample}..{last}")
    points, rows, positions, layer.reduction = _to_points(tensor, channel_first_1d, layer.name, settings, batch.mask)
    sample = batch.first_sample + rows
    order = sample * _POSITION_STRIDE + positions
    layer.add(points.numpy(), _hash_keys(settings.seed, sample, positions), order)


def _to_points(tensor: torch.Tensor, channel_first_1d: bool, name: str, settings: CaptureSettings, mask):
    """(points, row of each point in the batch, position of each point, description)."""
    n = tensor.shape[0]
    if tensor.ndim <= 2:
        points = tensor[:, None] if tensor.ndim == 1 else tensor
        return points, np.arange(n), np.zeros(n, dtype=np.int64), "one point per sample"
    channel_first = tensor.ndim >= 4 or channel_first_1d
    mode = settings.reduction_for(name, channel_first)
    if channel_first:
        return _conv_points(tensor, mode, name)
    if tensor.ndim == 3:
        fits = mask is not None and tuple(mask.shape) == tuple(tensor.shape[:2])
        return _sequence_points(tensor, mode, name, mask if fits else None)
    return tensor.flatten(1), np.arange(n), np.zeros(n, dtype=np.int64), f"flattened {tuple(tensor.shape[1:])} per sample"


def _per_sample(points, description):
    n = points.shape[0]
    return points, np.arange(n), np.zeros(n, dtype=np.int64), description


def _every_position(points_by_position, valid, description):
    """Points (N, P, C) where ``valid`` (N, P) holds: each a point keyed by its position."""
    rows, positions = np.nonzero(valid.numpy())
    return points_by_position[valid], rows, positions.astype(np.int64), description


def _conv_points(tensor, mode, name):
    channels = tensor.shape[1]
    spatial = tensor.flatten(2)  # (N, C, P)
    if mode == "mean":
        return _per_sample(spatial.mean(dim=2), f"conv: mean over {spatial.shape[2]} positions of {channels} channels")
    if mode in ("positions", "tokens"):
        by_position = spatial.transpose(1, 2)
        valid = torch.ones(by_position.shape[:2], dtype=torch.bool)
        return _every_position(by_position, valid, f"conv: every position a point ({channels} channels)")
    if mode == "flatten":
        return _per_sample(tensor.flatten(1), f"conv: flattened {tuple(tensor.shape[1:])}")
    raise CaptureError(name, f"reduction {mode!r} does not apply to a conv output (use mean, positions or flatten)")


def _sequence_points(tensor, mode, name, mask):
    n, length, width = tensor.shape
    valid = mask if mask is not None else torch.ones((n, length), dtype=torch.bool)
    skip = " (padding skipped)" if mask is not None else ""
    if mode == "mean":
        return _per_sample(masked_mean(tensor, valid), f"sequence: mean over positions{skip}")
    if mode in ("tokens", "positions"):
        return _every_position(tensor, valid, f"sequence: every position a point{skip}")
    if mode == "last":
        return _per_sample(tensor[torch.arange(n), last_positions(valid)], f"sequence: last position{skip}")
    if mode == "cls":
        return _per_sample(tensor[:, 0], "sequence: first (CLS) position")
    raise CaptureError(name, f"reduction {mode!r} does not apply to a sequence output (use mean, tokens, last or cls)")


def _hash_keys(seed: int, sample: np.ndarray, position: np.ndarray) -> np.ndarray:
    """splitmix64 of (seed, sample, position): a seeded pseudo-random key per point."""
    with np.errstate(over="ignore"):
        x = (np.uint64(seed % 2**64) * np.uint64(0x9E3779B97F4A7C15)
             + sample.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
             + position.astype(np.uint64) * np.uint64(0x94D049BB133111EB))
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))
