"""The audit's warnings, in one place: what a reader must know before trusting a layer's figures
(a metric that could not be computed, points sampled by the cap, duplicate rows collapsed).
The runner stores them in the result; a report of a result assembled elsewhere derives them
with the same function."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["layer_warnings"]


def layer_warnings(layers: Iterable) -> Iterator[str]:
    """One sentence per problem, layer by layer (:class:`~audit.results.LayerResult` objects),
    then one per count of duplicate points (the same repeated samples show in every layer)."""
    layers = list(layers)
    for layer in layers:
        for metric in layer.metrics.values():
            if not metric.ok:
                yield f"{layer.name}: {metric.title} could not be computed: {metric.message}"
        if layer.n_points < layer.n_points_seen:
            yield f"{layer.name}: {layer.n_points:,} of {layer.n_points_seen:,} points sampled (capture.max_points)"
    yield from _duplicate_warnings(layers)


def _duplicate_warnings(layers: list) -> Iterator[str]:
    by_count: dict[tuple[int, int], list[str]] = {}
    for layer in layers:
        duplicates = max((metric.n_duplicates or 0 for metric in layer.metrics.values()), default=0)
        if duplicates:
            by_count.setdefault((duplicates, layer.n_points), []).append(layer.name)
    for (duplicates, n_points), names in by_count.items():
        where = names[0] if len(names) == 1 else f"{len(names)} layers ({', '.join(names)})"
        yield (f"{where}: {duplicates:,} of {n_points:,} points are exact duplicates; the kNN estimates count each "
               "distinct point once, the spectral ones every row")
