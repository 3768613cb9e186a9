"""The audit's warnings, in one place: what a reader must know before trusting a layer's figures
(a metric that could not be computed, points sampled by the cap, duplicate rows collapsed).
The runner stores them in the result; a report of a result assembled elsewhere derives them
with the same function."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["layer_warnings"]


def layer_warnings(layers: Iterable) -> Iterator[str]:
    """One sentence per problem, layer by layer (:class:`~audit.results.LayerResult` objects),
    then one per count of sampled or duplicate points: layers that share a count share a sentence
    (the same cap and the same repeated samples show in every layer)."""
    layers = list(layers)
    for layer in layers:
        for metric in layer.metrics.values():
            if not metric.ok:
                yield f"{layer.name}: {metric.title} could not be computed: {metric.message}"
    sampled = _grouped(((layer.n_points, layer.n_points_seen), layer.name) for layer in layers
                       if layer.n_points < layer.n_points_seen)
    yield from (f"{where}: {kept:,} of {seen:,} points sampled (capture.max_points)" for (kept, seen), where in sampled)
    copies = _grouped(((_duplicates(layer), layer.n_points), layer.name) for layer in layers if _duplicates(layer))
    yield from (f"{where}: {duplicates:,} of {n_points:,} points are exact duplicates; the kNN estimates count each "
                "distinct point once, the spectral ones every row" for (duplicates, n_points), where in copies)


def _duplicates(layer) -> int:
    return max((metric.n_duplicates or 0 for metric in layer.metrics.values()), default=0)


def _grouped(keyed) -> list[tuple[tuple, str]]:
    """``(key, where)`` per distinct key of ``(key, layer name)`` pairs, ``where`` naming the layers."""
    groups: dict[tuple, list[str]] = {}
    for key, name in keyed:
        groups.setdefault(key, []).append(name)
    return [(key, names[0] if len(names) == 1 else f"{len(names)} layers ({', '.join(names)})")
            for key, names in groups.items()]
