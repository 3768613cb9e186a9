"""How every input of an ONNX graph is fed, checked against the graph when it loads.

- The data input: the probe's array (``model.input``, or the only input left without a value),
  or for a text encoder the token ids. Layers are the tensors that depend on it.
- Text inputs: the tokenizer's ``input_ids``, ``attention_mask`` and ``token_type_ids``, fed to
  the graph inputs of those names or to those ``model.text_inputs`` maps them to, cast to the
  dtype the graph declares. A graph taking token types from a tokenizer that returns none gets
  zeros (what a Hugging Face model assumes when they are not given).
- Constants (``model.constants``): the same value on every run, of a shape in which ``batch``
  stands for the run's batch size (recurrent state, a sample rate, a flag).

Every graph input without an initializer must be fed. A spec value the graph contradicts (a
constant naming no input, a shape or dtype the input cannot take) is a :class:`FeedError`
carrying its key path, which the adapter turns into a spec error at its line; an input nothing
feeds is a :class:`~audit.errors.SourceError` naming the file and the inputs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ....errors import SourceError
from . import BATCH

__all__ = ["TEXT_KEYS", "ConstantFeed", "FeedError", "Feeds", "plan_feeds"]

TEXT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


class FeedError(Exception):
    """A value of the ``model`` section that the graph contradicts; ``loc`` is its key path."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc, self.message = loc, message


@dataclass(frozen=True)
class ConstantFeed:
    """A graph input fed ``value`` on every run, of ``shape`` (ints, and :data:`BATCH`)."""

    name: str
    shape: tuple
    value: float | int | bool
    dtype: np.dtype

    def array(self, batch: int) -> np.ndarray:
        return np.full([batch if size == BATCH else size for size in self.shape], self.value, dtype=self.dtype)


@dataclass(frozen=True)
class Feeds:
    """Every graph input and how it is fed: the data input (whose dependants are the layers), the
    tokenizer's outputs for a text encoder, and constants."""

    data: str
    dtypes: dict  # graph input name -> np.dtype, for every input fed per sample
    text: tuple[tuple[str, str], ...] = ()  # (tokenizer output, graph input), text encoders only
    constants: tuple[ConstantFeed, ...] = ()

    def per_sample(self, inputs) -> dict[str, np.ndarray]:
        """The graph inputs of one batch, samples first: ``inputs`` is the probe's array (a tensor
        or an array) or the tokenizer's mapping of tensors."""
        if not self.text:
            return {self.data: _numpy(inputs).astype(self.dtypes[self.data], copy=False)}
        ids = _numpy(inputs["input_ids"])
        return {graph: (_numpy(inputs[key]) if key in inputs else np.zeros_like(ids)).astype(self.dtypes[graph], copy=False)
                for key, graph in self.text}

    def constant(self, batch: int) -> dict[str, np.ndarray]:
        """The constant inputs of a run of ``batch`` samples."""
        return {constant.name: constant.array(batch) for constant in self.constants}


def _numpy(value) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def plan_feeds(path: Path, graph, *, input_name: str | None = None, text_inputs: dict | None = None,
               constants: dict | None = None) -> Feeds:
    """How ``graph`` (an ``onnx.GraphProto``) is fed: ``input_name`` for an array probe,
    ``text_inputs`` (tokenizer output -> graph input or None, for a text encoder; None for an array
    probe) and ``constants`` (name -> an object with ``shape``, ``value``, ``dtype``)."""
    inputs = {info.name: info for info in graph.input}
    initialized = {init.name for init in graph.initializer}
    needed = [name for name in inputs if name not in initialized]
    by_constant = set(constants or {})
    for name in by_constant - set(inputs):
        raise FeedError(("model", "constants", name), _no_input(path, inputs, name))
    if text_inputs is not None:
        text = _text(path, inputs, text_inputs, by_constant)
        data, fed = text[0][1], [graph_name for _, graph_name in text]
    else:
        text, data = (), _data_input(path, inputs, needed, input_name, by_constant)
        fed = [data]
    fixed = tuple(_constant(path, inputs, name, spec) for name, spec in (constants or {}).items())
    unfed = [name for name in needed if name not in fed and name not in by_constant]
    if unfed:
        raise SourceError(str(path), _unfed_message(unfed, fed, by_constant, text_inputs is not None))
    dtypes = {name: _dtype(inputs[name]) or np.dtype("float32") for name in fed}
    return Feeds(data=data, dtypes=dtypes, text=text, constants=fixed)


def _no_input(path: Path, inputs, name: str) -> str:
    close = difflib.get_close_matches(name, list(inputs), n=1, cutoff=0.6)
    listed = f"{'; did you mean ' + repr(close[0]) + '? Its' if close else '; its'} inputs are: {', '.join(inputs)}"
    return f"{path.name} has no graph input {name!r}{listed}"


