"""Hugging Face models as audit subjects: a local model directory wrapped so that its token
states, its pooled sentence embedding and its attention heads are ordinary hookable modules.

``TextEncoder`` holds ``transformer`` (``AutoModel``), and for sentence-transformers directories
(a ``modules.json`` naming a Pooling module) ``sentence_embedding`` (their pooling: masked mean,
CLS or max over tokens) and ``normalize`` when the directory normalises embeddings. The forward
takes the tokenizer's batch and returns the final embedding (or the last hidden states when
there is no pooling).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..batches import masked_mean

__all__ = ["TextEncoder", "MaskedPooling", "L2Normalize", "load_text_encoder", "sentence_transformers_config"]


class MaskedPooling(nn.Module):
    """Pool token states to one vector per text, ignoring padding (sentence-transformers' Pooling)."""

    def __init__(self, mode: str):
        super().__init__()
        if mode not in ("mean", "cls", "max"):
            raise ValueError(f"unsupported pooling {mode!r}")
        self.mode = mode

    def forward(self, token_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.mode == "cls":
            return token_states[:, 0]
        if self.mode == "max":
            return token_states.masked_fill(attention_mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values
        return masked_mean(token_states, attention_mask.bool())


class L2Normalize(nn.Module):
    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(embedding, p=2, dim=1)


class TextEncoder(nn.Module):
    def __init__(self, transformer: nn.Module, pooling: str | None, normalize: bool):
        super().__init__()
        self.transformer = transformer
        self.sentence_embedding = MaskedPooling(pooling) if pooling else None
        self.normalize = L2Normalize() if normalize else None

    def forward(self, input_ids, attention_mask, **extra):
        states = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        if self.sentence_embedding is None:
            return states
        embedding = self.sentence_embedding(states, attention_mask)
        return self.normalize(embedding) if self.normalize is not None else embedding


def load_text_encoder(directory: Path, pooling: str):
    """(TextEncoder, tokenizer, files) from a local model directory, never touching the network.

    ``pooling``: ``auto`` (the sentence-transformers configuration when present, else none),
    ``mean``, ``cls``, ``max`` or ``none``. The model keeps its default attention kernel even
    when heads are audited: head analysis reads the per-head context vectors (the attention
    module's output, before the output projection), which every kernel returns; only the
    attention weights would need the slower eager kernel, and no metric uses them.
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # its "Loading weights" bar broke --quiet and the one-line errors
    transformer = AutoModel.from_pretrained(str(directory), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    chosen, normalize = sentence_transformers_config(directory)
    if pooling != "auto":
        chosen, normalize = (None if pooling == "none" else pooling), normalize and pooling != "none"
    files = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".bin", ".json", ".txt") and p.is_file())
    return TextEncoder(transformer, chosen, normalize).eval(), tokenizer, files


def sentence_transformers_config(directory: Path) -> tuple[str | None, bool]:
    """Pooling mode and whether embeddings are normalised, from modules.json (if any)."""
    modules_file = directory / "modules.json"
    if not modules_file.is_file():
        return None, False
    modules = json.loads(modules_file.read_text())
    types = [module.get("type", "") for module in modules]
    pooling = next((m for m in modules if m.get("type", "").endswith("Pooling")), None)
    if pooling is None:
        return None, False
    config = json.loads((directory / pooling["path"] / "config.json").read_text())
    mode = "cls" if config.get("pooling_mode_cls_token") else "max" if config.get("pooling_mode_max_tokens") else "mean"
    return mode, any(t.endswith("Normalize") for t in types)
