"""Model and probe sources: every supported form loads, every broken one is a one-line error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audit.errors import SourceError
from audit.runner import run_audit
from audit.sources import load_model, load_probe
from audit.spec import load_spec

MODEL_CODE = """\
import torch

class Net(torch.nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.Tanh(), torch.nn.Linear(width, 3))

    def forward(self, x):
        return self.body(x)

def build(width=6):
    return Net(width)

def constant():
    net = Net()
    torch.nn.init.zeros_(net.body[0].weight)
    torch.nn.init.zeros_(net.body[0].bias)
    return net
"""


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "net.py").write_text(MODEL_CODE)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4)).astype(np.float32)
    y = rng.integers(0, 3, 120)
    np.savez(tmp_path / "probe.npz", X=X, y=y)
    np.save(tmp_path / "probe.npy", X)
    header = "a,b,c,d,label\n"
    (tmp_path / "probe.csv").write_text(header + "".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{t}\n" for r, t in zip(X, y)))
    torch.manual_seed(0)
    import importlib.util

    spec = importlib.util.spec_from_file_location("net_for_test", tmp_path / "net.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.build()
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    torch.jit.save(torch.jit.script(net), tmp_path / "net.ts")
    return tmp_path


def spec_file(folder, model, probe="source: probe.npz", extra=""):
    path = folder / "spec.yaml"
    path.write_text(f"model:\n{model}\nprobe:\n  {probe}\n{extra}")
    return load_spec(path)


TORCH = "  kind: torch\n  factory: net.py:build\n  weights: weights.pt"


def test_torch_factory_with_pt_weights_loads_them(folder):
    loaded = load_model(spec_file(folder, TORCH))
    reference = torch.load(folder / "weights.pt", weights_only=True)
    for name, tensor in loaded.module.state_dict().items():
        assert torch.equal(tensor, reference[name])
    assert loaded.info.n_parameters == 4 * 6 + 6 + 6 * 3 + 3
    assert [f.path.rsplit("/", 1)[1] for f in loaded.info.files] == ["net.py", "weights.pt"]


def test_factory_kwargs_and_mismatched_weights(folder):
    with pytest.raises(SourceError, match="weights do not fit the model: .*size mismatch"):
        load_model(spec_file(folder, TORCH + "\n  kwargs: {width: 7}"))


def test_factory_by_module_name_from_the_spec_folder(folder):
    loaded = load_model(spec_file(folder, "  kind: torch\n  factory: net:build"))
    assert type(loaded.module).__name__ == "Net"


def test_missing_callable_is_a_source_error(folder):
    with pytest.raises(SourceError, match="has no callable 'nope'"):
        load_model(spec_file(folder, "  kind: torch\n  factory: net.py:nope"))


def test_torchscript_audits_its_output(folder):
    result = run_audit(spec_file(folder, "  kind: torchscript\n  path: net.ts", extra="metrics: [twonn, pca]\n"))
    assert [layer.name for layer in result.layers] == ["output"]
    assert result.layers[0].width == 3 and result.layers[0].is_output


@pytest.mark.parametrize("probe", ["source: probe.npz", "source: probe.npy", "{source: probe.csv, labels: label}"])
def test_probe_formats_give_the_same_features(folder, probe):
    found = load_probe(spec_file(folder, TORCH, probe=probe))
    expected = np.load(folder / "probe.npz")
    np.testing.assert_allclose(found.features, expected["X"], rtol=1e-6)
    if probe.endswith("npy"):
        assert found.labels is None and not found.info.has_labels
    else:
        np.testing.assert_array_equal(found.labels, expected["y"])


def test_probe_subsample_is_seeded(folder):
    first = load_probe(spec_file(folder, TORCH, probe="{source: probe.npz, n_samples: 50, seed: 3}"))
    again = load_probe(spec_file(folder, TORCH, probe="{source: probe.npz, n_samples: 50, seed: 3}"))
    assert first.features.shape == (50, 4)
    np.testing.assert_array_equal(first.features, again.features)
    with pytest.raises(SourceError, match="has 120 samples; probe.n_samples asks for 500"):
        load_probe(spec_file(folder, TORCH, probe="{source: probe.npz, n_samples: 500}"))


def test_bad_csv_cell_names_row_and_column(folder):
    lines = (folder / "probe.csv").read_text().splitlines()
    lines[5] = "1,2,oops,4,0"
    (folder / "probe.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceError) as error:
        load_probe(spec_file(folder, TORCH, probe="{source: probe.csv, labels: label}"))
    assert error.value.where.endswith("probe.csv:6") and "column 'c' holds 'oops'" in error.value.what


def test_constant_layer_fails_its_metrics_without_stopping_the_audit(folder):
    loaded = spec_file(folder, "  kind: torch\n  factory: net.py:constant", extra="layers: {include: ['body.*']}\nmetrics: [twonn, pca]\n")
    result = run_audit(loaded)
    constant = result.layer("body.1")
    assert not constant.metrics["twonn"].ok and "constant" in constant.metrics["twonn"].message
    assert constant.metrics["twonn"].value is None and constant.redundancy_rate is None
    assert any("body.1: TwoNN ID could not be computed" in w for w in result.warnings)
    assert result.layer("body.2").metrics["twonn"].ok is False  # the head sees a constant input too
