"""Edges of the recorded graph: producers, sources, in-place writes through views, modules."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

import networkx as nx
import torch
from torch import nn

import tracing
from tests.torch.helpers import ops_of, record_linted


def _record(tmp_path: Path, fn, values=False) -> tracing.Trace:
    return record_linted(tmp_path / "graph.opscope", fn, values=values)


_ops = ops_of


def test_x_plus_x_has_two_edges_from_one_producer(tmp_path: Path) -> None:
    def run():
        x = torch.randn(3)
        x + x

    trace = _record(tmp_path, run)
    randn, add = trace.ops
    assert add.op_type == "Tensor.add"
    assert [(ref.slot, ref.source) for ref in add.inputs] == [(0, "op:0"), (1, "op:0")]
    assert trace.graph.number_of_edges(randn.node_id, add.node_id) == 2


def test_parameter_used_twice_is_one_source_node_with_two_consumers(tmp_path: Path) -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x))

    model = Tied()
    x = torch.randn(2, 4)
    trace = _record(tmp_path, lambda: model(x))
    graph = trace.graph
    assert graph.nodes["src:param:fc.weight"]["kind"] == "param"
    consumers = [dst for _, dst in graph.out_edges("src:param:fc.weight")]
    assert consumers == ["op:0", "op:1"]
    assert [ref.source for ref in trace.ops[0].inputs] == [
        "src:input:0",
        "src:param:fc.weight",
        "src:param:fc.bias",
    ]
    assert graph.nodes["src:input:0"]["kind"] == "input"
    source_ids = [node.node_id for node in trace.source_nodes]
    assert len(source_ids) == len(set(source_ids))
    weight = next(node for node in trace.source_nodes if node.node_id == "src:param:fc.weight")
    assert weight.shape == (4, 4) and weight.summary is not None
    assert weight.summary.min == model.fc.weight.min().item()


def test_write_through_a_view_orders_later_readers_after_it(tmp_path: Path) -> None:
    def run():
        y = torch.randn(4, 3)
        y.view(-1)[2:5].mul_(2)
        y.sum()

    trace = _record(tmp_path, run)
    mul = _ops(trace, "Tensor.mul_")[0]
    total = _ops(trace, "Tensor.sum")[0]
    assert mul.mutates == (0,)
    assert nx.has_path(trace.graph, mul.node_id, total.node_id)
    kinds = {ref.kind: ref.source for ref in total.inputs}
    assert kinds == {"data": "op:0", "write": mul.node_id}


def test_writes_without_an_underscore_and_through_setitem_are_detected(tmp_path: Path) -> None:
    def run():
        y = torch.zeros(3, 3)
        torch.add(torch.ones(3, 3), 1, out=y)
        y[0] = 5.0
        y.t()[1].fill_(1.0)
        y.mean()

    trace = _record(tmp_path, run)
    add, setitem, fill = (
        _ops(trace, "torch.add")[0],
        _ops(trace, "Tensor.__setitem__")[0],
        _ops(trace, "Tensor.fill_")[0],
    )
    out_slot = next(ref.slot for ref in add.inputs if ref.name == "out")
    assert add.mutates == (out_slot,)
    assert setitem.mutates == (0,)
    assert setitem.outputs[0].shape == (3, 3)  # the written tensor, after the write
    assert setitem.outputs[0].max == 5.0
    assert setitem.inputs[0].source == add.node_id
    mean = _ops(trace, "Tensor.mean")[0]
    assert {ref.source for ref in mean.inputs} == {setitem.node_id, fill.node_id}
    assert nx.has_path(trace.graph, fill.node_id, mean.node_id)


def test_writes_through_data_and_in_inference_mode_are_tracked_by_storage(
    tmp_path: Path,
) -> None:
    def run():
        y = torch.randn(3)
        y.data.add_(1)
        y.exp()
        with torch.inference_mode():
            z = torch.ones(4)
            z[1:3].mul_(3)
            z.sum()

    trace = _record(tmp_path, run)
    add = _ops(trace, "Tensor.add_")[0]
    assert add.inputs[0].source == "op:0"  # y.data resolves to y's producer
    exp = _ops(trace, "Tensor.exp")[0]
    assert nx.has_path(trace.graph, add.node_id, exp.node_id)
    mul = _ops(trace, "Tensor.mul_")[0]
    assert mul.mutates == (0,)
    total = _ops(trace, "Tensor.sum")[0]
    assert nx.has_path(trace.graph, mul.node_id, total.node_id)


def test_module_called_in_a_data_dependent_loop_gets_call_indexes(tmp_path: Path) -> None:
    class Shrink(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = nn.Linear(3, 3)

        def forward(self, x):
            while x.abs().max() > 0.1:
                x = self.step(x) * 0.5
            return x

    model = Shrink()
    torch.manual_seed(3)
    x = torch.randn(2, 3) * 5
    with torch.no_grad():
        expected = 0
        y = x
        while y.abs().max() > 0.1:
            y = model.step(y) * 0.5
            expected += 1
    trace = _record(tmp_path, lambda: model(x))
    calls = [call for call in trace.module_calls if call.path == "step"]
    assert [call.call_index for call in calls] == list(range(1, expected + 1))
    linears = _ops(trace, "torch.nn.functional.linear")
    assert [op.module_call for op in linears] == list(range(1, expected + 1))
    assert all(op.module_path == "step" for op in linears)
    root = next(call for call in trace.module_calls if call.path == "")
    assert root.type_name == "Shrink" and root.call_index == 1


def test_factory_ops_have_no_inputs_and_feed_their_consumers(tmp_path: Path) -> None:
    def run():
        a = torch.arange(6.0)
        b = torch.ones(6)
        torch.cat([a, b, a])

    trace = _record(tmp_path, run)
    arange, ones, cat = trace.ops
    assert arange.inputs == () and ones.inputs == ()
    assert [(ref.name, ref.source) for ref in cat.inputs] == [
        ("tensors[0]", "op:0"),
        ("tensors[1]", "op:1"),
        ("tensors[2]", "op:0"),
    ]


def test_boolean_masking_records_mask_and_selection(tmp_path: Path) -> None:
    def run():
        x = torch.tensor([1.0, -2.0, 3.0, -4.0])
        mask = x > 0
        x[mask]
        x[~mask] = 0.0

    trace = _record(tmp_path, run)
    types = [op.op_type for op in trace.ops]
    assert types == [
        "torch.tensor",
        "Tensor.gt",
        "Tensor.__getitem__",
        "Tensor.__invert__",
        "Tensor.__setitem__",
    ]
    getitem = trace.ops[2]
    assert [ref.source for ref in getitem.inputs] == ["op:0", "op:1"]
    assert getitem.outputs[0].shape == (2,)
    assert trace.ops[1].outputs[0].dtype == "bool"
    assert trace.ops[4].mutates == (0,)


def test_unknown_tensors_become_constants_once(tmp_path: Path) -> None:
    outside = torch.ones(2)

    def run():
        outside * 2
        outside + 1

    trace = _record(tmp_path, run)
    assert [op.inputs[0].source for op in trace.ops] == ["src:const:0", "src:const:0"]
    const = trace.source_nodes[0]
    assert const.kind == "const" and const.summary.mean == 1.0


def test_two_unrelated_models_do_not_share_names(tmp_path: Path) -> None:
    first = nn.Sequential(nn.Linear(2, 2))
    second = nn.Sequential(nn.Linear(2, 2))

    def run():
        h = first(torch.randn(1, 2))
        second(h)
        first(h)
        second[0](h)  # a submodule called directly keeps its known name

    trace = _record(tmp_path, run)
    paths = [call.path for call in trace.module_calls]
    assert paths == ["", "0", "Sequential", "Sequential.0", "", "0", "Sequential.0"]
    weights = [ref.source for op in trace.ops for ref in op.inputs if ref.name == "weight"]
    assert weights == [
        "src:param:0.weight",
        "src:param:Sequential.0.weight",
        "src:param:0.weight",
        "src:param:Sequential.0.weight",
    ]
    second_input = _ops(trace, "torch.nn.functional.linear")[1].inputs[0]
    assert second_input.source == "op:1"  # the first model's output, not a new input


def test_modules_created_inside_forward_are_named_under_their_caller(tmp_path: Path) -> None:
    class Lazy(nn.Module):
        def forward(self, x):
            return nn.Linear(2, 2)(x)

    model = nn.Sequential(Lazy())
    trace = _record(tmp_path, lambda: (model(torch.randn(1, 2)), model(torch.randn(1, 2))))
    paths = [call.path for call in trace.module_calls]
    assert paths == ["", "0", "0.Linear", "", "0", "0.Linear_2"]


def test_module_events_nest_and_close(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    trace = _record(tmp_path, lambda: model(torch.randn(4, 2)))
    by_path = {call.path: call for call in trace.module_calls}
    assert set(by_path) == {"", "0", "1", "1.0", "1.1"}
    assert by_path["1.1"].parent_id == by_path["1"].call_id
    assert by_path["1"].depth == 1 and by_path["1.1"].depth == 2
    assert all(call.exit_order >= 0 for call in trace.module_calls)
    kinds = [event.kind for event in trace.events]
    assert kinds.count("enter") == kinds.count("exit") == 5
    relu = _ops(trace, "torch.nn.functional.relu")[0]
    assert [call.path for call in trace.call_chain(relu)] == ["", "1", "1.0"]


def test_tensors_passed_by_keyword_to_the_root_are_inputs(tmp_path: Path) -> None:
    class TwoInputs(nn.Module):
        def forward(self, a, *, b):
            return a * b

    a, b = torch.ones(2), torch.full((2,), 3.0)
    trace = _record(tmp_path, lambda: TwoInputs()(a, b=b))
    assert [ref.source for ref in trace.ops[0].inputs] == ["src:input:0", "src:input:1"]


def test_parameter_read_before_its_module_runs_is_the_parameter_afterwards(tmp_path: Path) -> None:
    model = nn.Linear(4, 4)

    def run():
        penalty = model.weight.pow(2).sum()  # the model has not been called yet: a constant
        model(torch.randn(2, 4)) + penalty

    trace = _record(tmp_path, run)
    (linear,) = _ops(trace, "torch.nn.functional.linear")
    assert [ref.source for ref in linear.inputs[1:]] == ["src:param:weight", "src:param:bias"]


def test_parameters_converted_by_half_feed_later_calls_from_the_conversion(
    tmp_path: Path,
) -> None:
    model = nn.Linear(4, 4)

    def run():
        model(torch.randn(2, 4))
        model.half()  # param.data = param.half(): the parameter now holds the op's output
        model(torch.randn(2, 4).half())

    trace = _record(tmp_path, run)
    first, second = _ops(trace, "torch.nn.functional.linear")
    halves = [op for op in _ops(trace, "Tensor.half") if op.inputs[0].source.startswith("src:")]
    assert [ref.source for ref in first.inputs[1:]] == ["src:param:weight", "src:param:bias"]
    assert [ref.source for ref in second.inputs[1:]] == [op.node_id for op in halves]


class _EncoderHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(x))


MODEL = _EncoderHead()
WRAPPER = nn.ModuleDict({"model": MODEL})  # holding a model elsewhere changes nothing


def test_a_submodule_called_before_its_model_is_named_from_the_model(tmp_path: Path) -> None:
    """The model is found among the calling code's module-level variables."""

    def run():
        x = torch.randn(2, 4)
        MODEL.enc(x)  # the encoder alone first: still "enc.0", not a root of its own
        MODEL(x)

    trace = _record(tmp_path, run)
    assert [op.module_path for op in trace.ops[1:]] == ["enc.0", "enc.1", "enc.0", "enc.1", "head"]
    assert trace.ops[1].inputs[1].source == "src:param:enc.0.weight"
    assert WRAPPER["model"] is MODEL
