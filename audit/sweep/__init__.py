"""Low-rank factorization sweeps: how many dimensions a network's weight matrices really need.

Pure maths in :mod:`.lowrank` (truncated SVD, parameter counts), :mod:`.grid` (which ranks),
:mod:`.curve` (monotone PCHIP fit, knee, rank per retained share); the model side in
:mod:`.setup` (layers, groups, probe subset, score), :mod:`.evaluate` (one student, scored),
:mod:`.distill` (optional knowledge distillation), :mod:`.executor` (threads or Ray) and the
stage itself in :mod:`.run`.
"""

from .curve import CurveFit, fit_curve, knee_rank, rank_for_level
from .lowrank import LowRankFactors, dense_parameters, factorize, factorized_parameters

__all__ = ["CurveFit", "fit_curve", "knee_rank", "rank_for_level", "LowRankFactors", "factorize",
           "factorized_parameters", "dense_parameters", "sweep_result"]


def sweep_result(loaded, model, probe, progress=None):
    """See :func:`audit.sweep.run.sweep_result` (imported on use: it needs the model side)."""
    from .run import sweep_result as run

    return run(loaded, model, probe, progress)
