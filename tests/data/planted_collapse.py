"""A toy embedding whose later checkpoints collapse its representation, before accuracy falls.

Samples of 4 classes: class means ``(+-2, +-2)`` in the first two of 16 input dimensions, unit
Gaussian noise in all 16. ``embed`` (Linear 16 -> 16, no bias) starts as the identity; ``head``
reads the two signal dimensions (logit of class c: its mean . z), so the noise dimensions never
matter to accuracy. The series (:data:`SCHEDULE`): the 14 noise directions shrink (steps 200-300:
ID and effective rank fall while accuracy holds), then the second signal direction goes too (step
400: classes sharing the first coordinate merge: accuracy falls by about half).
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn

WIDTH, N_CLASSES = 16, 4
MEANS = np.array([[2.0, 2.0], [2.0, -2.0], [-2.0, 2.0], [-2.0, -2.0]])
# step -> (scale of the 14 noise directions, of signal direction 2, of signal direction 1)
SCHEDULE = {0: (1.0, 1.0, 1.0), 100: (1.0, 1.0, 1.0), 200: (0.3, 1.0, 1.0), 300: (0.05, 1.0, 1.0),
            400: (0.05, 0.0, 1.0)}
COLLAPSE_STEP, ACCURACY_FALL_STEP = 200, 400


def probe(n_per_class: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(N_CLASSES), n_per_class)
    features = rng.standard_normal((labels.size, WIDTH))
    features[:, :2] += MEANS[labels]
    return features.astype(np.float32), labels


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(WIDTH, WIDTH, bias=False)
        self.head = nn.Linear(WIDTH, N_CLASSES, bias=False)

    def forward(self, x):
        return self.head(self.embed(x))


def build() -> Toy:
    return Toy().eval()


def state_at(step: int) -> dict[str, torch.Tensor]:
    noise, second, first = SCHEDULE[step]
    head = np.zeros((N_CLASSES, WIDTH))
    head[:, :2] = MEANS
    scales = np.array([first, second] + [noise] * (WIDTH - 2))
    return {"embed.weight": torch.from_numpy(np.diag(scales)).float(), "head.weight": torch.from_numpy(head).float()}


def save_series(folder: Path) -> None:
    """``step-<N>.safetensors`` for every step of the schedule."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for step in SCHEDULE:
        save_file(state_at(step), str(folder / f"step-{step}.safetensors"))
