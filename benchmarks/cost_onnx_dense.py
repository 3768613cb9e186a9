"""Wall time of the cost stage on an ONNX model with large dense layers (issue 16's second workload).

    python benchmarks/cost_onnx_dense.py                       # this checkout
    python benchmarks/cost_onnx_dense.py --tree /path/to/old   # and another checkout, side by side

The model: a random MLP 512 -> 6144 -> 2048 -> 1024 -> 10 (ReLU between; four dense layers, the
widest over 6,000 outputs) exported to ONNX, with 300 probe samples; the spec factorizes every
dense layer at ranks 64 and 128 besides the candidates the measurements propose. Each tree's
audit runs in its own process (``PYTHONPATH`` set to the tree), one after the other on the same
files, and its stage timings and whole-process seconds are printed; with two trees, so is the
check that their audit.json agree on every quality, FLOP and parameter figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (512, 6144, 2048, 1024, 10)
SPEC = """\
model: {kind: onnx, path: dense.onnx}
probe: {source: probe.npz}
metrics: [pca]
cost: {ranks: [64, 128]}
output: {formats: [json]}
"""


def build(folder: Path) -> Path:
    """The ONNX model, its 300-sample probe and the spec, in ``folder``."""
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(WIDTHS, WIDTHS[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).eval()
    example = torch.randn(8, WIDTHS[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (example,), folder / "dense.onnx", input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "n"}}, opset_version=17, dynamo=False)
    np.savez(folder / "probe.npz", x=np.random.default_rng(0).normal(size=(300, WIDTHS[0])).astype(np.float32))
    (folder / "audit.yaml").write_text(SPEC)
    return folder / "audit.yaml"


def audit_with(tree: Path, spec: Path, out: Path) -> tuple[float, dict]:
    """Seconds of the whole ``model-audit run`` process of ``tree``, and its audit.json."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "audit", "run", str(spec), "--out", str(out), "--quiet"], check=True,
                   env=environment, cwd=spec.parent)
    return time.perf_counter() - start, json.loads((out / "audit.json").read_text())


def figures(result: dict) -> list:
    """Every cost row's quality, FLOPs and parameters, in table order."""
    return [(target["name"], row["width"], row["quality"], row["flops_per_sample"], row["parameters"])
            for target in result["cost"]["targets"] for row in (target["original"], *target["candidates"])]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another checkout to run beside this one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spec = build(Path(folder))
        runs = {}
        for index, tree in enumerate([*args.tree, ROOT]):
            seconds, result = audit_with(tree, spec, Path(folder) / f"out{index}")
            runs[str(tree)] = result
            stages = ", ".join(f"{key} {value:.1f}" for key, value in result["timings"].items())
            print(f"{tree}: {seconds:.1f} s in all; stages: {stages}; {len(figures(result))} cost rows")
    if len(runs) > 1:
        first, *others = runs.values()
        same = all(figures(other) == figures(first) for other in others)
        print("quality, FLOP and parameter figures:", "identical" if same else "DIFFER")


if __name__ == "__main__":
    main()
