"""The ``probe:`` section of the spec: the data the model runs on (arrays, tables, texts, a folder
of images and how its pixels become the model's input)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .yaml_source import did_you_mean as _did_you_mean

__all__ = ["BUILTIN_PROBES", "PROBE_SUFFIXES", "TABLE_SUFFIXES", "TEXT_SUFFIXES", "ImageSpec", "ProbeSpec", "Strict"]

BUILTIN_PROBES = ("sklearn:digits", "sklearn:iris", "sklearn:breast_cancer", "sklearn:wine")
PROBE_SUFFIXES = (".npz", ".npy", ".csv", ".parquet", ".txt", ".jsonl")
TEXT_SUFFIXES = (".txt", ".jsonl")
TABLE_SUFFIXES = (".parquet",)  # text for a model that reads text, numbers for any other


class Strict(BaseModel):
    """Base of every spec section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageSpec(Strict):
    """How the pixels of a folder of images become the model's input: converted to ``mode``,
    resized to ``size``, divided by ``scale``, less ``mean``, over ``std``, arranged in ``layout``."""

    size: list[Annotated[int, Field(ge=1, le=65536)]] | None = Field(
        None, description="[height, width] every image is resized to (default: the images' own size, the same for all)")
    resample: Literal["bilinear", "bicubic", "nearest", "lanczos"] = Field(
        "bilinear", description="Pillow's resampling filter for that resize")
    mode: Literal["RGB", "L"] = Field("RGB", description="RGB (3 channels) or L (1 channel, greyscale)")
    scale: float = Field(255.0, gt=0, allow_inf_nan=False, description="pixel values (0..255) are divided by it")
    mean: float | list[float] = Field(0.0, description="subtracted after scaling: a number, or one per channel")
    std: float | list[float] = Field(1.0, description="divided by after the mean: a number, or one per channel")
    layout: Literal["NCHW", "NHWC"] = Field("NCHW", description="axis order of the batch: channels first or last")

    @field_validator("size", mode="before")
    @classmethod
    def _height_width(cls, value):
        if value is not None and (not isinstance(value, (list, tuple)) or len(value) != 2):
            raise ValueError("size is [height, width] in pixels")
        return value

    @field_validator("mean", "std", mode="before")
    @classmethod
    def _number_or_numbers(cls, value):
        numbers = value if isinstance(value, list) else [value]
        if not numbers or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
            raise ValueError("give a number, or a list of one number per channel")
        if not all(math.isfinite(n) for n in numbers):
            raise ValueError("must be finite numbers")
        return value

    @model_validator(mode="after")
    def _one_per_channel(self):
        for key in ("mean", "std"):
            value = getattr(self, key)
            if isinstance(value, list) and len(value) != self.channels:
                raise PydanticCustomError("cross_key", "has {n} values; mode {mode} has {channels} channel{s}",
                                          {"key": f"probe.image.{key}", "n": len(value), "mode": self.mode,
                                           "channels": self.channels, "s": "s" if self.channels > 1 else ""})
        if any(value <= 0 for value in self.per_channel("std")):
            raise PydanticCustomError("cross_key", "each must be greater than 0", {"key": "probe.image.std"})
        return self

    @property
    def channels(self) -> int:
        return 3 if self.mode == "RGB" else 1

    def per_channel(self, key: str) -> tuple[float, ...]:
        """``mean`` or ``std`` as one float per channel."""
        value = getattr(self, key)
        return tuple(float(v) for v in value) if isinstance(value, list) else (float(value),) * self.channels


class ProbeSpec(Strict):
    """The data the model runs on."""

    source: str = Field(description="a .npz/.npy/.csv/.parquet file, a folder of images (DIR/), or a built-in: "
                        + ", ".join(BUILTIN_PROBES))
    features: str | list[str] | None = Field(
        None, description=".npz: the array of features (default 'X', or the only array); .csv, .parquet: the feature "
                          "column or columns (default: every column but the labels)")
    text_field: str = Field("text", description=".jsonl: the field holding the text; .parquet: the text column")
    labels: str | None = Field(
        None, description=".npz: the array of labels (default 'y' if present); .csv, .parquet: the label column; "
                          ".jsonl: the label field")
    image: ImageSpec | None = Field(None, description="a folder of images: how pixels become the model's input")
    n_samples: int | None = Field(None, ge=1, description="use this many samples, chosen at random with `seed` (default: all)")
    seed: int = Field(0, description="seed of the sample choice")
    batch_size: int = Field(256, ge=1, description="samples per forward pass")

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        """A built-in, a folder (a path ending in '/', or an existing folder: '/' is added), or a
        file with a probe suffix."""
        if value.startswith("sklearn:"):
            if value not in BUILTIN_PROBES:
                raise ValueError(f"unknown built-in probe {value!r}{_did_you_mean(value, BUILTIN_PROBES)}")
            return value
        if not value.strip():
            raise ValueError("name a probe file, a folder of images or a built-in")
        if value.endswith("/"):
            return value
        if _is_folder(value, (info.context or {}).get("base")):
            return value + "/"
        if Path(value).suffix.lower() not in PROBE_SUFFIXES:
            raise ValueError(f"probe files must be {', '.join(PROBE_SUFFIXES)}, or a folder of PNG or JPEG images "
                             f"(an existing folder, or a path ending in '/'), got {value!r}")
        return value

    @field_validator("features", mode="before")
    @classmethod
    def _names(cls, value):
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
            raise ValueError("give an array or column name, or a non-empty list of column names")
        return value

    @model_validator(mode="after")
    def _keys_fit_the_source(self):
        suffix = Path(self.source).suffix.lower()
        if self.is_folder:
            for key in ("features", "labels"):
                if getattr(self, key) is not None:
                    raise PydanticCustomError("cross_key", "does not apply to a folder of images: the labels are its "
                                              "class folders", {"key": f"probe.{key}"})
        elif self.image is not None:
            raise PydanticCustomError("cross_key", "applies to a folder of images only (probe.source: DIR/)",
                                      {"key": "probe.image"})
        if isinstance(self.features, list) and suffix not in (".csv", ".parquet"):
            raise PydanticCustomError("cross_key", "a list of columns applies to .csv and .parquet probes",
                                      {"key": "probe.features"})
        return self

    @property
    def is_folder(self) -> bool:
        """A folder of images (validated sources end in '/')."""
        return self.source.endswith("/")

    @property
    def is_table(self) -> bool:
        """A .parquet probe: text for a model that reads text, numeric features for any other."""
        return not self.is_folder and Path(self.source).suffix.lower() in TABLE_SUFFIXES

    @property
    def is_text(self) -> bool:
        """A probe that only holds text (.txt, .jsonl)."""
        return not self.is_folder and Path(self.source).suffix.lower() in TEXT_SUFFIXES


def _is_folder(value: str, base) -> bool:
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL byte: not a folder, and the suffix rule answers
        return False
