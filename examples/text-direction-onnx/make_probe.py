"""Build probe.npz for the text-direction example: lines of English text rendered as the
PaddleOCR direction classifier expects them, half upright (label 0) and half turned 180 degrees
(label 1).

The text is the first lines of ../minilm/probe.txt (Python reference topics and PSF docstrings,
PSF License 2.0). Each line is drawn in Pillow's built-in font on a white 192x48 canvas, then
scaled as PaddleOCR's ``ClsResizeImg`` does: grey levels to [-1, 1], three identical channels,
channel first. Deterministic: the same Pillow gives the same bytes.

    python examples/text-direction-onnx/make_probe.py [--samples 256] [--out probe.npz]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT, CHARACTERS = 192, 48, 22


def text_lines(count: int) -> list[str]:
    lines = [line.strip() for line in (HERE.parent / "minilm" / "probe.txt").read_text(encoding="utf-8").splitlines()]
    return [line[:CHARACTERS] for line in lines if line][:count]


def render(text: str, *, turned: bool) -> np.ndarray:
    """One line as a (3, 48, 192) float32 array in [-1, 1], turned 180 degrees if asked."""
    canvas = Image.new("L", (WIDTH, HEIGHT), 255)
    ImageDraw.Draw(canvas).text((4, 8), text, fill=0, font=ImageFont.load_default(size=28))
    if turned:
        canvas = canvas.rotate(180)
    grey = np.asarray(canvas, dtype=np.float32) / 255.0
    return np.repeat(((grey - 0.5) / 0.5)[None], 3, axis=0)


def build_probe(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` rendered lines and their labels (0 upright, 1 turned), alternating."""
    labels = np.arange(count) % 2
    images = np.stack([render(text, turned=bool(label)) for text, label in zip(text_lines(count), labels)])
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--out", type=Path, default=HERE / "probe.npz")
    args = parser.parse_args()
    images, labels = build_probe(args.samples)
    np.savez_compressed(args.out, X=images, y=labels)
    print(f"wrote {args.out}: {images.shape[0]} lines of {images.shape[1:]} ({labels.sum()} turned)")


if __name__ == "__main__":
    main()
