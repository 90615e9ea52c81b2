"""What each recorded op says: names, source locations, summaries, values, errors, cleanup."""

from __future__ import annotations

import math
import sys
import threading
import traceback
import warnings
from pathlib import Path

import pytest

pytest.importorskip("torch")

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import tracing
from tests.subprocesses import assert_prints_ok
from tests.torch.helpers import installed_state, record_linted

HERE = Path(__file__).resolve()


def _line(marker: str) -> int:
    """The line of this file that ends with ``# @marker``."""
    for number, text in enumerate(HERE.read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# @{marker}"):
            return number
    raise AssertionError(marker)


def _source_line(number: int) -> str:
    return HERE.read_text().splitlines()[number - 1]


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 6)
        self.norm = nn.LayerNorm(6)

    def forward(self, x):
        h = self.proj(x)  # @proj
        h = torch.relu(h * 2 + 1)  # @relu
        return self.norm(h)  # @norm


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        z = self.encoder(x)  # @encoder
        return F.softmax(self.head(z), dim=-1)  # @head


def _record(tmp_path: Path, fn, **options) -> tracing.Trace:
    return record_linted(tmp_path / "run.opscope", fn, **options)


def test_every_op_points_at_the_users_line_and_module(tmp_path: Path) -> None:
    model = Model()
    x = torch.randn(3, 4)
    trace = _record(tmp_path, lambda: model(x))  # @lambda
    expected = [
        ("torch.nn.functional.linear", "encoder.proj", "proj"),
        ("Tensor.mul", "encoder", "relu"),
        ("Tensor.add", "encoder", "relu"),
        ("torch.relu", "encoder", "relu"),
        ("torch.nn.functional.layer_norm", "encoder.norm", "norm"),
        ("torch.nn.functional.linear", "head", "head"),
        ("torch.nn.functional.softmax", "", "head"),
    ]
    got = [(op.op_type, op.module_path, op.file, op.line) for op in trace.ops]
    assert got == [(t, m, str(HERE), _line(mark)) for t, m, mark in expected]
    assert all(op.func == "forward" for op in trace.ops)
    stack = trace.stack(trace.ops[0])
    assert [frame.line for frame in stack[-3:]] == [
        _line("lambda"),
        _line("encoder"),
        _line("proj"),
    ]
    assert trace.source(str(HERE)) == HERE.read_text()


def test_columns_separate_ops_on_one_line(tmp_path: Path) -> None:
    model = Model()
    trace = _record(tmp_path, lambda: model(torch.randn(3, 4)))
    text = _source_line(_line("relu"))
    spans = {op.op_type: text[op.col : op.end_col] for op in trace.ops if op.line == _line("relu")}
    assert spans == {
        "Tensor.mul": "h * 2",
        "Tensor.add": "h * 2 + 1",
        "torch.relu": "torch.relu(h * 2 + 1)",
    }


def _call(model, x):
    return model(x)


def test_op_names_are_the_users_vocabulary(tmp_path: Path) -> None:
    seen = []

    def run():
        x = torch.randn(2, 3)
        x.add_(1)
        torch.cat([x, x])
        x[0]
        _ = x.T
        F.gelu(x)
        x @ x.t()
        seen.append(x.sum().item())

    trace = _record(tmp_path, run)
    assert [op.op_type for op in trace.ops] == [
        "torch.randn",
        "Tensor.add_",
        "torch.cat",
        "Tensor.__getitem__",
        "Tensor.T",
        "torch.nn.functional.gelu",
        "Tensor.t",
        "Tensor.matmul",
        "Tensor.sum",
        "Tensor.item",
    ]
    item = trace.ops[-1]
    assert item.outputs == () and float(dict(item.attrs)["result"]) == seen[0]


def test_metadata_reads_are_not_ops(tmp_path: Path) -> None:
    x = torch.randn(2, 3, requires_grad=True)

    def run():
        x.dim(), x.size(), x.shape, x.dtype, x.device, x.ndim, x.numel(), x.stride()
        len(x), repr(x), str(x), x.is_floating_point(), x.data_ptr(), x.requires_grad
        x.is_contiguous(), x.element_size(), x.grad, x.is_leaf, x.layout
        with torch.no_grad():
            pass
        with torch.device("cpu"):
            pass
        torch.is_tensor(x), torch.numel(x), hash(x)

    trace = _record(tmp_path, run)
    assert trace.ops == ()


