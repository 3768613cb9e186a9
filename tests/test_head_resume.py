"""Head ablation resumed at the ablated layer's block (audit.stages.heads.resume): on BERT, GPT-2
and Llama every resumed pass with a head zeroed equals, bit for bit, the whole model's pass with
the same head zeroed, and later layers really skip the blocks before them; a stack whose blocks
pass state around their outputs fails the check and runs whole passes, still exact."""

from __future__ import annotations

import pytest
import torch
from test_decoders import MODEL, probe_texts, random_decoder

from audit.batches import batches
from audit.outputs import outputs_of
from audit.stages.heads.attention import _zeroed_head, attention_layers
from audit.stages.heads.resume import ResumablePasses


def tiny_bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=1024, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                        intermediate_size=128, max_position_embeddings=64, initializer_range=0.2)
    return BertModel(config).eval()


def causal_lm(folder, family):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(random_decoder(folder, family), local_files_only=True).eval()


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_resumed_ablation_equals_the_whole_pass(tmp_path, family):
    from transformers import AutoTokenizer

    module = tiny_bert() if family == "bert" else causal_lm(tmp_path, family)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)  # the tiny decoder example's 1,024-token BPE
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    ready = list(batches(probe_texts(12), 5, tokenizer=tokenizer, max_length=64))
    layers = attention_layers(module)
    passes = ResumablePasses(module, ready, [layer.name for layer in layers])
    whole = outputs_of(module, ready)
    assert torch.equal(passes.baseline(), whole)
    assert [len(passes.blocks[layer.name]) for layer in layers] == list(range(len(layers)))  # the check passed
    modules = dict(module.named_modules())
    for layer in layers:
        for head in (0, layer.n_heads - 1):
            with _zeroed_head(modules[layer.projection], head, layer.d_head):
                resumed, expected = passes.outputs(layer.name), outputs_of(module, ready)
            assert torch.equal(resumed, expected) and not torch.equal(resumed, whole)


class _Leaky(torch.nn.Module):
    """A block that hands the next block a value beside its output (a stack resuming cannot skip)."""

    def __init__(self, shared: dict):
        super().__init__()
        self.linear, self.shared = torch.nn.Linear(4, 4), shared

    def forward(self, x):
        self.shared["state"] = self.shared.get("state", 0) + 1
        return self.linear(x) * self.shared["state"]


class _LeakyStack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        shared = {}
        self.blocks = torch.nn.ModuleList([_Leaky(shared) for _ in range(3)])
        self.shared = shared

    def forward(self, x):
        self.shared.clear()
        for block in self.blocks:
            x = block(x)
        return x


def test_a_stack_that_passes_state_beside_its_outputs_runs_whole_passes():
    torch.manual_seed(0)
    module = _LeakyStack()
    ready = list(batches(torch.randn(6, 4).numpy(), 3))
    passes = ResumablePasses(module, ready, ["blocks.1.linear", "blocks.2.linear"])
    assert torch.equal(passes.baseline(), outputs_of(module, ready))
    assert passes.blocks == {}  # the resumed check differed: nothing is skipped
    assert torch.equal(passes.outputs("blocks.2.linear"), outputs_of(module, ready))
