"""Knowledge distillation of a factorized student (off by default).

The student's layers are reparametrized as ``weight = A @ B`` (``torch.nn.utils.parametrize``)
with ``A``, ``B`` from the truncated SVD, and only those factors are trained: ``steps`` Adam
steps on the batches of the subset's training split (``probe.batch_size``; the held-out split is
only scored), drawn with a fixed seed, minimising the
distillation loss against the teacher's outputs: Hinton et al.'s ``T^2 KL(softmax(t/T) ||
softmax(s/T))`` for class scores, ``1 - cosine`` for embeddings. The rest of the model is
frozen. Afterwards the parametrization is removed and the original weights come back.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch.nn.utils import parametrize

from ...outputs import batch_outputs

__all__ = ["distilled"]


class _Product(torch.nn.Module):
    """A parametrization whose value is ``A @ B`` reshaped to the weight's shape."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, shape):
        super().__init__()
        self.a, self.b = torch.nn.Parameter(a.clone()), torch.nn.Parameter(b.clone())
        self.shape = tuple(shape)

    def forward(self, _original):
        return (self.a @ self.b).reshape(self.shape)


@contextmanager
def distilled(layers: dict, factors: dict, rank: int, setup, options):
    """Within the block, ``layers`` are rank-``rank`` products trained against the teacher."""
    for name, module in layers.items():
        parametrize.register_parametrization(module, "weight", _Product(*factors[name].split(rank), factors[name].shape),
                                             unsafe=True)
    try:
        _train(setup, [p for module in layers.values() for p in module.parametrizations.weight[0].parameters()], options)
        yield
    finally:
        for module in layers.values():
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)


def _train(setup, parameters: list, options) -> None:
    frozen = [p for p in setup.module.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    for p in parameters:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(parameters, lr=options.lr)
    generator = torch.Generator().manual_seed(0)
    inputs = setup.train_inputs
    if not inputs:
        raise ValueError("distillation needs training samples: prepare the sweep with sweep.distill.steps > 0")
    starts = [sum(batch.size for batch in inputs[:i]) for i in range(len(inputs))]
    try:
        with torch.enable_grad():
            for _ in range(options.steps):
                index = int(torch.randint(len(inputs), (1,), generator=generator))
                batch = inputs[index]
                teacher = setup.train_teacher[starts[index]: starts[index] + batch.size].clone()
                loss = _loss(batch_outputs(setup.module, batch), teacher, setup.measure, options.temperature)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    finally:
        for p in frozen:
            p.requires_grad_(True)


def _loss(student: torch.Tensor, teacher: torch.Tensor, measure: str, temperature: float) -> torch.Tensor:
    if measure == "cosine":
        return 1 - torch.nn.functional.cosine_similarity(student, teacher, dim=1).mean()
    log_student = torch.log_softmax(student / temperature, dim=1)
    target = torch.softmax(teacher / temperature, dim=1)
    return torch.nn.functional.kl_div(log_student, target, reduction="batchmean") * temperature ** 2
