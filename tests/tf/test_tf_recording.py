"""What a TensorFlow recording holds: ops, lines, Keras modules, variables, graphs, NaNs."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")

import numpy as np
import tensorflow as tf

import tracing
from tests.tf import programs
from tests.tf.summary_checks import assert_same_statistics

LINE = programs.line_of
FILE = programs.FILE


@pytest.fixture(scope="module")
def batch():
    return programs.inputs()


@pytest.fixture(scope="module")
def eager(tmp_path_factory, batch):
    """A values=True recording of a subclassed model and eager code with a NaN."""
    model = programs.subclassed_model()
    path = tmp_path_factory.mktemp("tf") / "eager.opscope"
    with tracing.record(path, values=True):
        output = model(batch)
        total = programs.eager_with_nan(batch)
    return tracing.load(path), output.numpy(), total.numpy()


@pytest.fixture(scope="module")
def graph(tmp_path_factory, batch):
    """Default (graph) mode: a loop/cond function traced in the block, a Keras model twice."""
    loop = tf.function(programs.loop_and_cond.python_function, jit_compile=False)
    model = programs.functional_model()
    forward = programs.keras_in_function(model)
    path = tmp_path_factory.mktemp("tf") / "graph.opscope"
    with tracing.record(path):
        result = loop(batch, tf.constant(3))
        forward(batch)
        forward(batch)
    return tracing.load(path), result.numpy()


@pytest.fixture(scope="module")
def debug(tmp_path_factory, batch):
    """Debug mode: the same loop/cond function runs eagerly, op by op."""
    loop = tf.function(programs.loop_and_cond.python_function, jit_compile=False)
    path = tmp_path_factory.mktemp("tf") / "debug.opscope"
    with tracing.record(path, tf_function_mode="debug", values=True):
        result = loop(batch, tf.constant(3))
    return tracing.load(path), result.numpy()


def _ops(trace, op_type, module_path=None):
    return [
        op
        for op in trace.ops
        if op.op_type == op_type and (module_path is None or op.module_path == module_path)
    ]


# -- eager ---


def test_eager_ops_use_tensorflow_names_and_framework(eager):
    trace, _, _ = eager
    assert trace.framework == "tensorflow"
    types = trace.op_type_counts()
    assert {"MatMul", "BiasAdd", "ReadVariableOp", "Relu", "Sin", "Log"} <= set(types)
    assert all(isinstance(op.op_type, str) and op.framework == "tensorflow" for op in trace.ops)


def test_eager_ops_point_at_the_users_lines(eager):
    trace, _, _ = eager
    assert {(op.file, op.line) for op in _ops(trace, "MatMul", "encoder/dense_1")} == {
        (FILE, LINE("encoder_dense_1"))
    }
    assert [(op.file, op.line) for op in _ops(trace, "Relu")] == [(FILE, LINE("encoder_relu"))]
    assert [op.line for op in _ops(trace, "Sin")] == [LINE("shared_second")]
    assert [op.line for op in _ops(trace, "Log")] == [LINE("nan_op")]
    log = _ops(trace, "Log")[0]
    assert log.func == "eager_with_nan" and trace.source(FILE) is not None
    assert trace.stack(log)[-1].line == LINE("nan_op")


def test_keras_layers_are_modules_with_enter_and_exit_events(eager):
    trace, _, _ = eager
    calls = {(c.path, c.call_index): c for c in trace.module_calls}
    assert set(calls) == {
        ("", 1),
        ("encoder", 1),
        ("encoder/dense_1", 1),
        ("encoder/dense_2", 1),
        ("shared", 1),
        ("shared", 2),
        ("head_sub", 1),
    }
    root = calls[("", 1)]
    assert root.type_name == "SubclassedNet" and root.depth == 0
    dense_1 = calls[("encoder/dense_1", 1)]
    assert dense_1.type_name == "Dense" and dense_1.parent_id == calls[("encoder", 1)].call_id
    assert all(c.exit_order >= 0 for c in trace.module_calls)
    kinds = [(e.kind, e.ref) for e in trace.events if e.kind != "op"]
    assert kinds.count(("enter", dense_1.call_id)) == 1
    assert kinds.count(("exit", dense_1.call_id)) == 1
    matmul = _ops(trace, "MatMul", "encoder/dense_1")[0]
    assert [c.path for c in trace.call_chain(matmul)] == ["", "encoder", "encoder/dense_1"]
    second = _ops(trace, "MatMul", "shared")[1]
    assert second.module_call == 2
    trace.lint()


def test_variables_are_named_source_nodes(eager):
    trace, _, _ = eager
    sources = {node.node_id: node for node in trace.source_nodes}
    kernel = sources["src:variable:subclassed_net/encoder/dense_1/kernel"]
    assert (kernel.kind, kernel.shape, kernel.dtype) == ("variable", (16, 12), "float32")
    reads = [
        op
        for op in _ops(trace, "ReadVariableOp")
        if op.inputs[0].source == "src:variable:subclassed_net/shared/kernel"
    ]
    assert len(reads) == 2  # the shared layer reads its kernel once per call
    matmul = _ops(trace, "MatMul", "encoder/dense_1")[0]
    assert [ref.source for ref in matmul.inputs] == ["src:input:0", f"op:{matmul.seq - 1}"]
    graph = trace.graph
    assert graph.has_edge(kernel.node_id, f"op:{matmul.seq - 1}")
    assert graph.nodes[kernel.node_id]["kind"] == "variable"


def test_functional_layer_variables_are_named_by_keras_path(tmp_path, batch):
    model = programs.functional_model()
    with tracing.record(tmp_path / "f.opscope"):
        model(batch)
    trace = tracing.load(tmp_path / "f.opscope")
    names = {node.name for node in trace.source_nodes if node.kind == "variable"}
    assert {"conv_a/kernel", "conv_a/bias", "head/kernel", "norm/gamma"} <= names
    assert {op.module_path for op in _ops(trace, "MatMul")} == {"conv_a", "conv_b", "head"}


def test_variables_created_and_written_in_the_block_are_named_and_ordered(tmp_path):
    with tracing.record(tmp_path / "v.opscope"):
        model = programs.SubclassedNet()
        model(programs.inputs())
        plain = tf.Variable(2.0, name="plain")
        plain.assign_add(1.0)
        tripled = plain * 3.0
    assert float(tripled) == 9.0
    trace = tracing.load(tmp_path / "v.opscope")
    names = {node.name for node in trace.source_nodes if node.kind == "variable"}
    assert {"plain", "subclassed_net/encoder/dense_1/kernel", "subclassed_net/head_sub/bias"} <= (
        names
    )
    add = _ops(trace, "AssignAddVariableOp")[-1]
    assert add.mutates == (0,) and add.inputs[0].source.startswith("op:")  # after the init write
    read = next(op for op in trace.ops[add.seq :] if op.op_type == "ReadVariableOp")
    assert (read.inputs[0].source, read.inputs[0].kind) == (add.node_id, "write")


def test_a_function_writing_one_of_its_captured_variables_loads(tmp_path):
    """A train-step shape: the function reads one captured variable and writes another, so
    the call op's written slot skips the read one (the trace was refused as damaged)."""
    scale, total = tf.Variable(1.0), tf.Variable(2.0)

    @tf.function
    def step(x):
        total.assign_add(x * scale)
        return total.read_value()

    with tracing.record(tmp_path / "s.opscope"):
        step(tf.constant(3.0))
    trace = tracing.load(tmp_path / "s.opscope")
    (call,) = [op for op in trace.ops if op.kind == "call"]
    assert len(call.mutates) == 1
    written = next(ref for ref in call.inputs if ref.slot == call.mutates[0])
    assert written.source.startswith("src:variable:")


