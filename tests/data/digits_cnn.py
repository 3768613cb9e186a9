"""A small convolutional net for scikit-learn's 8x8 digits, the convolutional classifier of
``tests/test_published_results.py`` (Ansuini et al. 2019 measured convolutional classifiers).

``train_digits_cnn.py`` trains it on the digits MLP's training split and writes
``digits_cnn.safetensors`` next to this file. The module imports torch only, so the audit spec
can load it as ``tests/data/digits_cnn.py:build``.

Module names, for layer-selection globs::

    conv1, conv1_act   Conv2d 1 -> 16, 3x3, padding 1 (16 x 8 x 8), and its ReLU
    conv2, conv2_act   Conv2d 16 -> 32, 3x3, padding 1 (32 x 8 x 8), and its ReLU
    pool               MaxPool2d 2 (32 x 4 x 4)
    fc, fc_act         Linear 512 -> 64, and its ReLU: the last hidden layer
    head               Linear 64 -> 10, the class logits
"""

import torch
from torch import nn

N_CLASSES = 10
PIXEL_MAX = 16.0  # load_digits() pixels are integers 0..16


class DigitsCNN(nn.Module):
    """Two 3x3 conv + ReLU layers, a 2x2 max-pool, one hidden Linear + ReLU, a linear head.

    The input is raw pixels of shape ``(n, 64)`` (as ``load_digits()`` and ``heldout.npz`` hold
    them) or ``(n, 1, 8, 8)``; they are divided by 16, a fixed scaling with no fitted state, so a
    freshly initialised copy sees exactly the input the trained one does.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv1_act = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv2_act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 4 * 4, 64)
        self.fc_act = nn.ReLU()
        self.head = nn.Linear(64, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map pixels of shape ``(n, 64)`` or ``(n, 1, 8, 8)`` to logits of shape ``(n, 10)``."""
        x = x.to(self.conv1.weight.dtype).reshape(-1, 1, 8, 8) / PIXEL_MAX
        x = self.pool(self.conv2_act(self.conv2(self.conv1_act(self.conv1(x)))))
        return self.head(self.fc_act(self.fc(x.flatten(1))))


def build() -> DigitsCNN:
    """Return a ``DigitsCNN`` with PyTorch's default initialisation, in eval mode (seed torch first
    for a reproducible one); load ``digits_cnn.safetensors`` into it for the trained net."""
    return DigitsCNN().eval()
