"""Small frozen result objects returned by the estimators.

Every result has ``value`` (float), ``method`` (a short string naming the method and its
options) and ``n_used`` (how many points entered the estimate). Where an interval applies,
``ci_low``/``ci_high`` bound ``value`` at confidence ``ci_level`` (0.95 unless asked otherwise),
and ``ci_method`` says how the interval was obtained. Arrays held by results are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["Estimate", "LocalIDResult", "GrideResult", "SpectrumEstimate", "SensitivityResult"]


def _freeze(array) -> np.ndarray:
    frozen = np.array(array, copy=True)
    frozen.setflags(write=False)
    return frozen


@dataclass(frozen=True)
class Estimate:
    """A scalar estimate with its method, interval and bookkeeping.

    ``n_duplicates`` counts the rows that have an exact copy: the kNN estimators collapse each
    set of equal rows to one distinct point before the search, so a copy neither enters the
    estimate twice nor biases a neighbour's ratio. ``n_excluded`` counts every row left out for
    any reason (the extra copies, the discarded tail of TwoNN, GRIDE's outlier cut).
    """

    value: float
    method: str
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float | None = None
    ci_method: str | None = None
    n_used: int | None = None
    n_duplicates: int = 0
    n_excluded: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            out[spec.name] = value.tolist() if isinstance(value, np.ndarray) else value
        out["notes"] = list(self.notes)
        return out

    def __post_init__(self):
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                object.__setattr__(self, spec.name, _freeze(value))


@dataclass(frozen=True)
class LocalIDResult(Estimate):
    """Per-point local ID: ``values[i]`` belongs to row ``point_index[i]`` of X.

    Equal rows are one distinct point, listed once in ``point_index`` under the first of them;
    ``n_duplicates`` counts the rows that have a copy. ``value`` is the mean over points;
    ``median`` and ``quantiles`` (pairs of level and value at 0.05, 0.25, 0.5, 0.75, 0.95)
    describe the spread.
    """

    values: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    point_index: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0, dtype=int)))
    median: float = float("nan")
    quantiles: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class GrideResult(Estimate):
    """ID as a function of scale: ``value`` is the estimate at the first scale (n1=1, n2=2);
    ``scales`` holds n1 per scale (n2 = 2 n1), ``dims`` the estimates, ``ci_lows``/``ci_highs``
    their intervals and ``radii`` the mean distance to the n2-th neighbour at each scale.
    """

    scales: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0, dtype=int)))
    dims: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    ci_lows: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    ci_highs: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))
    radii: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))


@dataclass(frozen=True)
class SpectrumEstimate(Estimate):
    """A spectral estimate; ``spectrum`` holds the eigenvalues (variances) or singular values
    it was computed from, in decreasing order, as its ``method`` says."""

    spectrum: np.ndarray = field(default_factory=lambda: _freeze(np.empty(0)))


@dataclass(frozen=True)
class SensitivityResult:
    """An estimate on nested random subsets: ``sizes[i]`` points gave ``estimates[i]``.

    The subsets are nested (each contains the previous one), so the sequence shows whether the
    estimate has converged with sample size; ``relative_change`` compares the last two sizes.
    """

    sizes: tuple[int, ...]
    estimates: tuple[Estimate, ...]
    method: str

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(estimate.value for estimate in self.estimates)

    @property
    def relative_change(self) -> float:
        if len(self.estimates) < 2:
            return 0.0
        previous, last = self.values[-2], self.values[-1]
        return abs(last - previous) / abs(last) if last else float("inf")

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "sizes": list(self.sizes),
            "estimates": [estimate.to_dict() for estimate in self.estimates],
            "relative_change": self.relative_change,
        }
