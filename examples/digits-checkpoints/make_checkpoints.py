"""Train the digits MLP (``../digits-mlp``) for 400 Adam steps and save its weights at a few
steps, the series ``audit.yaml`` audits: ``ckpt/step-<N>.safetensors``.

    .venv/bin/python examples/digits-checkpoints/make_checkpoints.py

The model, the split, the standardisation and the optimiser are ``../digits-mlp/train.py``'s
(imported by file path); minibatches of 64 from a seeded generator, one epoch after another, one
thread and deterministic algorithms: the same files on every run on one machine and torch version.
Step 0 is the initial model (random weights, standardisation fitted).
"""

import importlib.util
from pathlib import Path

import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
STEPS = (0, 10, 30, 100, 400)


def load_train_module():
    spec = importlib.util.spec_from_file_location("digits_mlp_train", HERE.parent / "digits-mlp" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def minibatches(n: int, batch_size: int, seed: int):
    """Indices of seeded shuffles of ``n`` samples, ``batch_size`` at a time, without end."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield from torch.randperm(n, generator=generator).split(batch_size)


def save_series(folder: Path, steps=STEPS) -> None:
    """Train for ``max(steps)`` Adam steps, saving ``step-<N>.safetensors`` at each of ``steps``."""
    train = load_train_module()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    X_train, _, y_train, _ = train.split()
    model = train.initial_model(X_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=train.LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    folder.mkdir(parents=True, exist_ok=True)
    batches = minibatches(len(X_train), train.BATCH_SIZE, train.SEED)
    for step in range(max(steps) + 1):
        if step in steps:
            save_file({key: value.contiguous() for key, value in model.state_dict().items()},
                      str(folder / f"step-{step}.safetensors"))
        if step == max(steps):
            break
        model.train()
        batch = next(batches)
        optimizer.zero_grad()
        loss_fn(model(X_train[batch]), y_train[batch]).backward()
        optimizer.step()
    model.eval()


if __name__ == "__main__":
    save_series(HERE / "ckpt")
    print(f"saved {len(STEPS)} checkpoints (steps {', '.join(map(str, STEPS))}) in {HERE / 'ckpt'}")
