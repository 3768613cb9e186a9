"""Causal language models (``model.task: causal-lm``) as audit subjects: a local Hugging Face
directory loaded with ``AutoModelForCausalLM`` and wrapped so that its blocks, the state it
predicts from and its next-token logits are ordinary hookable modules.

``TextDecoder`` holds ``transformer`` (the causal LM's base model: ``GPT2Model``, ``LlamaModel``,
``Qwen2Model``...), ``last_token`` (each text's final hidden state at its last real token, found
from the attention mask, so right padding never counts) and ``lm_head`` (the causal LM's own
output embedding). The forward returns the LM head's logits at that last token: one row of
vocabulary-wide scores per text, the distribution of the token that would come next.

Running the LM head on the last token only is what the causal LM computes there (checked when the
model loads, :func:`_check_head`); running it on every position would hold texts x tokens x
vocabulary floats (20 GB for 256 texts of 128 tokens over Qwen's 151,936 entries) to keep one
row per text.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..batches import last_positions
from ..errors import SourceError

__all__ = ["LastToken", "TextDecoder", "load_text_decoder"]


class LastToken(nn.Module):
    """Each text's state at its last real token: (N, T, C) states and the (N, T) attention mask
    to (N, C)."""

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return states[torch.arange(states.shape[0], device=states.device), last_positions(attention_mask)]


class TextDecoder(nn.Module):
    def __init__(self, transformer: nn.Module, lm_head: nn.Module):
        super().__init__()
        self.transformer = transformer
        self.last_token = LastToken()
        self.lm_head = lm_head

    def forward(self, input_ids, attention_mask, **extra):
        states = self.transformer(input_ids=input_ids, attention_mask=attention_mask, use_cache=False,
                                  **extra).last_hidden_state
        return self.lm_head(self.last_token(states, attention_mask))


def load_text_decoder(directory: Path):
    """(TextDecoder, tokenizer, files, architecture) from a local model directory, never touching
    the network. The weights are read as float32 (the audit runs on the CPU). A tokenizer without
    a pad token pads with its end-of-sequence token, on the right: the attention mask says which
    positions are real, and the causal mask keeps padding out of every real token's state."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    causal = AutoModelForCausalLM.from_pretrained(str(directory), local_files_only=True, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise SourceError(str(directory), "the tokenizer has neither a pad token nor an end-of-sequence token to pad "
                                              "texts of different lengths with")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    base, head = causal.base_model, causal.get_output_embeddings()
    if base is causal or head is None:
        raise SourceError(str(directory), f"{type(causal).__name__} has no base model and output embedding to split "
                                          "its forward into (the LM head over the base model's last hidden states)")
    _check_head(causal, base, head, directory)
    files = sorted(p for p in directory.iterdir() if p.suffix in (".safetensors", ".bin", ".json", ".txt") and p.is_file())
    return TextDecoder(base, head).eval(), tokenizer, files, type(causal).__name__


def _check_head(causal: nn.Module, base: nn.Module, head: nn.Module, directory: Path) -> None:
    """The causal LM's logits must be its LM head's output, unchanged, over its base model's last
    hidden states (true of GPT-2, Llama, Qwen, Mistral...): one forward of the causal LM on a few
    tokens, its LM head's input recorded and its output replaced by a known ramp, which must come
    back as the logits. A model that scales or soft-caps them after the head (Gemma 2, Cohere) is
    refused rather than audited on logits it never produces."""
    rows = getattr(getattr(head, "weight", None), "shape", (4,))[0]
    ids = (torch.arange(4) % rows).unsqueeze(0)
    mask = torch.ones_like(ids)
    seen = {}

    def record(module, args):
        seen["input"] = args[0] if args else None

    def ramp(module, args, output):
        seen["ramp"] = torch.linspace(-100.0, 100.0, output.numel(), dtype=output.dtype).reshape(output.shape)
        return seen["ramp"]

    handles = [head.register_forward_pre_hook(record), head.register_forward_hook(ramp)]
    try:
        with torch.inference_mode():
            logits = causal(input_ids=ids, attention_mask=mask, use_cache=False).logits
            states = base(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    finally:
        for handle in handles:
            handle.remove()
    reads_states = isinstance(seen.get("input"), torch.Tensor) and seen["input"].shape == states.shape and \
        torch.allclose(seen["input"], states, rtol=1e-5, atol=1e-6)
    if not reads_states or "ramp" not in seen or logits.shape != seen["ramp"].shape or not torch.equal(logits, seen["ramp"]):
        raise SourceError(str(directory), f"{type(causal).__name__}'s logits are not its LM head over its base model's "
                                          "last hidden states (it scales or soft-caps them): task causal-lm cannot "
                                          "reproduce them")
