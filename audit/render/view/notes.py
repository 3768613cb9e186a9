"""The summary's notes and warnings: accuracy and accuracy per ID, whether the estimates have
settled at this probe size, and what could not be computed."""

from __future__ import annotations

from collections.abc import Iterator

from markupsafe import Markup

from ...audit_warnings import layer_warnings
from ...results import ProbeInfo
from ...stages.accuracy import AccuracyResult
from .context import SETTLED_CHANGE, ReportContext, ok_metric
from .format import fmt_dim, fmt_int, fmt_level, fmt_number, fmt_pct, fmt_range, plural

__all__ = ["accuracy_note", "settled_note", "warnings"]


def accuracy_note(ctx: ReportContext) -> Markup:
    accuracy = ctx.result.accuracy
    if accuracy is None:
        return _no_accuracy(ctx.result.probe)
    interval = fmt_range(accuracy.ci_low, accuracy.ci_high, _pct1)
    note = Markup("Accuracy on the probe's labels: <strong>{acc}</strong> ({level} {method} {interval}, "
                  "n = {n}).").format(acc=_pct1(accuracy.accuracy), level=fmt_level(accuracy.ci_level),
                                      method=accuracy.ci_method, interval=interval, n=fmt_int(accuracy.n_samples))
    if accuracy.accuracy_per_id is None or accuracy.last_hidden_layer is None:
        return note + Markup(" Accuracy per ID is not available: no hidden layer has an ID estimate.")
    return note + _per_id_sentence(accuracy)


def _pct1(value: float | None) -> str:
    return fmt_pct(value, 1)


def _no_accuracy(probe: ProbeInfo) -> Markup:
    if not probe.has_labels:
        return Markup("The probe has no labels, so accuracy and accuracy per ID are not reported.")
    return Markup("Accuracy was not computed (the model's predictions could not be compared with the labels).")


def _per_id_sentence(accuracy: AccuracyResult) -> Markup:
    sentence = Markup(" Accuracy per ID of the last hidden layer <code>{name}</code> (ID {id}): "
                      "<strong>{value}</strong>").format(name=accuracy.last_hidden_layer, id=fmt_dim(accuracy.last_hidden_id),
                               value=fmt_number(accuracy.accuracy_per_id))
    if accuracy.accuracy_per_id_low is not None and accuracy.accuracy_per_id_high is not None:
        sentence += Markup(" (bounds {range} from the accuracy and ID intervals)").format(
            range=fmt_range(accuracy.accuracy_per_id_low, accuracy.accuracy_per_id_high, fmt_number))
    return sentence + Markup("; a higher value means the same accuracy from a more compact representation, "
                             "comparable between models audited on the same probe.")


def settled_note(ctx: ReportContext) -> Markup | None:
    """Whether TwoNN has settled between the two largest nested subsets (the sample_size metric)."""
    changes = [(layer, metric) for layer in ctx.result.layers if (metric := ok_metric(layer, "sample_size"))]
    if not changes:
        return None
    moving = [layer for layer, metric in changes if metric.value > SETTLED_CHANGE]
    largest, change = max(changes, key=lambda item: item[1].value)
    section = ctx.section_number("sensitivity")
    if not moving:
        return Markup("Between the two largest nested subsets of the points, TwoNN changes by at most {change} "
                      "(<code>{name}</code>), so the estimates look settled at this probe size "
                      "(Section {section}).").format(change=fmt_pct(change.value), name=largest.name,
                                                    section=section)
    rising = [layer for layer in moving if _rises(ok_metric(layer, "sample_size"))]
    return Markup("TwoNN still changes by more than {threshold} between the two largest nested subsets of the "
                  "points on {count} (up to {change}, on <code>{name}</code>){direction}: read those IDs as "
                  "estimates at this probe size; more probe points would show whether they settle (Section {section})."
                  ).format(threshold=fmt_pct(SETTLED_CHANGE), count=plural(len(moving), "layer"),
                           change=fmt_pct(change.value), name=largest.name, section=section,
                           direction=_direction(len(rising), len(moving) - len(rising)))


def _rises(metric) -> bool:
    values = metric.details.get("values") or []
    return len(values) >= 2 and values[-1] > values[-2]


def _direction(rising: int, falling: int) -> Markup:
    """Which way the moving estimates go: a rising ID is likely still an underestimate; one that
    falls as points are added was inflated at the smaller size (noise, too few neighbours)."""
    parts = []
    if rising:
        parts.append(f"rising on {plural(rising, 'layer')}, likely still underestimates")
    if falling:
        parts.append(f"falling on {plural(falling, 'layer')}, so the smaller subsets overstated them")
    return Markup(" ({})").format("; ".join(parts)) if parts else Markup()


def warnings(ctx: ReportContext) -> Iterator[str]:
    """The audit's warnings (derived from the layers when the result carries none), then every
    selected metric a layer has no result for."""
    result = ctx.result
    yield from result.warnings or layer_warnings(result.layers)
    for layer in result.layers:
        missing = [ctx.infos[name].title for name in result.metric_names if name not in layer.metrics]
        if missing:
            yield f"{layer.name}: no result for {', '.join(missing)}"
