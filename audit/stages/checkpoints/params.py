"""The ``checkpoints:`` section of the spec: a series of weights for the spec's model."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator

from .._base import StageParams

__all__ = ["CheckpointEntry", "CheckpointsSpec"]


class CheckpointEntry(StageParams):
    """One checkpoint named explicitly: its training step and its weights file."""

    step: int = Field(ge=0, description="the training step the weights were saved at")
    weights: str = Field(description=".safetensors, or a .pt/.pth state dict (weights_only=True)")


def _form(value) -> str:
    return "~glob" if isinstance(value, str) else "~list"


# a glob or a list, told apart by the value's type (tags with "~": the spec's error lines leave them out)
WeightsForm = Annotated[Union[Annotated[str, Tag("~glob")], Annotated[list[CheckpointEntry], Tag("~list")]],
                        Discriminator(_form)]


class CheckpointsSpec(StageParams):
    """A series of state dicts for the spec's model, each audited on the same probe points and layers."""

    weights: WeightsForm = Field(
        description="a glob whose file names carry the step ('ckpt/step-*.safetensors'), or a list of "
                    "{step, weights}; relative to the spec file")
    step_pattern: str = Field(r"(\d+)", description="regular expression whose first group reads the step from a "
                              "file name (the last match wins)")
    warn_drop: float = Field(0.3, gt=0, lt=1, description="share by which a layer's ID or effective rank must fall "
                             "between consecutive steps to raise the early warning")
    accuracy_tolerance: float = Field(0.02, ge=0, lt=1, description="accuracy change between those steps still read "
                                      "as 'not moved' (a drop while accuracy rose more is learning, not a warning)")
    executor: Literal["local", "ray"] = Field("local", description="local threads, or tasks on a Ray cluster")
    workers: int = Field(2, ge=1, description="checkpoints audited in parallel (local threads or Ray tasks)")
    ray_address: str | None = Field(None, description="ray.init address ('auto', 'ray://host:10001'); none: a local Ray")

    @field_validator("weights")
    @classmethod
    def _some_weights(cls, value):
        if isinstance(value, list) and not value:
            raise ValueError("name at least one checkpoint")
        if isinstance(value, str) and not value.strip():
            raise ValueError("a glob of weight files is required")
        return value

    @field_validator("step_pattern")
    @classmethod
    def _one_group(cls, value: str) -> str:
        import re

        try:
            groups = re.compile(value).groups
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        if groups < 1:
            raise ValueError("the pattern needs a group '( )' around the step's digits")
        return value
