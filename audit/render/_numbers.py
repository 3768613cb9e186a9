"""Two small checks on plain numbers shared by the figures and the presentation model."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

__all__ = ["finite", "item_at"]


def finite(value) -> bool:
    """True for a real, finite number (not a bool, not None, not NaN or infinite)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def item_at(values: Sequence, index: int):
    """``values[index]``, or None past the end."""
    return values[index] if index < len(values) else None
