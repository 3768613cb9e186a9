"""A small MLP for scikit-learn's bundled handwritten digits (8x8 images, 64 pixels, 10 classes).

The audit spec loads it as ``examples/digits-mlp/model.py:build`` and then the weights from
``weights.safetensors`` next to this file; ``train.py`` produces them. The module is loaded by
file path, so it imports torch only and nothing from the project.

Module names, for layer-selection globs::

    standardize           input standardisation (buffers ``mean`` and ``scale``)
    blocks.0 .. blocks.2  Linear + ReLU, widths 64 -> 128 -> 64 -> 32
    blocks.N.linear       the Linear of block N
    blocks.N.act          the ReLU of block N (its output is the block's output)
    head                  Linear 32 -> 10, the class logits
"""

import torch
from torch import nn

N_FEATURES = 64
N_CLASSES = 10
WIDTHS = (128, 64, 32)


class Standardize(nn.Module):
    """Subtract a per-feature mean and divide by a per-feature scale.

    Both are buffers, so they live in the state dict; ``build()`` leaves them at 0 and 1 and the
    trained values are loaded with the weights. Input of any floating dtype is cast to the
    buffers' dtype (float32), so raw pixels (0..16) from ``load_digits()`` can be fed directly.
    """

    def __init__(self, n_features: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(self.mean.dtype) - self.mean) / self.scale


class Block(nn.Module):
    """One hidden layer: ``linear`` followed by ``act`` (ReLU)."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.linear(x))


class DigitsMLP(nn.Module):
    """Standardise 64 raw pixels, three Linear+ReLU blocks, a linear head giving 10 logits.

    Parameters
    ----------
    widths : tuple of int
        Widths of the hidden blocks, in order.
    """

    def __init__(self, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        sizes = (N_FEATURES, *widths)
        self.standardize = Standardize(N_FEATURES)
        self.blocks = nn.Sequential(*(Block(a, b) for a, b in zip(sizes[:-1], sizes[1:])))
        self.head = nn.Linear(sizes[-1], N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map pixels of shape ``(n, 64)`` to class logits of shape ``(n, 10)``."""
        return self.head(self.blocks(self.standardize(x)))


def build() -> DigitsMLP:
    """Return an untrained ``DigitsMLP`` in eval mode; load ``weights.safetensors`` into it."""
    return DigitsMLP().eval()
