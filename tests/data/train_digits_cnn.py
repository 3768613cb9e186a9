"""Train ``DigitsCNN`` (``digits_cnn.py``) and save ``digits_cnn.safetensors`` next to this file.

    .venv/bin/python tests/data/train_digits_cnn.py           # train, print accuracy, save
    .venv/bin/python tests/data/train_digits_cnn.py --check   # load the saved weights, print accuracy

The split is the digits MLP's (``examples/digits-mlp/train.py``'s ``split()``: stratified 80/20,
random_state 0), so ``examples/digits-mlp/heldout.npz`` is held out for this net too. Bitwise
deterministic on CPU: seeded init and minibatch order, one thread,
``torch.use_deterministic_algorithms(True)``.

Result (torch 2.13, CPU, 30 epochs in about 3 s): train accuracy 0.9993 (1436 of 1437 images),
held-out accuracy 0.9778 (352 of the 360 held-out digits; the digits MLP gets 351). Two runs write
byte-identical weights (sha256 4432512962d9...).
"""

import argparse
import importlib.util
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WEIGHTS = HERE / "digits_cnn.safetensors"
SEED = 0
EPOCHS = 30
BATCH_SIZE = 64
LR = 1e-3


def load(path: Path, name: str):
    """Import a module by file path (the way model-audit loads ``file.py:build``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mlp_training():
    """The digits MLP's train.py: its split, its training loop and its accuracy, shared."""
    return load(ROOT / "examples" / "digits-mlp" / "train.py", "digits_mlp_train")


def train(X_train, y_train):
    """Fit a fresh net with Adam on cross-entropy."""
    torch.manual_seed(SEED)
    model = load(HERE / "digits_cnn.py", "digits_cnn").build()
    return mlp_training().fit(model, X_train, y_train, epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE, seed=SEED)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="evaluate the saved weights instead of training")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    X_train, X_test, y_train, y_test = mlp_training().split()
    if args.check:
        model = load(HERE / "digits_cnn.py", "digits_cnn").build()
        model.load_state_dict(load_file(WEIGHTS), strict=True)
    else:
        start = time.perf_counter()
        model = train(X_train, y_train)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, WEIGHTS)
        print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s; saved {WEIGHTS}")
    accuracy = mlp_training().accuracy
    print(f"train accuracy    {accuracy(model, X_train, y_train):.4f} ({len(y_train)} images)")
    print(f"held-out accuracy {accuracy(model, X_test, y_test):.4f} ({len(y_test)} images)")


if __name__ == "__main__":
    main()
