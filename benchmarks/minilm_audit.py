"""Wall time of the MiniLM example audit and how much of it is the bare forward pass.

    python benchmarks/minilm_audit.py [--sentences 2000]

Runs examples/minilm/audit.yaml (every metric, head similarity and ablation, token-embedding
ID) on the first N sentences of its probe, then the same N sentences through the model with no
hooks, in the same process, and prints both with the audit's own stage timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from audit.batches import batches  # noqa: E402
from audit.render import write_reports  # noqa: E402
from audit.runner import run_audit  # noqa: E402
from audit.sources import load_model  # noqa: E402
from audit.spec import load_spec  # noqa: E402


def spec_for(n_sentences: int, folder: Path) -> Path:
    text = (ROOT / "examples" / "minilm" / "audit.yaml").read_text()
    text = text.replace("  source: probe.txt\n", f"  source: {ROOT / 'examples/minilm/probe.txt'}\n  n_samples: {n_sentences}\n")
    path = folder / "audit.yaml"
    path.write_text(text)
    return path


def bare_forward(loaded, texts) -> float:
    model = load_model(loaded)
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches(texts, loaded.spec.probe.batch_size, tokenizer=model.tokenizer, max_length=model.max_length):
            batch.run(model.module)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_spec(spec_for(args.sentences, Path(folder)))
        start = time.perf_counter()
        result = run_audit(loaded)
        write_reports(result, Path(folder) / "out", ["json", "html", "pdf"])
        total = time.perf_counter() - start
        from audit.sources import load_probe

        forward = bare_forward(loaded, load_probe(loaded).features)
    print(f"MiniLM audit on {args.sentences} sentences, {torch.get_num_threads()} threads: {total:.1f} s in all "
          f"(reports included); bare forward pass {forward:.1f} s ({forward / total:.0%})")
    print("stages:", ", ".join(f"{key} {value:.1f}" for key, value in result.timings.items()))


if __name__ == "__main__":
    main()
