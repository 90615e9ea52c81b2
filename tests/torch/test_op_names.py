"""Op types are public names the user could write; bookkeeping calls are not ops."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

import networkx as nx
import torch
from torch import nn

import tracing
from tests.torch.helpers import ops_of, record_linted
from tracing.torch_backend.ops import describe, op_name


def _record(tmp_path: Path, fn) -> tracing.Trace:
    # quiet: sparse invariant checks, weight_norm deprecation
    return record_linted(tmp_path / "t.opscope", fn, quiet=True)


_ops = ops_of


def _sparse() -> torch.Tensor:
    indices = torch.tensor([[0, 1], [1, 2]])
    values = torch.tensor([3.0, 4.0])
    return torch.sparse_coo_tensor(indices, values, (2, 3))


def test_sparse_mm_is_recorded_and_connected(tmp_path: Path) -> None:
    def run():
        s = _sparse()
        d = torch.randn(3, 2)
        y = torch.sparse.mm(s, d)
        y.sum()

    trace = _record(tmp_path, run)
    (coo,) = _ops(trace, "torch.sparse_coo_tensor")
    (randn,) = _ops(trace, "torch.randn")
    (mm,) = _ops(trace, "torch.sparse.mm")
    (total,) = _ops(trace, "Tensor.sum")
    assert [ref.source for ref in mm.inputs] == [coo.node_id, randn.node_id]
    assert [ref.source for ref in total.inputs] == [mm.node_id]  # not a const
    assert trace.graph.has_edge(mm.node_id, total.node_id)
    assert nx.has_path(trace.graph, coo.node_id, total.node_id)


def test_sparse_addmm_softmax_and_log_softmax_are_recorded(tmp_path: Path) -> None:
    def run():
        s = _sparse()
        torch.sparse.addmm(torch.randn(2, 2), s, torch.randn(3, 2)).sum()
        torch.sparse.softmax(s, 1)
        torch.sparse.log_softmax(s, 1)

    trace = _record(tmp_path, run)
    (coo,) = _ops(trace, "torch.sparse_coo_tensor")
    (addmm,) = _ops(trace, "torch.sparse.addmm")
    (softmax,) = _ops(trace, "torch.sparse.softmax")
    (log_softmax,) = _ops(trace, "torch.sparse.log_softmax")
    assert coo.node_id in {ref.source for ref in addmm.inputs}
    assert [ref.source for ref in softmax.inputs] == [coo.node_id]
    assert [ref.source for ref in log_softmax.inputs] == [coo.node_id]
    (total,) = _ops(trace, "Tensor.sum")
    assert [ref.source for ref in total.inputs] == [addmm.node_id]


def test_pack_padded_sequence_uses_the_torch_name(tmp_path: Path) -> None:
    def run():
        x = torch.randn(3, 4, 2)
        nn.utils.rnn.pack_padded_sequence(x, torch.tensor([4, 3, 2]), batch_first=True)

    trace = _record(tmp_path, run)
    types = {op.op_type for op in trace.ops}
    assert "torch._pack_padded_sequence" in types
    assert not any("_VariableFunctionsClass" in t for t in types)


@pytest.mark.parametrize("backward_inside", [False, True])
def test_half_and_optimizer_step_record_no_bookkeeping(tmp_path: Path, backward_inside) -> None:
    model = nn.Linear(3, 2)

    def backward():
        model(torch.randn(4, 3)).sum().backward()

    def run():
        if backward_inside:
            backward()
        model.half()
        torch.optim.SGD(model.parameters(), lr=0.1).step()

    if not backward_inside:
        backward()
    trace = _record(tmp_path, run)
    types = [op.op_type for op in trace.ops]
    assert "Tensor.half" in types and "Tensor.add_" in types  # the real work is still there
    assert not [t for t in types if "_has_compatible_shallow_copy_type" in t]
    assert not [t for t in types if "record_function" in t]


def test_no_internal_names_in_a_mixed_program(tmp_path: Path) -> None:
    def run():
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01, foreach=True)
        model(torch.randn(5, 4)).sum().backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # torch._foreach_norm, _foreach_mul_
        optimizer.step()
        model.half()
        normed = nn.utils.weight_norm(nn.Linear(3, 3))  # torch._weight_norm
        normed(torch.randn(2, 3))
        s = _sparse()
        torch.sparse.mm(s, torch.randn(3, 2)).sum()
        torch.einsum("ij,jk->ik", torch.randn(2, 3), torch.randn(3, 2))
        nested = torch.nested.nested_tensor([torch.randn(2, 3), torch.randn(4, 3)])
        torch.nested.to_padded_tensor(nested, 0.0)

    trace = _record(tmp_path, run)
    types = {op.op_type for op in trace.ops}
    assert {"torch._foreach_norm", "torch._weight_norm", "torch.sparse.mm"} <= types
    assert {"torch.einsum", "torch.nested.to_padded_tensor"} <= types
    leaked = sorted(
        t
        for t in types
        if "_VariableFunctionsClass" in t or "torch._C." in t or t.startswith("torch.functional.")
    )
    assert leaked == []
    assert not [t for t in types if "record_function" in t or "shallow_copy" in t]


@pytest.mark.parametrize(
    ("func", "name"),
    [
        (torch.sparse.mm, "torch.sparse.mm"),
        (torch.sparse.addmm, "torch.sparse.addmm"),
        (torch.sparse.softmax, "torch.sparse.softmax"),
        (torch.sparse.log_softmax, "torch.sparse.log_softmax"),
        (torch.sparse.spdiags, "torch.sparse.spdiags"),
        (torch.sparse.spsolve, "torch.sparse.spsolve"),
        (torch._pack_padded_sequence, "torch._pack_padded_sequence"),
        (torch._foreach_norm, "torch._foreach_norm"),
        (torch._weight_norm, "torch._weight_norm"),
        (torch.einsum, "torch.einsum"),
        # unchanged names
        (torch.nn.functional.linear, "torch.nn.functional.linear"),
        (torch.conv2d, "torch.nn.functional.conv2d"),
        (torch.cat, "torch.cat"),
        (torch.spmm, "torch.spmm"),
        (torch.linalg.norm, "torch.linalg.norm"),
        (torch.Tensor.add_, "Tensor.add_"),
    ],
)
def test_public_names(func, name) -> None:
    assert op_name(func) == name
    info = describe(func)
    assert info is not None and info.name == name


@pytest.mark.parametrize(
    "func",
    [
        torch._has_compatible_shallow_copy_type,
        torch.ops.profiler._record_function_enter_new,
        torch.ops.profiler._record_function_exit,
        torch.ops.profiler._record_function_exit._RecordFunction,
        torch._C._set_grad_enabled,
        torch._C._nn._parse_to,
        torch.Tensor.dim,
    ],
)
def test_bookkeeping_is_not_an_op(func) -> None:
    assert describe(func) is None
