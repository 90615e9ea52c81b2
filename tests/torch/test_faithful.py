"""Recording never changes what the program computes: the zoo runs traced and untraced from
identical states and everything the program can see is compared bit for bit."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pytest.importorskip("torch")

import torch

import tracing
from tests.torch import zoo
from tests.torch.helpers import assert_same, assert_same_module_state, installed_state


def _run(entry, trace: Path | None):
    build, step = entry
    torch.manual_seed(1234)
    model = build()
    torch.manual_seed(99)
    if trace is None:
        result = step(model)
    else:
        with tracing.record(trace):
            result = step(model)
    return model, result, torch.get_rng_state()


def _check_faithful(entry, tmp_path: Path) -> tracing.Trace:
    before = installed_state()
    model_a, result_a, rng_a = _run(entry, None)
    model_b, result_b, rng_b = _run(entry, tmp_path / "run.opscope")
    assert installed_state() == before
    assert_same(result_a, result_b)
    assert torch.equal(rng_a, rng_b), "recording consumed or changed the RNG stream"
    assert_same_module_state(model_a, model_b)
    trace = tracing.load(tmp_path / "run.opscope")
    trace.lint()
    assert trace.meta.complete and trace.framework == "torch"
    assert len(trace.ops) > 0
    return trace


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_tracing_does_not_change_results(name: str, tmp_path: Path) -> None:
    _check_faithful(zoo.ZOO[name], tmp_path)


def test_torch_compile_module_runs_its_compiled_code_and_is_marked_opaque(
    tmp_path: Path,
) -> None:
    trace = _check_faithful(zoo.SLOW_ZOO["torch_compile_module"], tmp_path)
    opaque = [op for op in trace.ops if op.kind == "opaque"]
    assert [op.op_type for op in opaque] == ["torch.compile(Sequential)"]
    assert opaque[0].module_path == "core"
    assert opaque[0].inputs[0].source.startswith("op:")  # fed by the tanh before it
    after = trace.ops[opaque[0].seq + 1]
    assert after.op_type == "Tensor.log_softmax"
    assert after.inputs[0].source == opaque[0].node_id


def test_torch_compile_function_is_compiled_as_without_recording(tmp_path: Path) -> None:
    """Dynamo must not trace into the recorder when a compiled function is first called in the
    block: that broke its graph into eager pieces and changed the output bits."""
    trace = _check_faithful(zoo.SLOW_ZOO["torch_compile_function"], tmp_path)
    # ops its generated code runs point at the user's code, not at the generated files
    assert {Path(op.file).name for op in trace.ops} == {"zoo.py"}


def test_transformer_fast_path_still_runs_its_fused_kernel(tmp_path: Path) -> None:
    trace = _check_faithful(zoo.ZOO["transformer_eval_fast_path"], tmp_path)
    fused = [op for op in trace.ops if "_transformer_encoder_layer_fwd" in op.op_type]
    assert len(fused) == 4  # two layers, two calls
    assert all(op.kind == "opaque" for op in fused)
    assert [op.module_path for op in fused] == ["layers.0", "layers.1"] * 2
    assert fused[1].inputs[0].source == fused[0].node_id


def test_transformer_in_training_is_recorded_op_by_op(tmp_path: Path) -> None:
    trace = _check_faithful(zoo.ZOO["transformer_train"], tmp_path)
    assert all(op.kind == "op" for op in trace.ops)
    types = trace.op_type_counts()
    assert types["torch.nn.functional.multi_head_attention_forward"] == 2
    assert types["torch.nn.functional.layer_norm"] == 4


def test_scripted_submodule_ops_are_recorded_as_opaque_aten_ops(tmp_path: Path) -> None:
    trace = _check_faithful(zoo.ZOO["jit_script_submodule"], tmp_path)
    inside = [op for op in trace.ops if op.module_path.startswith("core")]
    assert inside and all(op.kind == "opaque" and op.op_type.startswith("aten.") for op in inside)
    assert any("relu" in op.op_type for op in inside)
    assert trace.ops[-1].op_type == "Tensor.backward"


def test_inference_mode_writes_are_ordered_by_storage(tmp_path: Path) -> None:
    trace = _check_faithful(zoo.ZOO["inference_mode"], tmp_path)
    mul = next(op for op in trace.ops if op.op_type == "Tensor.mul_")
    assert mul.mutates == (0,)
    clone = trace.ops[mul.seq + 1]
    assert clone.op_type == "Tensor.clone"
    assert clone.inputs[0].source == mul.node_id


def test_autocast_records_bfloat16_outputs(tmp_path: Path) -> None:
    trace = _check_faithful(zoo.ZOO["autocast_bfloat16"], tmp_path)
    conv = next(op for op in trace.ops if op.op_type == "torch.nn.functional.conv2d")
    assert conv.outputs[0].dtype == "bfloat16"
    assert conv.outputs[0].min is not None and conv.outputs[0].nan_count == 0


@pytest.mark.parametrize("values", [False, True])
def test_recorded_tensors_stay_resizable(values: bool, tmp_path: Path) -> None:
    """Reading a tensor for its summary or value must not mark its memory as never resizable
    (``Tensor.numpy()`` does): the program may ``resize_`` it later, in the block or after."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 4)
    x = torch.zeros(2, 4)
    half = torch.randn(8).half()
    out = torch.empty(0)
    with tracing.record(tmp_path / "r.opscope", values=values):
        y = model(x)
        counts = torch.arange(6) + 1
        scaled = half * 2
        view = torch.randn(4, 4).t() * 1
        torch.add(torch.ones(3), 1, out=out)  # PyTorch resizes an empty out= buffer
        out.resize_(0)  # and the program reuses it, as PyTorch's warning advises
        torch.mul(torch.ones(5), 2, out=out)
    assert out.tolist() == [2.0] * 5
    tensors = [x, y, counts, scaled, view, half, model.weight, model.bias]
    for t in tensors:
        storage = t.detach()
        storage.resize_(t.numel() + 7)  # raises "storage that is not resizable" otherwise
    trace = tracing.load(tmp_path / "r.opscope")
    linear = next(op for op in trace.ops if op.op_type == "torch.nn.functional.linear")
    assert linear.outputs[0].min is not None
    if values:
        assert trace.value(linear.seq, 0).shape == (2, 4)


