"""Folders of PNG and JPEG images as probes.

A folder holds either images only (no labels) or class folders only: one subfolder per class,
label i the i-th folder name in sorted order, its images at any depth below it. Entries whose
name starts with a dot are skipped; anything else that is not a .png/.jpg/.jpeg file is an error,
as is an empty folder or one mixing images with class folders. :func:`scan_folder` lists the
files without opening them (the spec check runs it before anything loads); the drawn images are
decoded by Pillow (PNG and JPEG decoders only) when the probe loads, each failure an error
naming its file, and turned into arrays by the spec's ``probe.image`` (:func:`pixels`) or by the
model's own image processor.

Pillow is imported inside functions: this module is imported whenever a spec is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import SourceError

__all__ = ["IMAGE_SUFFIXES", "ImageFolder", "scan_folder", "read_image", "pixels", "load_images"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_EIGHT_BIT_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"}
_MAX_DEPTH = 32  # folders below a class folder; a link loop ends here
_FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3}  # PIL.Image.Resampling values


@dataclass(frozen=True)
class ImageFolder:
    """The images of a probe folder in order, with their labels and class names (None when flat)."""

    files: tuple[Path, ...]
    labels: np.ndarray | None
    classes: tuple[str, ...] | None


def scan_folder(folder: Path) -> ImageFolder:
    """The folder's images and labels, from names alone; a bad layout is a :class:`SourceError`."""
    try:
        folder.stat()
    except FileNotFoundError:
        raise SourceError(str(folder), "folder not found") from None
    except (OSError, ValueError) as error:  # a name too long, a NUL byte, no permission
        raise SourceError(str(folder), f"cannot look at it: {getattr(error, 'strerror', None) or error}") from None
    if not folder.is_dir():
        raise SourceError(str(folder), "is a file, not a folder of images")
    entries = _visible(folder)
    folders = [entry for entry in entries if entry.is_dir()]
    files = [entry for entry in entries if not entry.is_dir()]
    if folders and files:
        raise SourceError(str(folder), f"mixes images ({files[0].name}) with class folders ({folders[0].name}/): put "
                                       "every image in a class folder (labelled), or none in one (no labels)")
    if not folders:
        if not files:
            raise SourceError(str(folder), "holds no images (.png, .jpg, .jpeg)")
        return ImageFolder(tuple(_checked_image(path) for path in files), None, None)
    found, labels = [], []
    for label, class_folder in enumerate(folders):
        inside = list(_images_below(class_folder))
        if not inside:
            raise SourceError(str(class_folder), "class folder holds no images (.png, .jpg, .jpeg)")
        found += inside
        labels += [label] * len(inside)
    return ImageFolder(tuple(found), np.asarray(labels, dtype=np.int64), tuple(entry.name for entry in folders))


def _visible(folder: Path) -> list[Path]:
    try:
        return sorted((entry for entry in folder.iterdir() if not entry.name.startswith(".")), key=lambda p: p.name)
    except OSError as error:
        raise SourceError(str(folder), f"cannot list the folder: {error.strerror or error}") from None


def _images_below(folder: Path, depth: int = 0):
    """Every image under a class folder, in sorted path order; the first non-image stops the scan."""
    if depth > _MAX_DEPTH:
        raise SourceError(str(folder), f"is nested more than {_MAX_DEPTH} folders deep (a link to a folder above it?)")
    for entry in _visible(folder):
        if entry.is_dir():
            yield from _images_below(entry, depth + 1)
        else:
            yield _checked_image(entry)


def _checked_image(path: Path) -> Path:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise SourceError(str(path), "is not a PNG or JPEG image (.png, .jpg, .jpeg); a probe folder holds images "
                                     "or class folders only")
    return path


def read_image(path: Path):
    """The decoded image at ``path`` (a PIL image, pixels loaded); a :class:`SourceError` naming the
    file when it is unreadable, truncated, not PNG or JPEG, or not 8 bits per channel."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False  # WeasyPrint sets it on import
    try:
        with Image.open(path, formats=["PNG", "JPEG"]) as image:
            image.load()
    except UnidentifiedImageError:
        raise SourceError(str(path), "cannot read as a PNG or JPEG image: neither decoder recognises its bytes") from None
    except Exception as error:  # Pillow raises OSError (truncated), SyntaxError (a broken chunk), DecompressionBombError...
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else "no detail"
        raise SourceError(str(path), f"cannot read as a PNG or JPEG image: {type(error).__name__}: {detail}") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    if image.mode not in _EIGHT_BIT_MODES:
        raise SourceError(str(path), f"has {image.mode} pixels; images must have 8 bits per channel")
    return image


def pixels(image, image_spec) -> np.ndarray:
    """One image as float32 model input, the steps of ``probe.image`` in order: converted to
    ``mode`` (Pillow's conversion: greyscale is ITU-R 601-2 luma, transparency dropped), resized
    to ``size`` with the ``resample`` filter, divided by ``scale``, less ``mean``, over ``std``
    (per channel), channels first (NCHW) or last (NHWC)."""
    image = image.convert(image_spec.mode)
    if image_spec.size is not None:
        height, width = image_spec.size
        if image.size != (width, height):
            image = image.resize((width, height), resample=_FILTERS[image_spec.resample])
    array = np.asarray(image, dtype=np.float32)
    array = array[:, :, None] if array.ndim == 2 else array
    mean = np.asarray(image_spec.per_channel("mean"), dtype=np.float32)
    std = np.asarray(image_spec.per_channel("std"), dtype=np.float32)
    array = (array / np.float32(image_spec.scale) - mean) / std
    return np.ascontiguousarray(array.transpose(2, 0, 1) if image_spec.layout == "NCHW" else array)


def load_images(files, image_spec, processor: Callable | None = None, chunk: int = 64) -> np.ndarray:
    """``files`` decoded and stacked as model input: by ``processor`` (a list of RGB images -> an
    array, the model's own image processor) when given, else by :func:`pixels` with ``image_spec``.
    Without ``image_spec.size`` every image must have the first one's size."""
    if processor is not None:
        parts = [processor([read_image(path).convert("RGB") for path in files[start:start + chunk]])
                 for start in range(0, len(files), chunk)]
        return np.concatenate(parts)
    arrays = []
    for path in files:
        arrays.append(pixels(read_image(path), image_spec))
        if arrays[-1].shape != arrays[0].shape:
            raise SourceError(str(path), f"is {_height_width(arrays[-1], image_spec)} where {files[0].name} is "
                                         f"{_height_width(arrays[0], image_spec)} (height x width); set "
                                         "probe.image.size to resize every image to one size")
    return np.stack(arrays)


def _height_width(array: np.ndarray, image_spec) -> str:
    height, width = array.shape[1:] if image_spec.layout == "NCHW" else array.shape[:2]
    return f"{height}x{width}"

