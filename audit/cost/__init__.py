"""The cost of resizing: candidate widths from ID and rank, their estimated cost (parameters,
bytes, FLOPs, vector store, money), variants built for real and timed through ONNX Runtime, the
quality they keep, and one recommendation per target.

One responsibility per module: :mod:`.candidates` (widths from measurements), :mod:`.estimate`
(parameters, bytes, FLOPs, store), :mod:`.variants` (PCA projection, SVD factorization),
:mod:`.onnx_timing` (export and timing, reusable alone), :mod:`.quality` (retrieval overlap,
cosine preservation), :mod:`.money` (prices from the spec), :mod:`.recommend` (the sentence),
:mod:`.bench` (the original every variant is measured against) and :mod:`.stage` (orchestration).
"""

from .stage import cost_result, plan_factorized

__all__ = ["cost_result", "plan_factorized"]