def test_summaries_are_taken_at_op_time(tmp_path: Path) -> None:
    def run():
        y = torch.tensor([1.0, 2.0, 3.0, 4.0])
        z = y * 2
        z.add_(10)
        y.zero_()

    trace = _record(tmp_path, run)
    _tensor, mul, add, zero = trace.ops
    out = mul.outputs[0]
    assert (out.min, out.max, out.mean) == (2.0, 8.0, 5.0)
    assert out.std == pytest.approx(np.std([2.0, 4.0, 6.0, 8.0]))
    assert (out.shape, out.dtype, out.device) == ((4,), "float32", "cpu")
    assert add.outputs[0].min == 12.0
    assert zero.outputs[0].max == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("numel", [7, 40_000])
@pytest.mark.parametrize("offset", [0.5, 300.0])
@pytest.mark.parametrize("nonfinite", [True, False])
def test_float_summaries_match_numpy(
    dtype: torch.dtype, numel: int, offset: float, nonfinite: bool, tmp_path: Path
) -> None:
    data = torch.randn(numel, generator=torch.Generator().manual_seed(1)) * 3 + offset
    if nonfinite:
        data[1] = float("nan")
        data[2] = float("inf")
        data[3] = -float("inf")
    source = data.to(dtype)

    def run():
        source.clone()

    summary = _record(tmp_path, run).ops[0].outputs[0]
    reference = source.float().numpy()
    finite = reference[np.isfinite(reference)].astype(np.float64)
    assert summary.dtype == str(dtype).removeprefix("torch.")
    assert (summary.nan_count, summary.inf_count) == ((1, 2) if nonfinite else (0, 0))
    assert summary.min == finite.min() and summary.max == finite.max()
    assert summary.mean == pytest.approx(finite.mean(), rel=1e-5, abs=1e-6)
    assert summary.std == pytest.approx(finite.std(), rel=1e-4)


def test_integer_and_bool_summaries(tmp_path: Path) -> None:
    def run():
        a = torch.arange(10)
        _ = a > 6

    trace = _record(tmp_path, run)
    ints, bools = trace.ops[0].outputs[0], trace.ops[1].outputs[0]
    assert (ints.dtype, ints.min, ints.max, ints.mean) == ("int64", 0.0, 9.0, 4.5)
    assert ints.std == pytest.approx(np.arange(10).std())
    assert (bools.dtype, bools.min, bools.max, bools.mean) == ("bool", 0.0, 1.0, 0.3)


def test_uninitialised_memory_never_counts_as_nan(tmp_path: Path) -> None:
    def run():
        e = torch.empty(1000)
        e2 = torch.empty_like(e)
        e2[:10] = 1.0  # partly written: the rest is still garbage
        e.fill_(float("nan"))  # fully written: this NaN is real
        torch.zeros(3).new_empty((4,))

    trace = _record(tmp_path, run)
    empty, empty_like, setitem, fill, _zeros, new_empty = trace.ops
    for op in (empty, empty_like, setitem, new_empty):
        assert not op.outputs[0].initialized and op.outputs[0].min is None
        assert not op.nonfinite
    assert fill.outputs[0].initialized and fill.outputs[0].nan_count == 1000
    assert trace.first_nonfinite() == fill


def test_values_computed_from_uninitialised_memory_are_garbage_too(tmp_path: Path) -> None:
    def run():
        e = torch.empty(2000)
        e.clone()  # a copy of garbage
        e.double()
        torch.zeros_like(e).log()  # zeros_like reads only the shape: this -inf is real

    trace = _record(tmp_path, run)
    empty, clone, double, zeros_like, log = trace.ops
    for op in (empty, clone, double):
        assert not op.outputs[0].initialized and not op.nonfinite
    assert zeros_like.outputs[0].initialized
    assert trace.first_nonfinite() == log


