"""``model-audit layers`` output: the listing as an aligned text table or as JSON."""

from __future__ import annotations

import dataclasses
import json

from ..layer_listing import LayerListing

__all__ = ["render"]

_HEADER = ("layer", "type", "output shape", "width", "reduction", "parameters", "default")


def render(listing: LayerListing, fmt: str) -> str:
    return _json(listing) if fmt == "json" else _text(listing)


def _json(listing: LayerListing) -> str:
    return json.dumps(dataclasses.asdict(listing), indent=2) + "\n"


def _text(listing: LayerListing) -> str:
    rows = [_HEADER] + [(row.name, row.type, "x".join(map(str, row.shape)) if row.shape else "not produced",
                         "" if row.width is None else f"{row.width:,}", row.reduction,
                         "" if row.parameters is None else f"{row.parameters:,}", "yes" if row.default else "")
                        for row in listing.rows]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(width) if column not in (3, 5) else cell.rjust(width)
                       for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in rows]
    head = (f"{listing.spec}: model {listing.kind}, {listing.module_type}, {listing.n_parameters:,} parameters; "
            f"{len(listing.rows)} selectable layers, shapes on one probe batch of {listing.batch_size} samples; "
            f"'default' marks the selection when layers.include is not given")
    return "\n".join([head, "", *lines]) + "\n"
