"""Train ``DigitsMLP`` on scikit-learn's digits and save ``weights.safetensors`` next to this file,
with ``heldout.npz``: the 360 test-split digits (``X`` raw pixels, ``y`` labels) the audit's probe
is, so the audit measures the model on digits it was not trained on.

    .venv/bin/python examples/digits-mlp/train.py             # train, print accuracy, save both
    .venv/bin/python examples/digits-mlp/train.py --check     # load the saved weights, print accuracy
    .venv/bin/python examples/digits-mlp/train.py --heldout   # write heldout.npz only (no training)

Bitwise deterministic on CPU: fixed seeds, a fixed stratified split, minibatches drawn from a
seeded generator, one thread and ``torch.use_deterministic_algorithms(True)``. Two runs on the
same machine and torch version write byte-identical files (``heldout.npz`` is written with a
fixed timestamp, so it too is byte-identical).
"""

import argparse
import importlib.util
import io
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "weights.safetensors"
HELDOUT = HERE / "heldout.npz"
SEED = 0
TEST_SIZE = 0.2
EPOCHS = 40
BATCH_SIZE = 64
LR = 1e-3


def load_model_module():
    """Import ``model.py`` by file path, the way model-audit loads ``model.py:build``."""
    spec = importlib.util.spec_from_file_location("digits_mlp_model", HERE / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split():
    """Return ``X_train, X_test, y_train, y_test``: raw pixels as float32, labels as int64."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
    )
    def features(array):
        return torch.as_tensor(array, dtype=torch.float32)

    def labels(array):
        return torch.as_tensor(array, dtype=torch.int64)

    return features(X_train), features(X_test), labels(y_train), labels(y_test)


def save_heldout(X_test, y_test, path=HELDOUT):
    """Write the test split as an .npz of ``X`` (float32 pixels) and ``y`` (int64 labels), entries
    dated 1980-01-01 so that the archive is the same bytes on every run (``np.savez`` stamps the
    current time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in (("X", X_test.numpy()), ("y", y_test.numpy())):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(entry, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED)


@torch.no_grad()
def accuracy(model, X, y) -> float:
    """Fraction of ``X`` that ``model`` (put in eval mode) classifies as ``y``."""
    model.eval()
    return (model(X).argmax(dim=1) == y).double().mean().item()


def initial_model(X_train):
    """A fresh model from the seed, its standardisation fitted to the training split."""
    torch.manual_seed(SEED)
    model = load_model_module().build()
    scaler = StandardScaler().fit(X_train.numpy())
    model.standardize.mean.copy_(torch.as_tensor(scaler.mean_, dtype=torch.float32))
    model.standardize.scale.copy_(torch.as_tensor(scaler.scale_, dtype=torch.float32))
    return model


def train(X_train, y_train):
    """Fit a fresh model: standardisation from the training split, then Adam on cross-entropy."""
    return fit(initial_model(X_train), X_train, y_train, epochs=EPOCHS)


def fit(model, X_train, y_train, *, epochs: int, lr: float = LR, batch_size: int = BATCH_SIZE, seed: int = SEED):
    """Adam on cross-entropy over seeded shuffles of the training split; the model in eval mode."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(X_train), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(X_train[batch]), y_train[batch]).backward()
            optimizer.step()
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="evaluate the saved weights instead of training")
    parser.add_argument("--heldout", action="store_true", help="write heldout.npz (the test split) and stop")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    X_train, X_test, y_train, y_test = split()
    if args.heldout:
        save_heldout(X_test, y_test)
        print(f"saved {HELDOUT} ({len(y_test)} held-out images)")
        return

    if args.check:
        model = load_model_module().build()
        model.load_state_dict(load_file(WEIGHTS), strict=True)
    else:
        start = time.perf_counter()
        model = train(X_train, y_train)
        seconds = time.perf_counter() - start
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, WEIGHTS)
        save_heldout(X_test, y_test)
        print(f"trained {EPOCHS} epochs in {seconds:.1f} s; saved {WEIGHTS} and {HELDOUT}")
    print(f"train accuracy {accuracy(model, X_train, y_train):.4f} ({len(y_train)} images)")
    print(f"test accuracy  {accuracy(model, X_test, y_test):.4f} ({len(y_test)} images)")


if __name__ == "__main__":
    main()