def test_functional_inplace_writes_of_inference_tensors_are_seen(tmp_path: Path) -> None:
    """Inference tensors have no version counter: ``inplace=True`` says the call wrote them."""
    with tracing.record(tmp_path / "i.opscope"), torch.inference_mode():
        x = torch.randn(4)
        torch.nn.functional.relu(x, inplace=True)
        x.sum()
        y = torch.randn(4)
        torch.nn.ReLU(inplace=True)(y)
        y.sum()
        z = torch.randn(4)
        torch.nn.functional.dropout(z, 0.5, True, True)
        z.sum()
    trace = tracing.load(tmp_path / "i.opscope")
    writers = [op for op in trace.ops if op.op_type.startswith("torch.nn.functional.")]
    assert [op.mutates for op in writers] == [(0,), (0,), (0,)]
    sums = [op for op in trace.ops if op.op_type == "Tensor.sum"]
    assert [op.inputs[0].source for op in sums] == [op.node_id for op in writers]


def test_jagged_nested_tensors_are_recorded(tmp_path: Path) -> None:
    """A jagged tensor's ragged dimension is symbolic: its shape is stored as unknown, and its
    ops are recorded like any other (they were dropped with a JSON error)."""
    lin = torch.nn.Linear(4, 3)
    nested = torch.nested.nested_tensor([torch.randn(2, 4), torch.randn(3, 4)], layout=torch.jagged)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tracing.RecordingWarning)
        with tracing.record(tmp_path / "n.opscope"):
            lin(nested).relu()
    trace = tracing.load(tmp_path / "n.opscope")
    linear, relu = trace.ops
    assert linear.op_type == "torch.nn.functional.linear"
    assert linear.outputs[0].shape == ()
    assert relu.inputs[0].source == linear.node_id
