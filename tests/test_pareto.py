"""The Pareto front of the cost stage's variants (audit/stages/cost/pareto.py): planted points
whose front is known by hand, fronts kept apart by quality measure, and the figure drawn."""

from __future__ import annotations

from audit.render import plots
from audit.stages.cost.pareto import VariantPoint, by_measure, front


def _point(label, latency, size, quality, measure="recall@10"):
    return VariantPoint(target="t", kind="quantized", label=label, measure=measure, latency=latency, size=size,
                        quality=quality, low=quality - 0.01, high=min(quality + 0.01, 1.0))


POINTS = [
    _point("a", 0.5, 0.9, 0.90),  # fastest: on the latency front
    _point("b", 0.7, 0.3, 0.97),  # on both fronts
    _point("c", 0.8, 0.5, 0.95),  # dominated by b on both axes
    _point("d", 0.9, 0.2, 0.99),  # smallest and best: on both fronts
    _point("e", 0.9, 0.2, 0.99),  # ties d: neither dominates the other
    _point("f", None, 0.25, 0.80),  # not timed: dominated by d on size, absent from the latency front
]


def test_front_keeps_exactly_the_non_dominated_points_in_cost_order():
    assert [p.label for p in front(POINTS, "latency")] == ["a", "b", "d", "e"]
    assert [p.label for p in front(POINTS, "size")] == ["d", "e"]


def test_fronts_are_drawn_per_quality_measure():
    mixed = POINTS + [_point("g", 0.95, 0.95, 0.5, measure="mean output cosine")]
    groups = by_measure(mixed)
    assert list(groups) == ["recall@10", "mean output cosine"]
    # g is dominated by every recall point, yet it is alone on its own measure's front
    assert [p.label for p in front(groups["mean output cosine"], "size")] == ["g"]


def test_the_figure_is_one_svg_with_both_panels():
    series = [plots.Curve(label=p.label, x=[p.latency], y=[p.quality], lows=[p.low], highs=[p.high]) for p in POINTS]
    fronts = [plots.Curve(label="recall@10", x=[p.latency for p in front(POINTS, "latency")],
                          y=[p.quality for p in front(POINTS, "latency")])]
    svg = plots.pareto_fronts([plots.ParetoPanel("latency", series, fronts), plots.ParetoPanel("bytes", series, [])],
                              0.95)
    assert svg.startswith("<svg") and svg.count("<svg") == 1
    assert "Pareto front (recall@10)" in svg and "floor 95%" in svg