def test_writes_in_nested_functions_and_loops_and_reads_of_eager_writes_are_linked(tmp_path):
    counter = tf.Variable(1.0)
    weights = tf.Variable([1.0, 1.0])

    @tf.function
    def inner():
        counter.assign_add(1.0)

    @tf.function
    def outer():  # writes the counter only through a nested call
        inner()

    @tf.function
    def loop(n):  # ... and through a loop body
        for _ in tf.range(n):
            counter.assign_add(1.0)
        return counter.read_value()

    @tf.function
    def scaled(x):  # reads weights written by eager code before the call
        return x * weights

    with tracing.record(tmp_path / "w.opscope"):
        outer()
        after_outer = counter.read_value()
        loop(tf.constant(3))
        after_loop = counter.read_value()
        weights.assign(tf.math.log(tf.constant([-1.0, 1.0])))
        scaled(tf.ones(2))
    assert float(after_outer) == 2.0 and float(after_loop) == 5.0
    trace = tracing.load(tmp_path / "w.opscope")
    calls = {op.op_type: op for op in trace.ops if op.kind == "call"}
    assert calls["outer"].mutates and calls["loop"].mutates
    reads = [op for op in trace.ops if op.op_type == "ReadVariableOp"]
    assert [ref.source for op in reads for ref in op.inputs] == [
        calls["outer"].node_id,
        calls["loop"].node_id,
    ]
    assign = _ops(trace, "AssignVariableOp")[-1]
    assert assign.node_id in {ref.source for ref in calls["scaled"].inputs}


