"""Folders of PNG and JPEG images as probes (``probe.source: DIR/``, ``probe.image``), on models
nobody here wrote and on one we trained:

- PaddleOCR's text-direction classifier (MobileNetV3, ONNX) as shipped in the PyPI package
  rapidocr-onnxruntime, on text lines rendered here in DejaVu Sans (fonts-dejavu-core), upright in
  ``0/`` and turned 180 degrees in ``180/``, prepared by ``probe.image`` as PaddleOCR prepares them:
  3 x 48 x 192, (x / 255 - 0.5) / 0.5;
- a tiny Hugging Face ViT trained on scikit-learn's digits (``tests/data/train_digits_vit.py``),
  whose own image processor (``preprocessor_config.json``) prepares the pixels;
- the pixel pipeline against values worked out by hand, and every bad folder or image as one
  ``error:`` line with exit code 2.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from test_spec import one_error_line

from audit.cli import main
from audit.errors import SourceError
from audit.probe_spec import ImageSpec
from audit.sources import load_probe
from audit.sources.images import pixels
from audit.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
DIGITS_VIT = DATA / "digits-vit"
RAPIDOCR = Path(importlib.util.find_spec("rapidocr_onnxruntime").submodule_search_locations[0])
CLS_MODEL = RAPIDOCR / "models" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards hex bold jumping zebras "
         "pack my box with five dozen liquor jugs").split()
LINES = 32  # per folder
PADDLE_IMAGE = "  image: {size: [48, 192], mode: RGB, scale: 255, mean: 0.5, std: 0.5, layout: NCHW}\n"
ONNX_MODEL = f"  kind: onnx\n  path: {CLS_MODEL}\n"
DIGITS_MLP = f"  kind: torch\n  factory: {ROOT}/examples/digits-mlp/model.py:build\n"


def text_line(i: int) -> Image.Image:
    """Line ``i``: three words in DejaVu Sans 26 px, black on a white 192 x 48 RGB canvas."""
    canvas = Image.new("RGB", (192, 48), (255, 255, 255))
    words = " ".join(WORDS[(5 * i + k) % len(WORDS)] for k in range(3))
    ImageDraw.Draw(canvas).text((4, 8), words, fill=(0, 0, 0), font=ImageFont.truetype(str(FONT), 26))
    return canvas


@pytest.fixture(scope="module")
def lines(tmp_path_factory) -> Path:
    """``lines/0/`` upright and ``lines/180/`` turned, 32 PNG files each (deterministic)."""
    folder = tmp_path_factory.mktemp("text-lines") / "lines"
    for name in ("0", "180"):
        (folder / name).mkdir(parents=True)
    for i in range(LINES):
        line = text_line(i)
        line.save(folder / "0" / f"line{i:02d}.png")
        line.rotate(180).save(folder / "180" / f"line{i:02d}.png")
    return folder


def write_spec(folder: Path, model: str, probe: str, extra: str = "") -> Path:
    spec = folder / "audit.yaml"
    spec.write_text(f"model:\n{model}probe:\n{probe}{extra}")
    return spec


# ---- the pixel pipeline, against values worked out by hand -------------------------------------

def test_scale_mean_std_per_channel_and_both_layouts():
    image = Image.new("RGB", (3, 2), (255, 0, 51))  # width 3, height 2
    spec = ImageSpec(mean=[0.5, 0.25, 0.1], std=[0.5, 0.25, 0.2])
    expected = [(1 - 0.5) / 0.5, (0 - 0.25) / 0.25, (0.2 - 0.1) / 0.2]  # 255/255, 0/255, 51/255 = 0.2
    chw = pixels(image, spec)
    assert chw.shape == (3, 2, 3) and chw.dtype == np.float32
    np.testing.assert_allclose(chw[:, 0, 0], expected, rtol=1e-6)
    hwc = pixels(image, ImageSpec(mean=[0.5, 0.25, 0.1], std=[0.5, 0.25, 0.2], layout="NHWC"))
    assert hwc.shape == (2, 3, 3)
    np.testing.assert_array_equal(hwc, chw.transpose(1, 2, 0))
    np.testing.assert_allclose(pixels(image, ImageSpec(scale=1))[:, 1, 2], [255, 0, 51])  # mean 0, std 1


def test_greyscale_is_pillow_luma_and_one_channel():
    image = Image.new("RGB", (2, 2), (255, 0, 0))
    grey = pixels(image, ImageSpec(mode="L", scale=1, mean=1, std=2))
    assert grey.shape == (1, 2, 2)
    np.testing.assert_allclose(grey, (76 - 1) / 2)  # ITU-R 601-2: 255 * 299/1000 = 76.2, rounded to 76


def test_resize_with_the_named_filter():
    row = Image.fromarray(np.array([[10, 200]], dtype=np.uint8), mode="L")  # 1 high, 2 wide
    nearest = pixels(row, ImageSpec(size=[2, 4], resample="nearest", mode="L", scale=1))
    np.testing.assert_array_equal(nearest[0], [[10, 10, 200, 200], [10, 10, 200, 200]])
    square = Image.fromarray(np.array([[0, 100], [200, 255]], dtype=np.uint8), mode="L")
    one = pixels(square, ImageSpec(size=[1, 1], mode="L", scale=1))  # bilinear by default
    np.testing.assert_array_equal(one, [[[139]]])  # the four weigh alike: 555 / 4 = 138.75, rounded to 8 bits


# ---- an ONNX model nobody here wrote, on a folder of rendered lines ----------------------------

def test_text_direction_classifier_reads_the_folders_as_labels(lines, tmp_path, capsys):
    spec = write_spec(tmp_path, ONNX_MODEL, f"  source: {lines}/\n{PADDLE_IMAGE}  batch_size: 64\n",
                      "layers:\n  include: [pool2d_10.tmp_0, output]\nmetrics:\n  twonn: {n_bootstrap: 20}\n"
                      "output:\n  formats: [json]\n")
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert document["probe"] == {"source": f"{lines}/", "n_samples": 2 * LINES, "n_features": 3 * 48 * 192,
                                 "has_labels": True, "n_classes": 2, "seed": 0}
    assert document["accuracy"]["accuracy"] >= 0.95  # it reads all 64 of these lines the right way up
    assert [layer["width"] for layer in document["layers"]] == [200, 2]


def test_folder_probe_is_the_pixels_paddleocr_feeds(lines, tmp_path):
    probe = load_probe(load_spec(write_spec(tmp_path, ONNX_MODEL, f"  source: {lines}\n{PADDLE_IMAGE}")))
    assert probe.info.source == f"{lines}/"  # an existing folder: the '/' is added
    assert probe.classes == ("0", "180")
    np.testing.assert_array_equal(probe.labels, [0] * LINES + [1] * LINES)
    upright = np.asarray(text_line(3), dtype=np.float32).transpose(2, 0, 1)
    np.testing.assert_allclose(probe.features[3], (upright / 255 - 0.5) / 0.5, rtol=0, atol=1e-6)
    turned = np.asarray(text_line(3).rotate(180), dtype=np.float32).transpose(2, 0, 1)
    np.testing.assert_allclose(probe.features[LINES + 3], (turned / 255 - 0.5) / 0.5, rtol=0, atol=1e-6)


def test_a_flat_folder_has_no_labels_and_n_samples_decodes_only_those_drawn(lines, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in sorted((lines / "0").iterdir())[:6]:
        (flat / path.name).write_bytes(path.read_bytes())
    (flat / "line00.png").write_bytes(b"\x89PNG cut")  # never decoded: n_samples 3 of 6 with seed 0 draws 3, 4, 5
    probe = load_probe(load_spec(write_spec(tmp_path, ONNX_MODEL, f"  source: flat/\n{PADDLE_IMAGE}"
                                            "  n_samples: 3\n")))
    assert probe.labels is None and probe.classes is None and probe.info.n_samples == 3
    drawn = np.sort(np.random.default_rng(0).choice(6, 3, replace=False))
    whole = np.stack([pixels(text_line(i), ImageSpec(size=[48, 192], mean=0.5, std=0.5)) for i in drawn])
    np.testing.assert_allclose(probe.features, whole, atol=1e-6)


# ---- a Hugging Face vision model with its own image processor ----------------------------------

@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """The first 100 of the digits MLP's held-out digits as 8-bit PNG files in class folders 0..9."""
    sys.path.insert(0, str(DATA))
    try:
        from train_digits_vit import digit_image, mlp_training
    finally:
        sys.path.remove(str(DATA))
    _, X_test, _, y_test = mlp_training().split()
    folder = tmp_path_factory.mktemp("digit-images") / "digits"
    for i, (row, label) in enumerate(zip(X_test.numpy()[:100], y_test.numpy()[:100])):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        digit_image(row).save(folder / str(label) / f"{i:03d}.png")
    return folder