@pytest.mark.parametrize(
    "fill",
    [
        lambda e: e.__setitem__(slice(None), float("nan")),  # e[:] = nan
        lambda e: (e.__setitem__(slice(0, 2), 1.0), e.__setitem__(slice(2, None), 2.0)),
        lambda e: [e.__setitem__(i, float(i)) for i in range(4)],  # a row-by-row fill
        lambda e: (e[:2].fill_(1.0), e[2:].zero_()),
        lambda e: e.index_copy_(0, torch.arange(4), torch.ones(4)),
        lambda e: e.scatter_(0, torch.tensor([3, 2, 1, 0]), torch.ones(4)),
        lambda e: e.masked_fill_(torch.ones(4, dtype=torch.bool), 1.0),
    ],
    ids=[
        "whole",
        "two-halves",
        "element-by-element",
        "views-filled",
        "index_copy_",
        "scatter_",
        "masked_fill_",
    ],
)
def test_memory_written_all_over_in_parts_is_initialised(tmp_path: Path, fill) -> None:
    """Partial writes that together cover ``torch.empty`` memory initialise it: NaN and Inf
    computed from it afterwards are real (they were hidden as garbage)."""

    def run():
        e = torch.empty(4)
        fill(e)
        e.log_().sub_(math.inf)  # -inf or NaN everywhere: real

    trace = _record(tmp_path, run)
    sub = next(op for op in trace.ops if op.op_type == "Tensor.sub_")
    assert sub.outputs[0].initialized
    first = trace.first_nonfinite()
    assert first is not None and first.seq <= sub.seq
    assert all(op.outputs[0].initialized for op in trace.ops[first.seq :])


class Normalizer(nn.Module):
    def forward(self, x):
        centred = x - x.mean(dim=-1, keepdim=True)
        spread = centred.std(dim=-1, keepdim=True)
        return centred / spread  # @divide


def test_first_nonfinite_finds_the_users_line(tmp_path: Path) -> None:
    model = Normalizer()
    x = torch.randn(4, 8)
    x[2] = 3.0  # a constant row: its spread is 0 and 0/0 is NaN

    trace = _record(tmp_path, lambda: model(x).sum())
    bad = trace.first_nonfinite()
    assert bad is not None
    assert bad.op_type == "Tensor.div"
    assert (bad.file, bad.line) == (str(HERE), _line("divide"))
    assert bad.outputs[0].nan_count == 8
    assert trace.ops[-1].op_type == "Tensor.sum" and trace.ops[-1].nonfinite


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.int64])
def test_values_round_trip(dtype: torch.dtype, tmp_path: Path) -> None:
    kept = {}

    def run():
        x = (torch.randn(3, 5) * 4).to(dtype)
        y = x.t()  # non-contiguous
        kept["x"], kept["y"] = x.clone(), y.clone()
        x.mul_(2)  # must not change the stored value of x

    trace = _record(tmp_path, run, values=True)
    to, transpose = trace.ops[2], trace.ops[3]
    assert (to.op_type, transpose.op_type) == ("Tensor.to", "Tensor.t")
    assert trace.value(to.seq, 0).shape == (3, 5)
    expected_x = kept["x"].float() if dtype == torch.bfloat16 else kept["x"]
    np.testing.assert_array_equal(trace.value(to.seq, 0), expected_x.numpy())
    expected_y = kept["y"].float() if dtype == torch.bfloat16 else kept["y"]
    np.testing.assert_array_equal(trace.value(transpose.seq, 0), expected_y.numpy())
    assert to.outputs[0].dtype == str(dtype).removeprefix("torch.")


def test_value_filter_keeps_only_matching_ops(tmp_path: Path) -> None:
    model = Model()
    x = torch.randn(3, 4)
    trace = _record(
        tmp_path,
        lambda: model(x),
        values=tracing.ValueFilter(modules=["encoder.norm"], op_types=["*softmax"]),
    )
    kept = [op.op_type for op in trace.ops if op.outputs and op.outputs[0].has_value]
    assert kept == ["torch.nn.functional.layer_norm", "torch.nn.functional.softmax"]
    expected = model(x).detach().numpy()
    np.testing.assert_array_equal(trace.value(trace.ops[-1].seq, 0), expected)
    with pytest.raises(LookupError):
        trace.value(0, 0)


def test_an_op_that_raises_is_recorded_and_the_same_exception_propagates(
    tmp_path: Path,
) -> None:
    before = installed_state()
    path = tmp_path / "raised.opscope"
    raised = []
    with pytest.raises(RuntimeError) as info:
        with tracing.record(path):
            a = torch.ones(2, 3)
            b = a * 2
            try:
                a @ b  # shapes do not match
            except RuntimeError as exc:
                raised.append(exc)
                raise
    assert info.value is raised[0]
    assert installed_state() == before
    frames = traceback.extract_tb(raised[0].__traceback__)
    assert frames[-1].name == "test_an_op_that_raises_is_recorded_and_the_same_exception_propagates"
    assert not [f for f in frames if "tracing" in Path(f.filename).parts]  # as unrecorded
    trace = tracing.load(path)
    assert trace.meta.complete and "RuntimeError" in trace.meta.error
    assert [op.op_type for op in trace.ops] == ["torch.ones", "Tensor.mul", "Tensor.matmul"]
    failed = trace.ops[-1]
    assert failed.error.startswith("RuntimeError") and failed.outputs == ()
    assert [ref.source for ref in failed.inputs] == ["op:0", "op:1"]


