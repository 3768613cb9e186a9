"""The facts under the report's title: model, files, parameters, probe, layers, date."""

from __future__ import annotations

from collections.abc import Iterator

from ...results import ProbeInfo
from .context import ReportContext
from .format import fmt_bytes, fmt_created, fmt_int
from .model import Fact

__all__ = ["header_facts"]

# model files named in the header (all of them are in the environment section)
_HEADER_FILES = 3


def header_facts(ctx: ReportContext) -> tuple[Fact, ...]:
    result = ctx.result
    return (
        *_model_facts(ctx),
        Fact("Probe", result.probe.source, detail=" \u00b7 ".join(_probe_details(result.probe))),
        Fact("Layers audited", fmt_int(len(result.layers)),
             detail=f"primary ID metric: {result.primary_id}" if result.primary_id else "no ID metric selected"),
        Fact("Created", fmt_created(result.created), detail=f"run {result.run_id}" if result.run_id else ""),
    )


def _model_facts(ctx: ReportContext) -> Iterator[Fact]:
    model = ctx.result.model
    yield Fact("Model", f"{model.source}", detail=f"{model.kind} \u00b7 {model.module_type}")
    for digest in model.files[:_HEADER_FILES]:
        yield Fact("File", _basename(digest.path), mono=True,
                   detail=f"sha256 {digest.sha256[:12]}\u2026 \u00b7 {fmt_bytes(digest.bytes)}")
    if len(model.files) > _HEADER_FILES:
        yield Fact("Files", f"{len(model.files) - _HEADER_FILES:,} more",
                   detail=f"listed with their digests in Section {ctx.section_number('environment')}")
    yield Fact("Parameters", fmt_int(model.n_parameters))


def _probe_details(probe: ProbeInfo) -> Iterator[str]:
    yield f"{fmt_int(probe.n_samples)} samples"
    if probe.n_features is not None:
        yield f"{fmt_int(probe.n_features)} features"
    if probe.has_labels:
        yield "labelled" + (f", {fmt_int(probe.n_classes)} classes" if probe.n_classes else "")
    else:
        yield "no labels"
    yield f"seed {probe.seed}"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] or path
