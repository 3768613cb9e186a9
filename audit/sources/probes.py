"""Probe loaders: .npz/.npy arrays, CSV and Parquet (feature columns and a label column; Parquet
text for text models, :mod:`.parquet`), folders of images (:mod:`.images`), texts (.txt, .jsonl)
and built-in scikit-learn datasets. Features come back as a float array (or a list of texts),
labels (if any) as integers, with the class names where the source has them."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceError
from ..results import ProbeInfo
from .adapters import adapter_for
from .images import load_images, scan_folder
from .parquet import read_parquet

__all__ = ["Probe", "load_probe"]


@dataclass(frozen=True)
class Probe:
    """``features``: an array (samples first) or, for text probes, a list of strings."""

    features: np.ndarray | list
    labels: np.ndarray | None
    info: ProbeInfo
    classes: tuple[str, ...] | None = None  # label i's name: a class folder, a string label in sorted order


def load_probe(loaded) -> Probe:
    """The probe a :class:`~audit.spec.LoadedSpec` names, subsampled as it says."""
    probe_spec = loaded.spec.probe
    source = probe_spec.source
    classes = None
    if source.startswith("sklearn:"):
        features, labels = _builtin(source)
    elif probe_spec.is_folder:
        features, labels, classes = _read_folder(loaded)
    else:
        path = loaded.resolve(source)
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            features, labels = read_parquet(path, probe_spec, text=adapter_for(loaded.spec.model.kind).reads_text)
        else:
            reader = {".npz": _read_npz, ".npy": _read_npy, ".csv": _read_csv, ".txt": read_txt, ".jsonl": read_jsonl}
            features, labels = reader[suffix](path, probe_spec)
    checker = _checked_texts if isinstance(features, list) else _checked
    if classes is None and labels is not None and np.asarray(labels).dtype.kind not in "iub":
        classes = tuple(str(name) for name in np.unique(np.asarray(labels)))
    features, labels = checker(source, features, labels)
    features, labels = _subsample(source, features, labels, probe_spec.n_samples, probe_spec.seed)
    info = ProbeInfo(
        source=source,
        n_samples=len(features),
        n_features=None if isinstance(features, list) else int(np.prod(features.shape[1:])),
        has_labels=labels is not None,
        n_classes=None if labels is None else int(np.unique(labels).size),
        seed=probe_spec.seed,
    )
    return Probe(features, labels, info, classes)


def _read_folder(loaded):
    """A folder's drawn images as model input (``probe.image``, or the model's own image processor),
    with their labels and class names. Only the ``n_samples`` drawn images are decoded."""
    from ..probe_spec import ImageSpec  # audit.spec imports this package

    probe_spec = loaded.spec.probe
    folder = scan_folder(loaded.resolve(probe_spec.source))
    chosen = _drawn(len(folder.files), probe_spec.n_samples, probe_spec.seed, probe_spec.source)
    files = [folder.files[i] for i in chosen]
    processor = adapter_for(loaded.spec.model.kind).image_processor(loaded)
    features = load_images(files, probe_spec.image or ImageSpec(), processor)
    return features, None if folder.labels is None else folder.labels[chosen], folder.classes


def _builtin(source: str):
    from sklearn import datasets

    loader = getattr(datasets, f"load_{source.split(':', 1)[1]}")
    bunch = loader()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64)


def _read_npz(path: Path, probe_spec):
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # empty, truncated, not a zip, pickled: numpy raises many types
        raise SourceError(str(path), f"cannot read as .npz: {type(error).__name__}: {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise SourceError(str(path), "holds a single array (.npy format), not an .npz archive of named arrays")
    try:
        with archive:
            names = list(archive.files)
            feature_name = probe_spec.features or ("X" if "X" in names else (names[0] if len(names) == 1 else None))
            if feature_name not in names:
                raise SourceError(str(path), f"has arrays {names}; name the features with probe.features")
            label_name = probe_spec.labels or ("y" if "y" in names else None)
            if label_name is not None and label_name not in names:
                raise SourceError(str(path), f"has no array {label_name!r} (it has {names})")
            return archive[feature_name], None if label_name is None else archive[label_name]
    except SourceError:
        raise
    except Exception as error:  # a member cut short, compressed badly, or pickled
        raise SourceError(str(path), f"cannot read as .npz: {type(error).__name__}: {error}") from None


def _read_npy(path: Path, probe_spec):
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as error:  # empty, truncated, pickled: numpy raises many types
        raise SourceError(str(path), f"cannot read as .npy: {type(error).__name__}: {error}") from None
    if not isinstance(array, np.ndarray):
        raise SourceError(str(path), "is an .npz archive, not a single .npy array; name it .npz")
    return array, None


def _read_csv(path: Path, probe_spec):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(str(path), f"cannot read: {error}") from None
    if len(rows) < 2:
        raise SourceError(str(path), "needs a header row and at least one data row")
    header, body = rows[0], rows[1:]
    label_column, chosen = probe_spec.labels, probe_spec.features
    named = [chosen] if isinstance(chosen, str) else list(chosen or [])
    for name in [*named, *([label_column] if label_column is not None else [])]:
        if name not in header:
            raise SourceError(str(path), f"has no column {name!r} (columns: {', '.join(header)})")
    feature_columns = ([header.index(name) for name in named] if named
                       else [i for i, name in enumerate(header) if name != label_column])
    features = _numeric(path, body, feature_columns, header)
    labels = None
    if label_column is not None:
        labels = np.array([row[header.index(label_column)] for row in body])
    return features, labels


def read_txt(path: Path, probe_spec):
    """One text per line; blank lines are skipped."""
    return [line.strip() for line in _text_lines(path) if line.strip()], None


def read_jsonl(path: Path, probe_spec):
    """One JSON object per line with a text field and, optionally, a label field."""
    texts, labels = [], []
    for number, line in enumerate(_text_lines(path), start=1):
        if line.strip():
            record = _json_record(path, number, line, probe_spec.text_field)
            texts.append(str(record[probe_spec.text_field]))
            if probe_spec.labels is not None:
                labels.append(_json_label(path, number, record, probe_spec.labels))
    return texts, (np.array(labels) if probe_spec.labels is not None else None)


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(str(path), f"cannot read as UTF-8 text: {error}") from None


def _json_record(path, number, line, text_field) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}:{number}", f"is not valid JSON: {error.msg}") from None
    if not isinstance(record, dict) or text_field not in record:
        raise SourceError(f"{path}:{number}", f"needs an object with a {text_field!r} field")
    return record


def _json_label(path, number, record: dict, field: str):
    if field not in record:
        raise SourceError(f"{path}:{number}", f"has no field {field!r}")
    label = record[field]
    if isinstance(label, bool) or not isinstance(label, (int, str)):
        raise SourceError(f"{path}:{number}", f"label {field!r} must be an integer or a string, got {json.dumps(label)[:40]}")
    return label


def _checked_texts(source: str, texts: list, labels):
    if not texts:
        raise SourceError(source, "holds no texts")
    if labels is not None:
        labels = _class_indices(labels)
    return texts, labels


def _numeric(path: Path, body, columns, header) -> np.ndarray:
    out = np.empty((len(body), len(columns)), dtype=np.float32)
    for r, row in enumerate(body):
        if len(row) != len(header):
            raise SourceError(f"{path}:{r + 2}", f"has {len(row)} fields; the header has {len(header)}")
        for c, column in enumerate(columns):
            try:
                out[r, c] = float(row[column])
            except ValueError:
                raise SourceError(f"{path}:{r + 2}", f"column {header[column]!r} holds {row[column]!r}, not a number") from None
    return out


def _checked(source: str, features, labels):
    features = np.asarray(features)
    if features.ndim < 2 or features.shape[0] == 0:
        raise SourceError(source, f"features must be an array of samples x features, got shape {features.shape}")
    if not (np.issubdtype(features.dtype, np.number) or features.dtype == bool):
        raise SourceError(source, f"features must be numeric, got dtype {features.dtype}")
    if np.issubdtype(features.dtype, np.floating) and not np.isfinite(features).all():
        raise SourceError(source, "features contain NaN or inf")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != features.shape[0]:
            raise SourceError(source, f"{labels.shape[0]} labels for {features.shape[0]} samples")
        labels = _class_indices(labels)
    return features, labels


def _subsample(source, features, labels, n_samples, seed):
    if n_samples is None or n_samples == len(features):
        return features, labels
    chosen = _drawn(len(features), n_samples, seed, source)
    subset = [features[i] for i in chosen] if isinstance(features, list) else features[chosen]
    return subset, None if labels is None else labels[chosen]


def _drawn(total: int, n_samples: int | None, seed: int, source: str) -> np.ndarray:
    """Indices of the ``n_samples`` samples drawn with ``seed`` (all of them without ``n_samples``)."""
    if n_samples is None or n_samples == total:
        return np.arange(total)
    if n_samples > total:
        raise SourceError(source, f"has {total} samples; probe.n_samples asks for {n_samples}")
    return np.sort(np.random.default_rng(seed).choice(total, n_samples, replace=False))


def _class_indices(labels: np.ndarray) -> np.ndarray:
    """Integer labels as they are; any other labels (strings) as indices in sorted order."""
    if labels.dtype.kind in "iu":
        return labels.astype(np.int64)
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)