def test_a_module_that_raises_leaves_no_hooks_and_closed_calls(tmp_path: Path) -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x.view(5))

    before = installed_state()
    path = tmp_path / "broken.opscope"
    with pytest.raises(RuntimeError), tracing.record(path):
        nn.Sequential(Broken())(torch.ones(2, 3))
    assert installed_state() == before
    trace = tracing.load(path)
    trace.lint()
    assert all(call.exit_order >= 0 for call in trace.module_calls)
    assert trace.ops[-1].op_type == "Tensor.view" and trace.ops[-1].error


def test_nothing_is_left_installed_after_a_block(tmp_path: Path) -> None:
    before = installed_state()
    with tracing.record(tmp_path / "a.opscope"):
        Model()(torch.randn(1, 4))
    assert installed_state() == before
    x = torch.randn(3)
    with torch.overrides.BaseTorchFunctionMode():
        with tracing.record(tmp_path / "b.opscope"):
            x + 1
        assert torch._C._len_torch_function_stack() == 1
    assert installed_state() == before


def test_backward_inside_the_block_is_one_op(tmp_path: Path) -> None:
    model = Model()
    x = torch.randn(3, 4)

    def run():
        loss = model(x).pow(2).sum()
        loss.backward()

    trace = _record(tmp_path, run)
    assert trace.ops[-1].op_type == "Tensor.backward"
    assert trace.ops[-1].inputs[0].source == trace.ops[-2].node_id
    assert model.head.weight.grad is not None


def test_ops_on_other_threads_are_not_recorded(tmp_path: Path) -> None:
    model = nn.Linear(3, 3)
    results = []

    def worker():
        results.append(model(torch.ones(2, 3)).sum())

    def run():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        model(torch.ones(1, 3))

    trace = _record(tmp_path, run)
    assert [op.op_type for op in trace.ops] == ["torch.ones", "torch.nn.functional.linear"]
    assert len(trace.module_calls) == 1 and results and math.isfinite(results[0].item())


def test_recording_starts_when_torch_is_already_imported_inside_an_empty_block(
    tmp_path: Path,
) -> None:
    trace = _record(tmp_path, lambda: None)
    assert trace.ops == () and trace.meta.version("torch") == torch.__version__.split("+")[0]


def test_whole_model_trace_has_module_tree_and_call_stack(tmp_path: Path) -> None:
    model = Model()
    x = torch.randn(2, 4)
    trace = _record(tmp_path, lambda: _call(model, x))  # @call
    norm = next(op for op in trace.ops if op.op_type.endswith("layer_norm"))
    assert [call.path for call in trace.call_chain(norm)] == ["", "encoder", "encoder.norm"]
    assert [call.type_name for call in trace.call_chain(norm)] == [
        "Model",
        "Encoder",
        "LayerNorm",
    ]


@pytest.mark.parametrize("numel", [5, 40_000])
def test_summaries_of_huge_float32_values_do_not_overflow(numel: int, tmp_path: Path) -> None:
    source = torch.full((numel,), 3e38)
    source[0] = 1e38

    def run():
        source.clone()

    summary = _record(tmp_path, run).ops[0].outputs[0]
    reference = source.double().numpy()
    assert summary.nan_count == summary.inf_count == 0
    assert summary.mean == pytest.approx(reference.mean(), rel=1e-6)
    assert summary.std == pytest.approx(reference.std(), rel=1e-3)


def _warning_sites(fn) -> list[tuple[str, int, str]]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.filename, w.lineno, str(w.message)[:40]) for w in caught]


def test_warnings_from_ops_point_at_the_users_line(tmp_path: Path) -> None:
    x = torch.randn(3)

    def program():
        torch.tensor(x)  # @copy_warning
        F.softmax(x)  # @softmax_warning

    def traced():
        with tracing.record(tmp_path / "warn.opscope"):
            program()

    expected = _warning_sites(program)
    assert [(file, line) for file, line, _ in expected] == [
        (str(HERE), _line("copy_warning")),
        (str(HERE), _line("softmax_warning")),
    ]
    assert _warning_sites(traced) == expected


