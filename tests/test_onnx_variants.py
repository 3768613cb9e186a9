"""Smaller ONNX graphs built by graph surgery: a dense layer of planted rank r is reproduced by
its rank-r factorization (and not by rank r-1), and the PCA projection of the output equals the
projection computed in numpy. Every variant passes onnx.checker and runs in ONNX Runtime."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from audit.sources.adapters.onnx.graph import linear_nodes
from audit.stages.cost.onnx_variants import factorize_linear, project_output

RANK = 3


@pytest.fixture(scope="module")
def mlp():
    """x (20) -> Gemm with a rank-3 weight, transB (32) -> Relu -> MatMul (16)."""
    rng = np.random.default_rng(0)
    weights = {"W1": (rng.normal(size=(32, RANK)) @ rng.normal(size=(RANK, 20))).astype(np.float32),
               "b1": rng.normal(size=32).astype(np.float32), "W2": rng.normal(size=(32, 16)).astype(np.float32)}
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("MatMul", ["r", "W2"], ["y"], name="fc2")]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 20])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 16])],
                              [numpy_helper.from_array(value, name) for name, value in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def run(model, inputs):
    onnx.checker.check_model(model)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": inputs})[0]


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(1).normal(size=(64, 20)).astype(np.float32)


def test_dense_layers_are_found_with_their_shapes(mlp):
    found = {layer.node: (layer.op_type, layer.n_in, layer.n_out, layer.output) for layer in linear_nodes(mlp)}
    assert found == {"fc1": ("Gemm", 20, 32, "h"), "fc2": ("MatMul", 32, 16, "y")}


def test_planted_rank_is_reproduced_at_that_rank_only(mlp, inputs):
    reference = run(mlp, inputs)
    fc1 = linear_nodes(mlp)[0]
    exact = run(factorize_linear(mlp, fc1, RANK), inputs)
    short = run(factorize_linear(mlp, fc1, RANK - 1), inputs)
    assert np.abs(exact - reference).max() < 1e-4 * np.abs(reference).max()
    assert np.abs(short - reference).max() > 0.05 * np.abs(reference).max()
    assert len(mlp.graph.node) == 3  # the original is untouched


def test_factorized_matmul_has_the_thin_shapes(mlp, inputs):
    variant = factorize_linear(mlp, linear_nodes(mlp)[1], 4)
    shapes = sorted(tuple(init.dims) for init in variant.graph.initializer)
    assert shapes == [(4, 16), (32,), (32, 4), (32, 20)]  # W2 (32x16) became 32x4 and 4x16; W1, b1 stay
    assert run(variant, inputs).shape == (64, 16)


def test_output_projection_equals_numpy_pca(mlp, inputs):
    outputs = run(mlp, inputs).astype(np.float64)
    mean = outputs.mean(axis=0)
    components = np.linalg.svd(outputs - mean, full_matrices=False)[2][:5]
    centred = run(project_output(mlp, components, mean=mean), inputs)
    np.testing.assert_allclose(centred, (outputs - mean) @ components.T, rtol=1e-4, atol=1e-4)
    uncentred = run(project_output(mlp, components), inputs)
    np.testing.assert_allclose(uncentred, outputs @ components.T, rtol=1e-4, atol=1e-4)


def test_flops_match_torch_flop_counter_on_the_same_network():
    """Conv, depthwise conv and Gemm counted from ONNX shapes equal torch's dispatcher count of
    the same layers (FlopCounterMode: 2 FLOPs per multiply-add)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from audit.stages.cost.onnx_flops import flops_per_sample

    rng = np.random.default_rng(0)
    weights = {"w1": rng.normal(size=(8, 3, 3, 3)), "w2": rng.normal(size=(8, 1, 3, 3)), "w3": rng.normal(size=(4, 8)),
               "b3": rng.normal(size=4)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], group=8, pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["c2"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "convnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
                              [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    counted = flops_per_sample(model, {"x": np.zeros((1, 3, 40, 64), np.float32)})
    torch_net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), torch.nn.ReLU(),
                                    torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                                    torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4))
    with FlopCounterMode(display=False) as counter:
        torch_net(torch.zeros(1, 3, 40, 64))
    assert counted == counter.get_total_flops() == 2 * (8 * 20 * 32 * 27 + 8 * 20 * 32 * 9 + 4 * 8)