def test_building_a_functional_model_in_the_block_is_not_a_layer_call(tmp_path):
    """Symbolic inputs passed after a Python setting (``training=False``) or nested are a
    functional build, not a call: the real call is the layer's first."""
    keras = pytest.importorskip("keras")
    with tracing.record(tmp_path / "k.opscope"):
        inputs = keras.Input((3,))
        hidden = keras.layers.Dense(3, name="dense_kw")(training=False, inputs=inputs)
        keras.Model(inputs, hidden)(np.ones((1, 3), "float32"))
    trace = tracing.load(tmp_path / "k.opscope")
    assert [(call.path, call.call_index) for call in trace.module_calls] == [
        ("", 1),
        ("dense_kw", 1),
    ]
    assert dict(trace.meta.versions)["keras"] == keras.__version__


def test_first_nonfinite_is_the_eager_op_at_the_users_line(eager):
    trace, _, total = eager
    assert np.isnan(total)
    first = trace.first_nonfinite()
    assert first is not None and first.op_type == "Log"
    assert (first.file, first.line) == (FILE, LINE("nan_op"))
    assert first.outputs[0].nan_count > 0
    assert all(not op.nonfinite for op in trace.ops[: first.seq])


def test_values_round_trip(eager, batch):
    trace, output, _ = eager
    last_model_op = _ops(trace, "BiasAdd", "head_sub")[-1]
    assert np.array_equal(trace.value(last_model_op.seq), output)
    shift = _ops(trace, "Sub")[-1]
    assert np.array_equal(trace.value(shift.seq), (batch * 2.0 - 100.0).numpy())
    summary = shift.outputs[0]
    value = trace.value(shift.seq)
    assert summary.min == float(value.min()) and summary.max == float(value.max())
    assert summary.mean == pytest.approx(float(value.mean(dtype=np.float64)), rel=1e-9)


def test_value_filter_keeps_chosen_ops_and_the_first_nan(tmp_path, batch):
    model = programs.functional_model()
    path = tmp_path / "filtered.opscope"
    with tracing.record(path, values=tracing.ValueFilter(op_types=["MatMul"])):
        model(batch)
        programs.eager_with_nan(batch)
    trace = tracing.load(path)
    kept = {op.op_type for op in trace.ops if any(o.has_value for o in op.outputs)}
    assert kept == {"MatMul", "Log"}
    with pytest.raises(LookupError):
        trace.value(_ops(trace, "BiasAdd")[0].seq)


def test_value_budget_keeps_the_first_nan_and_its_inputs(tmp_path, batch):
    model = programs.functional_model()
    path = tmp_path / "budget.opscope"
    with tracing.record(path, values=True, max_value_bytes=2000):
        for _ in range(3):
            model(batch)
        programs.eager_with_nan(batch)
        for _ in range(3):
            model(batch)
    trace = tracing.load(path)
    first = trace.first_nonfinite()
    assert first is not None and first.op_type == "Log"
    assert np.isnan(trace.value(first.seq)).all()
    producer = int(first.inputs[0].source.removeprefix("op:"))
    assert np.array_equal(trace.value(producer), (batch * 2.0 - 100.0).numpy())
    stored = sum(out.has_value for op in trace.ops for out in op.outputs)
    assert stored < len(trace.ops) // 4  # the budget evicted most values


