"""The model's outputs on a list of samples, and two scores of outputs against a reference: the
accuracy on labels and the fidelity to a baseline. Shared by head ablation and the cost stage,
which both ask "how much does this change to the model change what it returns?"."""

from __future__ import annotations

import torch

from .batches import batches, masked_mean

__all__ = ["model_outputs", "accuracy_score", "fidelity_score"]


def model_outputs(model, features, batch_size: int = 64) -> torch.Tensor:
    """``model.module``'s output on ``features``, one flattened row per sample (token states are
    averaged over each text's real tokens)."""
    found = []
    with torch.inference_mode():
        for batch in batches(features, batch_size, dtype=model.input_dtype, tokenizer=model.tokenizer,
                             max_length=model.max_length):
            output = batch.run(model.module)
            output = output if isinstance(output, torch.Tensor) else output[0]
            if output.ndim == 3 and batch.mask is not None:  # token states: compare texts by masked mean
                output = masked_mean(output, batch.mask)
            found.append(output.float().flatten(1))
    return torch.cat(found)


def fidelity_score(baseline: torch.Tensor):
    """Mean cosine similarity of outputs to ``baseline``, row by row."""
    return lambda outputs: float(torch.nn.functional.cosine_similarity(outputs, baseline, dim=1).mean())


def accuracy_score(labels):
    """Share of rows whose argmax is the label."""
    truth = torch.as_tensor(labels)
    return lambda outputs: float((outputs.argmax(dim=1) == truth).float().mean())
