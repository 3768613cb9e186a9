"""Train a tiny Hugging Face ViT on scikit-learn's digits seen as images and save it, with its image
processor, as the model directory ``digits-vit/`` next to this file (config.json,
model.safetensors, preprocessor_config.json): the vision model of the image-probe tests.

    .venv/bin/python tests/data/train_digits_vit.py           # train, print accuracy, save
    .venv/bin/python tests/data/train_digits_vit.py --check   # load the saved directory, print accuracy

Each digit (8x8, grey levels 0..16) becomes an 8-bit greyscale image (``digit_image``: levels
x 255/16, rounded), the form the tests write as PNG files; the directory's ``ViTImageProcessor``
turns it into the model's input (RGB, resized to 16x16 bilinear, /255, mean 0.5, std 0.5), in
training as in the audit. The split is the digits MLP's (``examples/digits-mlp/train.py``'s
``split()``: stratified 80/20, random_state 0), so its 360 held-out digits are held out here too.
Deterministic on CPU: seeded init and minibatch order, one thread,
``torch.use_deterministic_algorithms(True)``.

Result (torch 2.13, transformers 5.24, CPU, 60 epochs in about 15 s): 19,626 parameters (83 KB of
safetensors), train accuracy 1.0 (1437 images), held-out accuracy 0.975 (351 of the 360 held-out
digits, as many as the digits MLP). Two runs write byte-identical weights (sha256 0ba8cc09cc09...).
"""

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODEL = HERE / "digits-vit"
SEED = 0
EPOCHS = 60
BATCH_SIZE = 64
LR = 3e-3


def digit_image(pixels):
    """One digit (64 grey levels 0..16) as an 8x8 8-bit greyscale PIL image."""
    from PIL import Image

    levels = np.round(np.asarray(pixels, dtype=np.float64).reshape(8, 8) * 255 / 16).astype(np.uint8)
    return Image.fromarray(levels, mode="L")


def mlp_training():
    """The digits MLP's train.py: its split, its training loop and its accuracy, shared."""
    spec = importlib.util.spec_from_file_location("digits_mlp_train", ROOT / "examples" / "digits-mlp" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def processor():
    from transformers import ViTImageProcessor
    from transformers.utils import logging

    logging.set_verbosity_error()  # "requires torchvision; falling back to the PIL processor"

    return ViTImageProcessor(size={"height": 16, "width": 16}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def pixel_values(image_processor, X) -> torch.Tensor:
    images = [digit_image(row).convert("RGB") for row in X.numpy()]
    return torch.as_tensor(image_processor(images=images, return_tensors="np")["pixel_values"])


class Logits(torch.nn.Module):
    """The classifier's logits as a plain tensor, for the MLP's training loop."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixels):
        return self.model(pixel_values=pixels).logits


def build():
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(image_size=16, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=4, intermediate_size=64, hidden_dropout_prob=0.0,
                       attention_probs_dropout_prob=0.0, num_labels=10,
                       id2label={i: str(i) for i in range(10)}, label2id={str(i): i for i in range(10)})
    torch.manual_seed(SEED)
    return ViTForImageClassification(config)


def main():
    from transformers import ViTForImageClassification

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="evaluate the saved directory instead of training")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    training = mlp_training()
    X_train, X_test, y_train, y_test = training.split()
    image_processor = processor()
    train_pixels, test_pixels = pixel_values(image_processor, X_train), pixel_values(image_processor, X_test)
    if args.check:
        model = ViTForImageClassification.from_pretrained(str(MODEL), local_files_only=True)
    else:
        start = time.perf_counter()
        model = build()
        training.fit(Logits(model), train_pixels, y_train, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE, seed=SEED)
        model.save_pretrained(str(MODEL))
        image_processor.save_pretrained(str(MODEL))
        print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s; saved {MODEL}")
    print(f"parameters        {sum(p.numel() for p in model.parameters())}")
    print(f"train accuracy    {training.accuracy(Logits(model), train_pixels, y_train):.4f} ({len(y_train)} images)")
    print(f"held-out accuracy {training.accuracy(Logits(model), test_pixels, y_test):.4f} ({len(y_test)} images)")


if __name__ == "__main__":
    main()