def test_summaries_match_numpy(tmp_path):
    values = np.array([[1.5, -2.0, np.inf], [np.nan, 0.25, 3.0]], dtype=np.float32)
    with tracing.record(tmp_path / "s.opscope"):
        tf.identity(tf.constant(values))
        tf.cast(tf.constant([[1, 2], [3, 4]]), tf.bfloat16) * 2
    trace = tracing.load(tmp_path / "s.opscope")
    summary = trace.ops[0].outputs[0]
    assert (summary.nan_count, summary.inf_count) == (1, 1)
    assert (summary.min, summary.max) == (-2.0, 3.0)
    finite = np.array([1.5, -2.0, 0.25, 3.0])
    assert summary.mean == pytest.approx(finite.mean()) and summary.std == pytest.approx(
        finite.std()
    )
    doubled = trace.ops[-1].outputs[0]
    assert (doubled.dtype, doubled.min, doubled.max) == ("bfloat16", 2.0, 8.0)


@pytest.mark.parametrize(
    "array",
    [
        np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32),
        np.random.default_rng(1).integers(-5, 5, (3, 7)),
        np.array([True, False, True]),
        np.array(3.5, np.float32),
        np.array([1e8 + 1, 1e8 + 2, 1e8 + 3], np.float32),
        np.arange(5, dtype=np.uint8),
        np.array([np.nan, 1.0, -np.inf, 2.0], np.float32),
        np.zeros((0, 3), np.float32),
        np.random.default_rng(2).standard_normal(3_000_001).astype(np.float32) + 5.0,
        1e4 + 1e-3 * np.random.default_rng(4).standard_normal(1000),
    ],
    ids=[
        "float32",
        "int64",
        "bool",
        "scalar",
        "offset",
        "uint8",
        "nonfinite",
        "empty",
        "large",
        "near-constant",
    ],
)
def test_fast_summary_matches_the_reference_summary(array):
    from tracing.summaries import summarize_array
    from tracing.tf_backend.tensors import fast_summary

    fast, reference = fast_summary(array, array.dtype.name), summarize_array(array)
    assert (fast.shape, fast.dtype) == (reference.shape, reference.dtype)
    assert_same_statistics(fast, reference)


# -- tf.function, graph mode ---


def test_function_call_is_one_timeline_op_linked_to_its_graph(graph, batch):
    trace, result = graph
    calls = [op for op in trace.ops if op.kind == "call"]
    assert [op.op_type for op in calls] == ["loop_and_cond", "forward", "forward"]
    functions = {fn.graph_id: fn for fn in trace.functions}
    loop_call = calls[0]
    assert loop_call.graph_id in functions and functions[loop_call.graph_id].parent_id == ""
    assert loop_call.outputs[0].shape == result.shape
    assert loop_call.outputs[0].mean == pytest.approx(float(result.mean(dtype=np.float64)))
    assert loop_call.inputs[0].source == "src:input:0"  # the batch made before the block
    assert calls[1].graph_id == calls[2].graph_id != loop_call.graph_id
    assert len(functions) == len(trace.functions)  # each function recorded once
    assert loop_call.line == 0 or loop_call.file.endswith("test_tf_recording.py")


def test_function_graph_nodes_carry_the_users_lines_inside_loop_body(graph):
    trace, _ = graph
    functions = {fn.graph_id: fn for fn in trace.functions}
    loop_id = next(op.graph_id for op in trace.ops if op.op_type == "loop_and_cond")
    nodes = [n for n in trace.graph_nodes if n.op_type == "Tanh" and n.module_path != "conv_b"]
    assert len(nodes) == 1
    tanh = nodes[0]
    assert (tanh.file, tanh.line, tanh.func) == (FILE, LINE("loop_body"), "loop_and_cond")
    assert functions[tanh.graph_id].parent_id == loop_id  # the while body, nested in f
    while_op = next(n for n in trace.graph_nodes if n.graph_id == loop_id and "While" in n.op_type)
    assert dict(while_op.attrs)["body"] == tanh.graph_id
    then_add = [
        n for n in trace.graph_nodes if n.op_type == "AddV2" and n.line == LINE("cond_true")
    ]
    else_sub = [n for n in trace.graph_nodes if n.op_type == "Sub" and n.line == LINE("cond_false")]
    assert len(then_add) == 1 and len(else_sub) == 1
    assert then_add[0].graph_id != else_sub[0].graph_id != loop_id
    assert tanh.outputs[0].shape == (4, 16) and tanh.outputs[0].dtype == "float32"
    g = trace.graph
    assert g.nodes[tanh.node_id]["line"] == LINE("loop_body") and "seq" not in g.nodes[tanh.node_id]
    assert any(g.predecessors(tanh.node_id))


