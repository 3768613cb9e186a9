"""Wall time of the cost stage on all-MiniLM-L6-v2, and what it finds.

    python benchmarks/cost_minilm.py [--sentences 1000] [--repeats 10]

Runs examples/minilm/audit.yaml's cost block on the first N sentences of its probe with only
the metrics its candidates need (TwoNN, PCA, effective rank) and the sentence-embedding layers,
then prints the cost stage's time and, per candidate width, the quality kept, the vector store,
the FLOPs and the ONNX p50 against the original's p50 timed in the same runs. Timings depend
on the machine and its load; nothing in CI runs this.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from audit.runner import run_audit  # noqa: E402
from audit.spec import load_spec  # noqa: E402


def spec_for(n_sentences: int, repeats: int, folder: Path) -> Path:
    spec = yaml.safe_load((ROOT / "examples" / "minilm" / "audit.yaml").read_text())
    spec["probe"].update(source=str(ROOT / "examples/minilm/probe.txt"), n_samples=n_sentences)
    spec["layers"] = {"include": ["sentence_embedding", "normalize"]}
    spec["metrics"] = ["twonn", "pca", "effective_rank"]
    spec["cost"]["repeats"] = repeats
    for key in ("heads", "token_embeddings", "capture"):
        spec.pop(key, None)
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = run_audit(load_spec(spec_for(args.sentences, args.repeats, Path(folder))))
    print(f"cost stage on {args.sentences} sentences, torch {torch.get_num_threads()} threads: "
          f"{result.timings['cost_s']:.1f} s (audit total {result.timings['total_s']:.1f} s)")
    for target in result.cost.targets:
        print(f"{target.name}: {target.recommendation}")
        print("  width  sources                 quality  store GB  GFLOP/sample  p50 ms  original p50 ms")
        for row in (target.original, *target.candidates):
            timing = row.timing
            print(f"  {row.width:5d}  {', '.join(row.sources):22s}  {row.quality.retained:7.3f}  "
                  f"{(row.store_bytes or 0) / 1e9:8.2f}  {row.flops_per_sample / 1e9:12.3f}  "
                  f"{timing.p50_s * 1e3 if timing else float('nan'):6.1f}  "
                  f"{(timing.reference_p50_s or timing.p50_s) * 1e3 if timing else float('nan'):15.1f}")


if __name__ == "__main__":
    main()
