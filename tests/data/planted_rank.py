"""A model whose ``hidden`` Linear has exact rank 5, and a probe it classifies perfectly.

``hidden.weight = Q diag(s) P^T`` with orthonormal ``P``, ``Q`` (24 x 5) and distinct singular
values ``s``; ``head`` maps ``Q e_c s_c`` back to the one-hot logit of class ``c`` (classes 0..4)
and class 5 ("none of them") has a constant logit 0.5. A sample of class ``c < 5`` is ``P e_c``;
one of class 5 is zero. Truncating ``hidden`` to rank ``k`` erases the directions of classes
``k..4``, whose samples then fall to class 5: accuracy is exactly ``(k + 1) / 6`` below rank 5
(5/6 = 83% at rank 4, under 85%) and 1 from rank 5 on, so the knee and the 85-95% range are 5.
"""

import numpy as np
import torch
from torch import nn

WIDTH, RANK, N_CLASSES = 24, 5, 6
SINGULAR_VALUES = (3.0, 2.8, 2.6, 2.4, 2.2)


def bases(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal ``P`` and ``Q`` (WIDTH x RANK), from the seed."""
    rng = np.random.default_rng(seed)
    p, _ = np.linalg.qr(rng.standard_normal((WIDTH, RANK)))
    q, _ = np.linalg.qr(rng.standard_normal((WIDTH, RANK)))
    return p, q


def probe(n_per_class: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    p, _ = bases()
    rng = np.random.default_rng(seed + 1)
    centres = np.vstack([p.T, np.zeros((1, WIDTH))])
    labels = np.repeat(np.arange(N_CLASSES), n_per_class)
    features = centres[labels] + 0.01 * rng.standard_normal((labels.size, WIDTH))
    return features.astype(np.float32), labels


class Planted(nn.Module):
    def __init__(self):
        super().__init__()
        p, q = bases()
        s = np.asarray(SINGULAR_VALUES)
        self.hidden = nn.Linear(WIDTH, WIDTH, bias=False)
        self.head = nn.Linear(WIDTH, N_CLASSES)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.from_numpy(q @ np.diag(s) @ p.T))
            head = np.zeros((N_CLASSES, WIDTH))
            head[:RANK] = np.diag(1 / s) @ q.T
            self.head.weight.copy_(torch.from_numpy(head))
            self.head.bias.copy_(torch.tensor([0.0] * RANK + [0.5]))

    def forward(self, x):
        return self.head(self.hidden(x))


def build() -> Planted:
    return Planted().eval()
