"""Hugging Face vision models as audit subjects: a local model directory with its image processor
(``preprocessor_config.json``), read for a folder of images.

``VisionEncoder`` holds ``transformer``: ``AutoModelForImageClassification`` when the config names
an ``...ForImageClassification`` architecture (its output is the class logits), else ``AutoModel``
(its output is the pooled embedding, or the last hidden states without a pooler). The forward
takes ``pixel_values``, which the directory's ``AutoImageProcessor`` makes from RGB images.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["VisionEncoder", "load_vision_encoder", "load_image_processor"]


class VisionEncoder(nn.Module):
    def __init__(self, transformer: nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        output = self.transformer(pixel_values=pixel_values)
        for key in ("logits", "pooler_output", "last_hidden_state"):
            value = output.get(key) if hasattr(output, "get") else None
            if isinstance(value, torch.Tensor):
                return value
        return output[0]


def _quiet():
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "requires torchvision ... falling back to the PIL processor" and the like
    hf_logging.disable_progress_bar()


def load_vision_encoder(directory: Path):
    """(VisionEncoder in eval mode, files) from a local model directory, never touching the network."""
    from transformers import AutoModel, AutoModelForImageClassification

    _quiet()
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    classifier = any(str(name).endswith("ForImageClassification") for name in config.get("architectures") or [])
    auto = AutoModelForImageClassification if classifier else AutoModel
    transformer = auto.from_pretrained(str(directory), local_files_only=True)
    files = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".bin", ".json") and p.is_file())
    return VisionEncoder(transformer).eval(), files


def load_image_processor(directory: Path):
    """``images -> float32 pixel_values`` by the directory's ``AutoImageProcessor``."""
    from transformers import AutoImageProcessor

    _quiet()
    processor = AutoImageProcessor.from_pretrained(str(directory), local_files_only=True)

    def process(images) -> np.ndarray:
        return np.asarray(processor(images=images, return_tensors="np")["pixel_values"], dtype=np.float32)

    return process
