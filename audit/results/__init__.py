"""Everything an audit measured, as frozen dataclasses; audit.json and its JSON Schema are
generated from them (:mod:`.layout`, :mod:`.schema`).

Renderers read an :class:`AuditResult` and nothing else. The types here are those every audit
has (model, probe, layers, metrics, the verdict); each stage's result types live with the stage
(:mod:`audit.stages`) and are held in ``AuditResult.stages``. ``SCHEMA_VERSION`` changes
whenever the layout does; ``tests/test_schema.py`` checks that the committed
``audit/schema/audit.schema.json`` is the generated one.
"""

from .core import SCHEMA_VERSION, AuditResult, EnvironmentInfo, FileDigest, ModelInfo, ProbeInfo
from .layer import LayerResult, MetricResult
from .layout import Meta, as_json
from .outcomes import Observation, RuleOutcome, Status, Verdict

__all__ = [
    "SCHEMA_VERSION",
    "AuditResult",
    "EnvironmentInfo",
    "FileDigest",
    "LayerResult",
    "Meta",
    "MetricResult",
    "ModelInfo",
    "Observation",
    "ProbeInfo",
    "RuleOutcome",
    "Status",
    "Verdict",
    "as_json",
]