def test_hugging_face_vision_model_audits_a_folder_through_its_image_processor(digits, tmp_path, capsys):
    spec = write_spec(tmp_path, f"  kind: transformers\n  path: {DIGITS_VIT}\n", f"  source: {digits}/\n",
                      "layers:\n  include: [transformer.vit.layers.0, transformer.vit.layers.1, output]\n"
                      "metrics:\n  twonn: {n_bootstrap: 20}\noutput:\n  formats: [json]\n")
    assert main(["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert document["model"]["module_type"] == "ViTForImageClassification"
    assert document["probe"]["n_classes"] == 10 and document["probe"]["n_features"] == 3 * 16 * 16
    assert [layer["name"] for layer in document["layers"]] == ["transformer.vit.layers.0", "transformer.vit.layers.1",
                                                               "output"]
    assert document["layers"][-1]["width"] == 10
    assert document["accuracy"]["accuracy"] >= 0.95  # 99 of these 100 held-out digits (train_digits_vit.py: 351/360)


def test_the_image_processor_makes_the_probe(digits, tmp_path):
    from transformers import AutoImageProcessor

    probe = load_probe(load_spec(write_spec(tmp_path, f"  kind: transformers\n  path: {DIGITS_VIT}\n",
                                            f"  source: {digits}/\n  n_samples: 5\n")))
    assert probe.features.shape == (5, 3, 16, 16) and probe.classes == tuple(str(d) for d in range(10))
    files = sorted(digits.rglob("*.png"))
    chosen = [files[i] for i in np.sort(np.random.default_rng(0).choice(len(files), 5, replace=False))]
    processor = AutoImageProcessor.from_pretrained(str(DIGITS_VIT), local_files_only=True)
    expected = processor(images=[Image.open(path).convert("RGB") for path in chosen], return_tensors="np")["pixel_values"]
    np.testing.assert_allclose(probe.features, expected, atol=1e-6)
    np.testing.assert_array_equal(probe.labels, [int(path.parent.name) for path in chosen])


# ---- bad folders, images and keys: one line, exit 2 --------------------------------------------

def test_a_truncated_image_is_named_when_the_probe_loads(lines, tmp_path, capsys):
    import weasyprint  # noqa: F401 (it sets PIL's LOAD_TRUNCATED_IMAGES on import: a truncated image must still fail)

    folder = tmp_path / "cut"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    good = (lines / "0" / "line00.png").read_bytes()
    (folder / "a" / "x.png").write_bytes(good)
    (folder / "b" / "y.png").write_bytes(good[: len(good) // 2])
    spec = write_spec(tmp_path, ONNX_MODEL, f"  source: cut/\n{PADDLE_IMAGE}")
    assert main(["validate", str(spec)]) == 0  # names alone are fine: the bytes are read when the probe loads
    capsys.readouterr()
    code = main(["run", str(spec), "--out", str(tmp_path / "out")])
    *progress, line = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith(f"error: {folder / 'b' / 'y.png'}: cannot read as a PNG or JPEG image")
    assert [step.split("] ")[-1] for step in progress] == ["loading model onnx", "loading probe cut/"]


@pytest.mark.parametrize("layout, expected", [
    ({}, "probe.source: {folder}: folder not found"),
    ({"": None}, "probe.source: {folder}: holds no images (.png, .jpg, .jpeg)"),
    ({"a.png": b"", "cats/b.png": b""}, "probe.source: {folder}: mixes images (a.png) with class folders (cats/)"),
    ({"cats/b.png": b"", "dogs/": None}, "probe.source: {folder}/dogs: class folder holds no images"),
    ({"cats/b.png": b"", "cats/notes.txt": b""}, "probe.source: {folder}/cats/notes.txt: is not a PNG or JPEG image"),
])
def test_a_bad_folder_is_one_line_at_the_source_key(tmp_path, capsys, layout, expected):
    folder = tmp_path / "images"
    for name, content in layout.items():
        path = folder / name
        if content is None:
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    spec = write_spec(tmp_path, ONNX_MODEL, "  source: images/\n")
    line = one_error_line(capsys, ["validate", str(spec)])
    assert line.startswith(f"error: {spec}:5: ") and expected.format(folder=folder) in line, line


def test_images_of_different_sizes_need_probe_image_size(lines, tmp_path, capsys):
    folder = tmp_path / "sizes"
    folder.mkdir()
    (folder / "a.png").write_bytes((lines / "0" / "line00.png").read_bytes())
    Image.new("RGB", (100, 40)).save(folder / "b.jpg")
    spec = write_spec(tmp_path, ONNX_MODEL, "  source: sizes/\n")
    line = one_error_line(capsys, ["run", str(spec), "--out", str(tmp_path / "out"), "--quiet"])
    assert line == (f"error: {folder / 'b.jpg'}: is 40x100 where a.png is 48x192 (height x width); "
                    "set probe.image.size to resize every image to one size")


@pytest.mark.parametrize("probe, expected", [
    ("  source: lines/\n  image: {mean: [0.5, 0.5]}\n", ":6: probe.image.mean: has 2 values; mode RGB has 3 channels"),
    ("  source: lines/\n  image:\n    mode: L\n    std: [1, 2, 3]\n", ":8: probe.image.std: has 3 values; mode L has 1 channel"),
    ("  source: lines/\n  image: {std: [1, 0, 1]}\n", ":6: probe.image.std: each must be greater than 0"),
    ("  source: lines/\n  image: {mean: .nan}\n", ":6: probe.image.mean: must be finite numbers"),
    ("  source: lines/\n  image: {mean: red}\n", ":6: probe.image.mean: give a number, or a list of one number per"),
    ("  source: lines/\n  image: {size: [48]}\n", ":6: probe.image.size: size is [height, width] in pixels"),
    ("  source: lines/\n  image: {size: [48, 0]}\n", ":6: probe.image.size[1]: Input should be greater than or equal to 1"),
    ("  source: lines/\n  image: {layout: CHW}\n", ":6: probe.image.layout: Input should be 'NCHW' or 'NHWC'"),
    ("  source: lines/\n  labels: y\n", ":6: probe.labels: does not apply to a folder of images"),
    ("  source: probe.npz\n  image: {}\n", ":6: probe.image: applies to a folder of images only"),
    ("  source: lines\n", ":5: probe.source: probe files must be .npz, .npy, .csv, .parquet, .txt, .jsonl, or a folder"),
])
def test_bad_image_keys_are_one_line_at_their_key(tmp_path, capsys, probe, expected):
    if "lines/" in probe:
        (tmp_path / "lines").mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / "lines" / "a.png")
    spec = write_spec(tmp_path, ONNX_MODEL, probe)
    line = one_error_line(capsys, ["validate", str(spec)])
    assert f"{spec}{expected}" in line, line


def test_a_hugging_face_folder_needs_its_image_processor_and_takes_no_probe_image(digits, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        (bare / name).write_bytes((DIGITS_VIT / name).read_bytes())
    line = one_error_line(capsys, ["validate", str(write_spec(tmp_path, "  kind: transformers\n  path: bare\n",
                                                              f"  source: {digits}/\n"))])
    assert line.endswith(f":3: model.path: a folder of images needs the model's image processor, and {bare} "
                         "has no preprocessor_config.json")
    line = one_error_line(capsys, ["validate", str(write_spec(tmp_path, f"  kind: transformers\n  path: {DIGITS_VIT}\n",
                                                              f"  source: {digits}/\n  image: {{}}\n"))])
    assert ":6: probe.image: model kind transformers prepares images with the model's own image processor" in line
    line = one_error_line(capsys, ["validate", str(write_spec(tmp_path, f"  kind: transformers\n  path: {DIGITS_VIT}\n",
                                                              f"  source: {digits}/\n", "heads: {}\n"))])
    assert ":6: heads: heads needs model kind transformers on a text probe" in line


def test_read_image_refuses_other_formats_and_wide_pixels(tmp_path):
    from audit.sources.images import read_image

    Image.new("RGB", (4, 4)).save(tmp_path / "really.gif", format="GIF")
    (tmp_path / "gif.png").write_bytes((tmp_path / "really.gif").read_bytes())
    with pytest.raises(SourceError, match="cannot read as a PNG or JPEG image"):
        read_image(tmp_path / "gif.png")  # Pillow is asked for its PNG and JPEG decoders only
    Image.fromarray(np.full((4, 4), 40000, dtype=np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(SourceError, match="images must have 8 bits per channel"):
        read_image(tmp_path / "deep.png")


@pytest.mark.parametrize("source", ["a" * 300 + "/", "a" * 300 + ".npz"])
def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path, capsys, source):
    spec = write_spec(tmp_path, ONNX_MODEL, f"  source: {source}\n")
    line = one_error_line(capsys, ["validate", str(spec)])  # was exit 3: pathlib raises ENAMETOOLONG
    assert line.startswith(f"error: {spec}:5: probe.source: ") and line.endswith("File name too long")
