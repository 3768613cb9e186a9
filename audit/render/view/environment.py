"""Section: environment and provenance (versions, platform, model file digests, timings)."""

from __future__ import annotations

from dataclasses import dataclass

from ...results import AuditResult
from .context import ReportContext
from .format import fmt_bytes, fmt_created, fmt_int, fmt_seconds
from .model import Fact

__all__ = ["EnvironmentView", "FileRow", "build"]

_TIMING_NAMES = {"capture_s": "Capture (model forward passes)", "metrics_s": "Metrics",
                 "heads_s": "Attention heads (similarity and ablation)", "token_embeddings_s": "Token embeddings",
                 "cost_s": "Cost of resizing (variants, ONNX export and timing)",
                 "total_s": "Total"}


@dataclass(frozen=True)
class FileRow:
    path: str
    sha256: str
    size: str


@dataclass(frozen=True)
class EnvironmentView:
    facts: tuple[Fact, ...]
    packages: tuple[Fact, ...]
    files: tuple[FileRow, ...]
    timings: tuple[Fact, ...]


def build(ctx: ReportContext) -> EnvironmentView:
    result = ctx.result
    return EnvironmentView(
        facts=_facts(result),
        packages=tuple(Fact(name, version) for name, version in result.environment.packages.items()),
        files=tuple(FileRow(path=digest.path, sha256=digest.sha256, size=fmt_bytes(digest.bytes))
                    for digest in result.model.files),
        timings=tuple(Fact(_timing_name(key), fmt_seconds(value)) for key, value in result.timings.items()),
    )


def _facts(result: AuditResult) -> tuple[Fact, ...]:
    env = result.environment
    return (
        Fact("Spec", result.spec_path, mono=True),
        Fact("Created", fmt_created(result.created), detail=result.created),
        Fact("Run id", result.run_id or "\u2014", detail="also in manifest.json beside the reports, with each file's sha256",
             mono=True),
        Fact("model-audit", env.model_audit),
        Fact("Python", env.python),
        Fact("Platform", env.platform, mono=True),
        Fact("Torch threads", fmt_int(env.torch_threads)),
        Fact("Device", env.device),
        Fact("Probe seed", str(result.probe.seed)),
    )


def _timing_name(key: str) -> str:
    return _TIMING_NAMES.get(key, key.removesuffix("_s").replace("_", " ").capitalize())