def test_recording_keeps_no_reference_to_the_programs_objects(tmp_path: Path) -> None:
    import gc
    import weakref

    model = Model()
    x = torch.randn(2, 4)
    with tracing.record(tmp_path / "refs.opscope"):
        out = model(x)
    refs = [weakref.ref(obj) for obj in (model, x, out, model.encoder.proj.weight)]
    del model, x, out
    gc.collect()
    assert [ref() for ref in refs] == [None] * len(refs)


def test_reshaped_views_reuse_summaries_only_while_the_data_is_unchanged(tmp_path: Path) -> None:
    def run():
        x = torch.randn(64, 128)
        x.t()
        x.data.mul_(2)  # changes x behind its version counter
        x.view(-1)
        x.mul_(0.5)
        x.reshape(128, 64)

    trace = _record(tmp_path, run)
    randn, transpose, _mul2, view, _half, reshape = trace.ops
    source = randn.outputs[0]
    assert transpose.outputs[0].shape == (128, 64)
    assert (transpose.outputs[0].min, transpose.outputs[0].max) == (source.min, source.max)
    assert transpose.outputs[0].std == source.std
    assert view.outputs[0].max == pytest.approx(2 * source.max)
    assert reshape.outputs[0].max == pytest.approx(source.max)
    assert reshape.outputs[0].shape == (128, 64)


def test_module_calls_are_seen_without_global_hooks(tmp_path: Path) -> None:
    """The recording wraps ``nn.Module.__call__`` (global hooks would slow every module call
    down): module calls from other threads pass through, and it is undone afterwards."""
    original = nn.Module.__call__
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    x = torch.ones(1, 3)
    seen_in_thread = []
    path = tmp_path / "calls.opscope"
    with tracing.record(path):
        assert nn.Module.__call__ is not original
        assert not nn.modules.module._has_any_global_hook()
        kept = nn.Module.__call__  # as a library that remembers __call__ at import would
        model(x)
        worker = threading.Thread(target=lambda: seen_in_thread.append(model(x)))
        worker.start()
        worker.join()
    assert nn.Module.__call__ is original
    assert torch.equal(seen_in_thread[0], model(x))
    assert torch.equal(kept(model, x), model(x))  # passes through, records nothing
    held = [cell.cell_contents for cell in kept.__closure__]
    assert [None] in held and not any(hasattr(value, "recording") for value in held)
    trace = tracing.load(path)
    assert [(c.path, c.call_index) for c in trace.module_calls] == [("", 1), ("0", 1), ("1", 1)]
    assert len(trace.ops) == 2


def test_dynamo_imported_during_a_recording_keeps_the_real_module_call(tmp_path: Path) -> None:
    """``torch.compile`` first used inside a record block: dynamo remembers
    ``nn.Module.__call__`` when imported, and must not keep the recording's wrapper; no
    warning about global hooks either."""
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys, warnings
        import torch
        import tracing
        assert "torch._dynamo" not in sys.modules
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            with tracing.record({str(tmp_path / "compiled.opscope")!r}):
                model = torch.compile(torch.nn.Linear(2, 2), backend="eager")
                model(torch.ones(1, 2))
        import torch._dynamo.utils as utils
        assert utils.unpatched_nn_module_call is torch.nn.Module.__call__
        assert not [w for w in caught if "global hooks" in str(w.message)], caught
        print("ok")
        """
    )
    assert_prints_ok(script, timeout=600)


class _Recursive(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor, depth: int) -> torch.Tensor:
        return self(x, depth - 1) if depth else self.lin(x)


def test_recording_leaves_recursive_modules_their_depth(tmp_path: Path) -> None:
    """A module call costs as many Python frames recorded as unrecorded: a recursive model
    that fits the recursion limit untraced still fits (give or take the few frames the
    recorder needs at the deepest op)."""

    def deepest(record: bool) -> int:
        low, high = 0, sys.getrecursionlimit()  # low works, high fails
        while high - low > 1:
            depth = (low + high) // 2
            try:
                if record:
                    with tracing.record(tmp_path / "deep.opscope"):
                        _Recursive()(torch.zeros(2), depth)
                else:
                    _Recursive()(torch.zeros(2), depth)
                low = depth
            except RecursionError:
                high = depth
        return low

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tracing.RecordingWarning)
        untraced, traced = deepest(False), deepest(True)
    assert untraced > 100
    assert traced >= untraced - 3
