"""Parquet probes (pyarrow): feature columns or a text column, and a label column.

- Features (models that take arrays): ``probe.features`` names the columns (default: every column
  but the labels), each numeric (integer, floating point, boolean; one feature) or holding
  fixed-length lists of numbers (one feature per list entry); they are put side by side as
  float32.
- Text (models that read text): the ``probe.text_field`` column, of strings.
- Labels: the ``probe.labels`` column: integers, booleans, whole floating-point numbers (1.0, 2.0)
  or strings (strings become indices in sorted order).

Only the named columns are read. A missing column, a null, a ragged list column or a column that
holds no numbers is a :class:`~audit.errors.SourceError` naming the file and the column; rows are
counted from 0, as pyarrow and pandas count them. pyarrow is imported inside functions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceError

__all__ = ["read_parquet"]


def read_parquet(path: Path, probe_spec, *, text: bool):
    """``(features, labels)``: an array of features, or the list of texts when ``text``."""
    schema = _schema(path)
    names = list(schema.names)
    label = probe_spec.labels
    if text:
        wanted = [probe_spec.text_field]
    elif probe_spec.features is not None:
        wanted = [probe_spec.features] if isinstance(probe_spec.features, str) else list(probe_spec.features)
    else:
        wanted = [name for name in names if name != label]
        if not wanted:
            raise SourceError(str(path), f"has no column besides the labels {label!r}")
    for name in [*wanted, *([label] if label is not None else [])]:
        if name not in names:
            raise SourceError(str(path), f"has no column {name!r} (columns: {', '.join(names) or 'none'})")
    table = _read(path, list(dict.fromkeys([*wanted, *([label] if label is not None else [])])))
    features = _texts(path, table, wanted[0]) if text else np.hstack([_numeric(path, table, name) for name in wanted])
    return features, (None if label is None else _labels(path, table, label))


def _schema(path: Path):
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except Exception as error:  # ArrowInvalid on foreign or truncated bytes, OSError: not a Parquet file we can read
        raise SourceError(str(path), f"cannot read as Parquet: {_first_line(error)}") from None


def _read(path: Path, columns: list[str]):
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns)
    except Exception as error:  # a corrupt page or footer, an unsupported encoding
        raise SourceError(str(path), f"cannot read as Parquet: {_first_line(error)}") from None


def _numeric(path: Path, table, name: str) -> np.ndarray:
    """One column as a (rows, k) float32 array: k = 1 for numbers, the list length for lists."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = table.column(name)
    where = f"{path}: column {name!r}"
    _no_nulls(where, column)
    kind = column.type
    if _is_number(kind):
        return _floats(where, column).reshape(-1, 1)
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)):
        raise SourceError(where, f"holds {kind}, not numbers (a feature column is numeric or holds lists of numbers)")
    if not _is_number(kind.value_type):
        raise SourceError(where, f"holds lists of {kind.value_type}, not lists of numbers")
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        other = int(np.flatnonzero(lengths != lengths[0])[0])
        raise SourceError(where, f"holds lists of different lengths ({lengths[0]} in row 0, {lengths[other]} in row "
                                 f"{other}); a feature column's lists must all have one length")
    if len(lengths) and lengths[0] == 0:
        raise SourceError(where, "holds empty lists")
    values = pc.list_flatten(column)
    if values.null_count:
        first = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        row = int(pc.list_parent_indices(column).to_numpy(zero_copy_only=False)[first])
        raise SourceError(where, f"holds a list with a null in row {row}; fill or drop the missing values")
    return _floats(where, values).reshape(len(column), -1)


def _is_number(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _floats(where: str, column) -> np.ndarray:
    import pyarrow as pa

    try:
        return np.asarray(column.cast(pa.float32(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float32)
    except Exception as error:  # a value pyarrow cannot cast
        raise SourceError(where, f"cannot be read as numbers: {_first_line(error)}") from None


def _no_nulls(where: str, column) -> None:
    if column.null_count:
        row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise SourceError(where, f"holds a null in row {row}; fill or drop the missing values")


def _texts(path: Path, table, name: str) -> list[str]:
    import pyarrow as pa

    column = table.column(name)
    where = f"{path}: column {name!r}"
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise SourceError(where, f"holds {column.type}, not text (probe.text_field names the text column)")
    _no_nulls(where, column)
    return [str(text) for text in column.to_pylist()]


def _labels(path: Path, table, name: str) -> np.ndarray:
    import pyarrow as pa

    column = table.column(name)
    where = f"{path}: column {name!r}"
    _no_nulls(where, column)
    kind = column.type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
        column = column.cast(kind)
    if pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        if not (np.isfinite(values).all() and (values == np.round(values)).all() and (np.abs(values) <= 2**53).all()):
            raise SourceError(where, f"holds {kind} values that are not whole numbers; labels are classes")
        return values.astype(np.int64)
    if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise SourceError(where, f"holds {kind}; labels must be integers or strings")
    return np.asarray(column.to_pylist())


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