def test_keras_layers_inside_a_function_are_the_graph_nodes_modules(graph):
    trace, _ = graph
    forward_id = next(op.graph_id for op in trace.ops if op.op_type == "forward")
    matmuls = [n for n in trace.graph_nodes if n.graph_id == forward_id and n.op_type == "MatMul"]
    assert sorted(n.module_path for n in matmuls) == ["conv_a", "conv_b", "head"]
    assert {n.line for n in matmuls} == {LINE("keras_in_function")}
    variables = {n.node_id for n in trace.source_nodes if n.kind == "variable"}
    assert "src:variable:conv_a/kernel" in variables
    assert any(
        e.src == "src:variable:conv_a/kernel" and e.dst.startswith(forward_id)
        for e in trace.graph_edges
    )
    assert not trace.module_calls  # graph mode: layers ran inside the graph, not eagerly


# -- tf.function, debug mode ---


def test_debug_mode_records_every_loop_iteration_at_its_line(debug, graph):
    trace, result = debug
    assert trace.meta.option("tf_function_mode") == "debug"
    assert not tf.config.functions_run_eagerly()
    tanh = _ops(trace, "Tanh")
    assert len(tanh) == 3 and {(op.file, op.line) for op in tanh} == {(FILE, LINE("loop_body"))}
    assert [op.line for op in _ops(trace, "AddV2") if op.outputs[0].shape] == [LINE("cond_true")]
    assert not any(op.kind == "call" for op in trace.ops)
    assert np.array_equal(trace.value(trace.ops[-1].seq), result)
    assert np.allclose(result, graph[1], rtol=1e-6)
    assert tracing.load(graph[0].path).meta.option("tf_function_mode") == "graph"


@pytest.mark.filterwarnings("ignore:Even though the .*run_functions_eagerly:UserWarning")
def test_keras_predict_in_debug_mode_steps_through_every_batch(tmp_path):
    model = programs.functional_model()
    features = np.random.default_rng(3).standard_normal((8, 16)).astype(np.float32)
    expected = model.predict(features, batch_size=4, verbose=0)
    with tracing.record(tmp_path / "p.opscope", tf_function_mode="debug"):
        got = model.predict(features, batch_size=4, verbose=0)
    assert np.allclose(got, expected, rtol=1e-6, atol=1e-7)
    trace = tracing.load(tmp_path / "p.opscope")
    assert not any(op.kind == "call" for op in trace.ops)
    assert [c.call_index for c in trace.module_calls if c.path == "conv_a"] == [1, 2]
    assert {op.module_path for op in _ops(trace, "MatMul")} == {"conv_a", "conv_b", "head"}


# -- threads and mixed programs ---


def test_ops_from_other_threads_are_not_recorded(tmp_path):
    import threading

    results = []
    with tracing.record(tmp_path / "t.opscope"):
        worker = threading.Thread(target=lambda: results.append(tf.square(tf.ones(3)).numpy()))
        worker.start()
        worker.join()
        tf.exp(tf.ones(2))
    trace = tracing.load(tmp_path / "t.opscope")
    assert np.array_equal(results[0], np.ones(3))
    assert "Exp" in trace.op_type_counts() and "Square" not in trace.op_type_counts()
    assert {op.thread_id for op in trace.ops} == {threading.get_ident()}


def test_torch_and_tensorflow_ops_share_one_mixed_timeline(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("tracing.torch_backend")
    with tracing.record(tmp_path / "mixed.opscope"):
        a = torch.ones(3) * 2
        b = tf.constant(a.numpy()) + 1.0
    trace = tracing.load(tmp_path / "mixed.opscope")
    assert trace.framework == "mixed"
    assert {op.framework for op in trace.ops} == {"torch", "tensorflow"}
    assert np.array_equal(b.numpy(), np.full(3, 3.0, np.float32))