def _data_input(path: Path, inputs, needed: list[str], input_name: str | None, by_constant: set[str]) -> str:
    if input_name is not None:
        if input_name not in inputs:
            raise FeedError(("model", "input"), _no_input(path, inputs, input_name))
        if input_name in by_constant:
            raise FeedError(("model", "constants", input_name), f"{input_name!r} is the input the probe feeds "
                            "(model.input); a constant cannot feed it too")
        return input_name
    open_inputs = [name for name in needed if name not in by_constant]
    if len(open_inputs) != 1:
        text_like = [name for name in open_inputs if name in TEXT_KEYS]
        hint = f"; {', '.join(text_like)}: a text encoder's inputs, fed by model.tokenizer" if text_like else ""
        raise SourceError(str(path), f"has {len(open_inputs)} graph inputs without a value "
                                     f"({', '.join(open_inputs) or 'none'}); name the one the probe feeds with "
                                     f"model.input and give the others one in model.constants{hint}")
    return open_inputs[0]


def _text(path: Path, inputs, mapping: dict, by_constant: set[str]) -> tuple[tuple[str, str], ...]:
    """(tokenizer output, graph input) of every token input the graph takes, token ids first."""
    chosen, seen = [], {}
    for key in TEXT_KEYS:
        name = mapping.get(key)
        if name is None:
            if key not in inputs or key in by_constant:
                continue
            name = key
        elif name not in inputs:
            raise FeedError(("model", "text_inputs", key), _no_input(path, inputs, name))
        if name in by_constant:
            raise FeedError(("model", "constants", name), f"{name!r} is fed the tokenizer's {key} "
                            "(model.text_inputs); a constant cannot feed it too")
        if name in seen:
            raise FeedError(("model", "text_inputs", key), f"graph input {name!r} is already fed the tokenizer's {seen[name]}")
        seen[name] = key
        chosen.append((key, name))
    if not chosen or chosen[0][0] != "input_ids":
        raise FeedError(("model", "text_inputs"),
                        f"{path.name} has no graph input 'input_ids' for the token ids; name the one that takes them "
                        f"with model.text_inputs.input_ids (its inputs are: {', '.join(inputs)})")
    return tuple(chosen)


def _constant(path: Path, inputs, name: str, spec) -> ConstantFeed:
    loc = ("model", "constants", name)
    declared = _dtype(inputs[name])
    dtype = np.dtype(spec.dtype or declared or "float32")
    if declared is not None and dtype != declared:
        raise FeedError((*loc, "dtype"), f"graph input {name!r} takes {declared}, not {dtype}")
    shape = tuple(spec.shape or ())
    dims = _declared_dims(inputs[name])
    if dims is not None and (len(dims) != len(shape) or any(isinstance(d, int) and s != BATCH and s != d
                                                            for s, d in zip(shape, dims))):
        loc_shape = (*loc, "shape") if spec.shape is not None else loc
        raise FeedError(loc_shape, f"shape {_shape_text(shape)} does not fit graph input {name!r} of shape "
                                   f"{_shape_text(dims)}")
    if not _fits(spec.value, dtype):
        raise FeedError((*loc, "value"), f"{spec.value!r} is not a valid {dtype} value (the dtype of graph input {name!r})")
    return ConstantFeed(name, shape, spec.value, dtype)


def _fits(value, dtype: np.dtype) -> bool:
    """Whether ``value`` (a number or a bool) is a value of ``dtype``: whole and in range for
    integers, 0 or 1 for bool, finite for floats."""
    if dtype.kind == "b":
        return value in (0, 1)
    if dtype.kind in "iu":
        return float(value).is_integer() and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max
    if dtype.kind == "f":
        with np.errstate(over="ignore"):
            return bool(np.isfinite(np.array(value, dtype=dtype)))
    return False  # strings and other non-numeric inputs take no constant


def _dtype(info) -> np.dtype | None:
    """The dtype the graph declares for an input (None if it declares none)."""
    from onnx import helper

    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(info.type.tensor_type.elem_type))
    except (KeyError, TypeError, ValueError):  # UNDEFINED (0), or not a tensor
        return None


def _declared_dims(info):
    """The input's declared dims (ints where fixed, names or None where not), None if unknown."""
    tensor = info.type.tensor_type
    if not tensor.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)


def _shape_text(dims) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def _unfed_message(unfed: list[str], fed: list[str], by_constant: set[str], text: bool) -> str:
    names = ", ".join(map(repr, unfed))
    feeders = (f"the tokenizer feeds only {', '.join(map(repr, fed))} (model.text_inputs)" if text
               else f"the probe feeds only {fed[0]!r} (model.input)")
    if by_constant:
        feeders += f" and model.constants {', '.join(map(repr, sorted(by_constant)))}"
    hint = ("; a text encoder's inputs are fed by model.tokenizer" if not text and any(n in TEXT_KEYS for n in unfed)
            else "")
    return (f"graph input{'s' if len(unfed) > 1 else ''} {names} would not be fed: {feeders}, and every input "
            f"without an initializer needs a value (give it one in model.constants){hint}")