def test_weights_stored_as_constant_nodes_are_factorized_too(mlp, inputs):
    """Paddle's exporter stores weights as Constant nodes; the same layer must factorize alike."""
    constant = onnx.ModelProto()
    constant.CopyFrom(mlp)
    graph = constant.graph
    weight = next(init for init in graph.initializer if init.name == "W2")
    graph.node.insert(0, helper.make_node("Constant", [], ["W2"], value=weight))
    kept = [init for init in graph.initializer if init.name != "W2"]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    layer = next(layer for layer in linear_nodes(constant) if layer.node == "fc2")
    variant = factorize_linear(constant, layer, 4)
    assert not any(node.op_type == "Constant" for node in variant.graph.node)  # the dense weight is gone
    np.testing.assert_allclose(run(variant, inputs), run(factorize_linear(mlp, linear_nodes(mlp)[1], 4), inputs),
                               rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def residual():
    """x (20) -> Gemm (32) = h -> Relu -> MatMul (32) -> + h: the skip reads h past fc2."""
    rng = np.random.default_rng(2)
    weights = {"W1": rng.normal(size=(32, 20)).astype(np.float32), "b1": rng.normal(size=32).astype(np.float32),
               "W2": rng.normal(size=(32, 32)).astype(np.float32)}
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("MatMul", ["r", "W2"], ["z"], name="fc2"),
             helper.make_node("Add", ["z", "h"], ["y"])]
    graph = helper.make_graph(nodes, "residual", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 20])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 32])],
                              [numpy_helper.from_array(value, name) for name, value in weights.items()])
    return onnx.shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                                               ir_version=10))


def test_the_part_downstream_of_a_factorized_layer_gives_the_whole_variants_output(residual, inputs):
    """Cut at fc2's new weights: the part is fed fc2's input and the skip's h (both upstream),
    and on the original's values of them returns the whole variant's output bit for bit."""
    from audit.sources.adapters.onnx.graph import tensor_types
    from audit.stages.cost.onnx_cut import downstream_part, upstream_outputs

    fc2 = linear_nodes(residual)[1]
    variant = factorize_linear(residual, fc2, 5)
    new = {init.name for init in variant.graph.initializer} - {init.name for init in residual.graph.initializer}
    part = downstream_part(variant, new, tensor_types(residual.graph))
    assert part.inputs == ("r", "h") and [node.op_type for node in part.proto.graph.node] == ["MatMul", "MatMul", "Add"]
    onnx.checker.check_model(part.proto)
    upstream = onnxruntime.InferenceSession(upstream_outputs(residual, part).SerializeToString(),
                                            providers=["CPUExecutionProvider"])
    r, h = upstream.run(["r", "h"], {"x": inputs})
    cut = onnxruntime.InferenceSession(part.proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(cut.run(None, {"r": r, "h": h})[0], run(variant, inputs))
    assert downstream_part(variant, set(), tensor_types(residual.graph)) is None  # nothing changed: nothing to cut


def test_a_variants_flops_follow_from_the_originals_shapes(residual, inputs):
    from audit.stages.cost.onnx_flops import flops_per_sample, graph_flops, tensor_shapes

    shapes = tensor_shapes(residual, {"x": inputs[:1]})
    assert graph_flops(residual, shapes) == 2 * (20 * 32 + 32 * 32)
    for rank in (1, 5, 31):
        variant = factorize_linear(residual, linear_nodes(residual)[1], rank)
        assert graph_flops(variant, shapes) == flops_per_sample(variant, {"x": inputs[:1]}) == 2 * (20 * 32 + 64 * rank)
