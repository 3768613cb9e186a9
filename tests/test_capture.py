"""Capture on conv and sequence models: reductions, the point cap, sampling that ignores batch
size, NaN reporting, and the default layer choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from audit.batches import Batch
from audit.capture import CaptureSettings, capture
from audit.errors import CaptureError
from audit.layers import default_layers, input_tap, select_layers


class SmallConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


class SmallSequenceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(5, 8)
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True) for _ in range(2)])
        self.out = nn.Linear(8, 8)

    def forward(self, x):
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.out(h)


def conv_inputs(n=40):
    return np.random.default_rng(0).standard_normal((n, 1, 6, 6)).astype(np.float32)


def sequence_inputs(n=30, length=7):
    return np.random.default_rng(1).standard_normal((n, length, 5)).astype(np.float32)


def run(model, inputs, names, batch_size=256, mask=None, **settings):
    return capture(model, batches(inputs, batch_size, mask), names, CaptureSettings(**settings))


def batches(inputs, batch_size, mask=None):
    for start in range(0, len(inputs), batch_size):
        chunk = torch.from_numpy(inputs[start : start + batch_size])
        chunk_mask = None if mask is None else torch.from_numpy(mask[start : start + batch_size])
        yield Batch(chunk, chunk_mask, start, chunk.shape[0])


@pytest.fixture(scope="module")
def conv_model():
    torch.manual_seed(0)
    return SmallConvNet().eval()


@pytest.fixture(scope="module")
def sequence_model():
    torch.manual_seed(0)
    return SmallSequenceNet().eval()


def test_conv_mean_positions_and_flatten(conv_model):
    x = conv_inputs()
    with torch.inference_mode():
        reference = conv_model.features[:2](torch.from_numpy(x)).numpy()  # (40, 4, 6, 6)
    mean = run(conv_model, x, ["features.1"], conv="mean").layers["features.1"].matrix
    np.testing.assert_allclose(mean, reference.mean(axis=(2, 3)), rtol=1e-6, atol=1e-7)
    positions = run(conv_model, x, ["features.1"], conv="positions", max_points=10_000).layers["features.1"]
    assert positions.matrix.shape == (40 * 36, 4) and positions.n_seen == 40 * 36
    np.testing.assert_allclose(positions.matrix[:36], reference[0].reshape(4, 36).T, rtol=1e-6)
    flat = run(conv_model, x, ["features.1"], conv="flatten").layers["features.1"].matrix
    np.testing.assert_allclose(flat, reference.reshape(40, -1), rtol=1e-6)


def test_sequence_tokens_mean_last(sequence_model):
    x = sequence_inputs()
    with torch.inference_mode():
        hidden = sequence_model.layers[0](sequence_model.embed(torch.from_numpy(x))).numpy()
    tokens = run(sequence_model, x, ["layers.0"], sequence="tokens", max_points=10_000).layers["layers.0"].matrix
    np.testing.assert_allclose(tokens, hidden.reshape(-1, 8), rtol=1e-5, atol=1e-6)
    mean = run(sequence_model, x, ["layers.0"], sequence="mean").layers["layers.0"].matrix
    np.testing.assert_allclose(mean, hidden.mean(axis=1), rtol=1e-5, atol=1e-6)
    last = run(sequence_model, x, ["layers.0"], sequence="last").layers["layers.0"].matrix
    np.testing.assert_allclose(last, hidden[:, -1], rtol=1e-5, atol=1e-6)


def test_point_cap_samples_the_same_points_whatever_the_batch_size(sequence_model):
    x = sequence_inputs()
    small = run(sequence_model, x, ["layers.1"], sequence="tokens", max_points=50, batch_size=4).layers["layers.1"]
    large = run(sequence_model, x, ["layers.1"], sequence="tokens", max_points=50, batch_size=64).layers["layers.1"]
    assert small.matrix.shape == (50, 8) and small.n_seen == 30 * 7
    np.testing.assert_allclose(small.matrix, large.matrix, rtol=1e-5, atol=1e-6)
    other_seed = run(sequence_model, x, ["layers.1"], sequence="tokens", max_points=50, seed=1).layers["layers.1"]
    assert not np.allclose(other_seed.matrix, large.matrix)


def test_per_sample_layers_keep_the_same_samples(conv_model):
    x = conv_inputs(60)
    found = run(conv_model, x, ["features.3", "head"], max_points=20)
    with torch.inference_mode():
        logits = conv_model(torch.from_numpy(x)).numpy()
    head = found.layers["head"].matrix
    rows = [int(np.argmin(np.abs(logits - row).sum(axis=1))) for row in head]
    features = conv_model.features(torch.from_numpy(x[rows])).mean(dim=(2, 3)).detach().numpy()
    np.testing.assert_allclose(found.layers["features.3"].matrix, features, rtol=1e-5, atol=1e-6)


def test_nan_activation_names_the_layer(conv_model):
    x = conv_inputs()
    x[7, 0, 0, 0] = np.nan
    with pytest.raises(CaptureError) as error:
        run(conv_model, x, ["features.0", "head"], batch_size=8)
    assert error.value.where == "features.0" and "NaN or inf on samples 0..7" in error.value.what


def test_output_layer_and_predictions(conv_model):
    found = run(conv_model, conv_inputs(), ["head", "features.3"])
    assert found.layers["head"].is_output and not found.layers["features.3"].is_output
    assert found.predictions.shape == (40,)


def test_default_layers_are_the_blocks_then_what_follows():
    assert default_layers(SmallConvNet()) == ["features.0", "features.1", "features.2", "features.3", "head"]
    assert default_layers(SmallSequenceNet()) == ["layers.0", "layers.1", "out"]
    assert default_layers(nn.Linear(3, 3), hookable=False) == ["output"]


def test_select_layers_globs_and_errors():
    names = ["a.0", "a.0.x", "a.1", "b", "output"]
    assert select_layers(names, ["a.*"], ["*.x"], _raise) == ["a.0", "a.1"]
    with pytest.raises(ValueError, match=r"layers\.include\.0: pattern 'a\.2' matches no layer; did you mean"):
        select_layers(names, ["a.2"], [], _raise)


def _raise(loc, message):
    raise ValueError(".".join(map(str, loc)) + ": " + message)


def test_padding_is_skipped_with_a_mask(sequence_model):
    x = sequence_inputs(n=6, length=5)
    mask = np.ones((6, 5), dtype=bool)
    mask[1, 3:] = False  # sample 1 has 3 real tokens
    with torch.inference_mode():
        hidden = sequence_model.layers[0](sequence_model.embed(torch.from_numpy(x))).numpy()
    tokens = run(sequence_model, x, ["layers.0"], mask=mask, sequence="tokens").layers["layers.0"]
    assert tokens.matrix.shape == (28, 8) and "padding skipped" in tokens.reduction
    np.testing.assert_allclose(tokens.matrix[5:8], hidden[1, :3], rtol=1e-5, atol=1e-6)
    mean = run(sequence_model, x, ["layers.0"], mask=mask).layers["layers.0"].matrix
    np.testing.assert_allclose(mean[1], hidden[1, :3].mean(axis=0), rtol=1e-5, atol=1e-6)
    last = run(sequence_model, x, ["layers.0"], mask=mask, sequence="last").layers["layers.0"].matrix
    np.testing.assert_allclose(last[1], hidden[1, 2], rtol=1e-5, atol=1e-6)


def test_per_layer_overrides_choose_the_reduction(sequence_model):
    found = run(sequence_model, sequence_inputs(), ["layers.0", "layers.1"], overrides=(("layers.1", "cls"),))
    assert found.layers["layers.0"].reduction.startswith("sequence: mean")
    assert found.layers["layers.1"].reduction.startswith("sequence: first (CLS)")
    with pytest.raises(CaptureError, match="does not apply to a sequence output"):
        run(sequence_model, sequence_inputs(), ["layers.0"], overrides=(("layers.*", "flatten"),))


def test_an_input_tap_records_what_a_module_is_called_with():
    """``out``'s input is ``layers.1``'s output: the same points, keyed the same way."""
    torch.manual_seed(0)
    model = SmallSequenceNet().eval()
    found = run(model, sequence_inputs(), [input_tap("out"), "layers.1"], sequence="tokens", max_points=100)
    tapped, block = found.layers[input_tap("out")], found.layers["layers.1"]
    assert tapped.module_type == "input of Linear" and tapped.matrix.shape == (100, 8)
    np.testing.assert_array_equal(tapped.matrix, block.matrix)
