"""A text encoder's side of an ONNX model: its tokenizer (``model.tokenizer``, a Hugging Face
tokenizer folder read with ``AutoTokenizer`` from local files only, or ``model.tokenizer_from``,
a callable returning a tokenizer or such a folder), its token limit, which graph inputs the
tokenizer's outputs feed, and the sentence embedding to add to the graph (``model.pooling``, as
the ``transformers`` kind reads it: ``auto`` takes the sentence-transformers configuration,
``modules.json`` and ``1_Pooling``, from the tokenizer's folder when it has one).

A tokenizer folder that does not exist, or holds no tokenizer file, is a spec error at its line
before anything loads (:func:`check_tokenizer`); one that transformers cannot read is a
:class:`~audit.errors.SourceError` naming the folder.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ....errors import SourceError
from .._base import call_target, first_lines

__all__ = ["DEFAULT_MAX_LENGTH", "TOKENIZER_FILES", "TextSide", "check_tokenizer", "load_text"]

DEFAULT_MAX_LENGTH = 128  # the transformers kind's default; lowered to a tokenizer's smaller limit
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt",
                   "special_tokens_map.json", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model")


@dataclass(frozen=True)
class TextSide:
    """What a text encoder brings besides its graph."""

    tokenizer: object
    files: tuple[Path, ...]  # the tokenizer's files, digested into audit.json
    max_length: int
    inputs: dict  # tokenizer output -> graph input (None: the graph input of that name)
    pooling: tuple[str, bool, bool] | None  # (mode, normalize, asked by the spec), None: no pooling


def check_tokenizer(loaded) -> None:
    """The tokenizer the spec names can be found: a folder holding a tokenizer file, or an
    installed module for ``tokenizer_from`` (not imported yet)."""
    model = loaded.spec.model
    if model.tokenizer is not None:
        _folder(loaded, ("model", "tokenizer"), loaded.resolve(model.tokenizer))
    elif model.tokenizer_from is not None:
        module, colon, attribute = model.tokenizer_from.rpartition(":")
        top = module.split(".")[0]
        if not colon or not attribute or not top.isidentifier():
            raise loaded.error(("model", "tokenizer_from"), f"give 'module:callable', not {model.tokenizer_from!r}")
        if importlib.util.find_spec(top) is None:
            raise loaded.error(("model", "tokenizer_from"), f"no installed module {top!r}")


def load_text(loaded) -> TextSide:
    model = loaded.spec.model
    tokenizer, folder = _tokenizer(loaded)
    if getattr(tokenizer, "pad_token", "") is None:
        raise SourceError(str(folder or model.tokenizer_from), "the tokenizer has no padding token: batches of texts "
                                                               "of different lengths need one")
    limit = getattr(tokenizer, "model_max_length", None)
    default = min(DEFAULT_MAX_LENGTH, limit) if isinstance(limit, int) and limit >= 2 else DEFAULT_MAX_LENGTH
    files = tuple(folder / name for name in TOKENIZER_FILES if (folder / name).is_file()) if folder else ()
    return TextSide(tokenizer=tokenizer, files=files, max_length=model.max_length or default,
                    inputs=model.text_inputs.model_dump() if model.text_inputs else {},
                    pooling=_pooling(model.pooling, folder))


def _tokenizer(loaded):
    """(the tokenizer, its folder or None)."""
    model = loaded.spec.model
    if model.tokenizer is not None:
        folder = loaded.resolve(model.tokenizer)
        return _auto_tokenizer(folder), folder
    loc = ("model", "tokenizer_from")
    found = call_target(loaded, loc, model.tokenizer_from)
    if isinstance(found, (str, os.PathLike)):
        folder = _folder(loaded, loc, Path(found))
        return _auto_tokenizer(folder), folder
    if not callable(found):
        raise loaded.error(loc, f"{model.tokenizer_from!r} returned a {type(found).__name__}, not a tokenizer or its folder")
    name = getattr(found, "name_or_path", "")
    return found, (Path(name) if name and Path(name).is_dir() else None)


def _folder(loaded, loc: tuple, folder: Path) -> Path:
    if not folder.is_dir():
        raise loaded.error(loc, f"{'not a folder' if folder.exists() else 'folder not found'}: {folder}")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise loaded.error(loc, f"not a tokenizer folder (no {', '.join(TOKENIZER_FILES[:4])}, ...): {folder}")
    return folder


def _auto_tokenizer(folder: Path):
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as error:  # transformers reading the user's folder: any failure means it cannot load
        raise SourceError(str(folder), f"cannot load as a Hugging Face tokenizer: {type(error).__name__}: "
                                       f"{first_lines(error)}") from None


def _pooling(choice: str, folder: Path | None) -> tuple[str, bool, bool] | None:
    """(mode, normalize, asked) as the transformers kind chooses them, or None for no pooling."""
    from ...text_encoder import sentence_transformers_config

    try:
        chosen, normalize = sentence_transformers_config(folder) if folder is not None else (None, False)
    except (OSError, ValueError, KeyError, TypeError) as error:  # a malformed modules.json or 1_Pooling/config.json
        raise SourceError(str(folder), f"cannot read its sentence-transformers configuration: {type(error).__name__}: "
                                       f"{error}") from None
    if choice != "auto":
        chosen, normalize = (None if choice == "none" else choice), normalize and choice != "none"
    return (chosen, normalize, choice != "auto") if chosen else None
