"""Small hand-built traces for graph tests, written with the backend-neutral ``Recorder``."""

from __future__ import annotations

from pathlib import Path

from tracing.model import TensorSummary
from tracing.recorder import Recorder

LOC = ("model.py", 3, 0, 10, "forward", -1)


def _out(shape=(2, 4), nan=0) -> list[TensorSummary]:
    return [TensorSummary(tuple(shape), "float32", nan_count=nan)]


def _in(slot: int, source: str, shape=(2, 4), name: str = "input"):
    return (slot, name, source, 0, tuple(shape), "float32", "data")


def tiny_trace(path: Path) -> Path:
    """Three ops at top level: ``x → relu → add(…, x) → sum``."""
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x", (2, 4), "float32")
        a = rec.add_op("torch.relu", "torch", [_in(0, "src:input:0")], _out(), location=LOC)
        b = rec.add_op(
            "Tensor.__add__",
            "torch",
            [_in(0, f"op:{a}"), _in(1, "src:input:0", name="other")],
            _out(),
            location=LOC,
        )
        rec.add_op("Tensor.sum", "torch", [_in(0, f"op:{b}")], _out(()), location=LOC)
    return path


def keras_trace(path: Path) -> Path:
    """Keras-style layers with ``/`` paths: ``model/dense`` (2 ops) and ``model/dense_1``."""
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x", (2, 4), "float32")
        rec.add_source("src:variable:model/dense/kernel", "variable", "model/dense/kernel", (4, 4))
        model = rec.enter_module("model", "Sequential", "tensorflow")
        dense = rec.enter_module("model/dense", "Dense", "tensorflow")
        m = rec.add_op(
            "MatMul",
            "tensorflow",
            [_in(0, "src:input:0"), _in(1, "src:variable:model/dense/kernel", (4, 4), "b")],
            _out(),
            location=LOC,
        )
        r = rec.add_op("Relu", "tensorflow", [_in(0, f"op:{m}")], _out(), location=LOC)
        rec.exit_module(dense)
        dense1 = rec.enter_module("model/dense_1", "Dense", "tensorflow")
        s = rec.add_op("MatMul", "tensorflow", [_in(0, f"op:{r}")], _out(), location=LOC)
        rec.exit_module(dense1)
        rec.exit_module(model)
        rec.add_op("Sum", "tensorflow", [_in(0, f"op:{s}")], _out(()), location=LOC)
    return path


def repeated_call_trace(path: Path, calls: int = 4) -> Path:
    """One ``cell`` module (two ops) called ``calls`` times in a chain, like an RNN."""
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x", (2, 4), "float32")
        prev = "src:input:0"
        for _ in range(calls):
            cell = rec.enter_module("cell", "RNNCell", "torch")
            a = rec.add_op(
                "torch.nn.functional.linear", "torch", [_in(0, prev)], _out(), location=LOC
            )
            b = rec.add_op("torch.tanh", "torch", [_in(0, f"op:{a}")], _out(), location=LOC)
            rec.exit_module(cell)
            prev = f"op:{b}"
        rec.add_op("Tensor.sum", "torch", [_in(0, prev)], _out(()), location=LOC)
    return path


def function_trace(path: Path, calls: int = 2) -> Path:
    """Eager ops around ``calls`` calls of one ``tf.function`` whose graph has name scopes."""
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x", (2, 4), "float32")
        rec.add_function("fn:step", "train_step", file="train.py", line=10)
        rec.add_function("fn:body", "while_body", parent_id="fn:step")
        nodes = [
            ("g:x", "Placeholder", "x", ""),
            ("g:mm", "MatMul", "dense/MatMul", "dense"),
            ("g:relu", "Relu", "dense/Relu", "dense"),
            ("g:out", "Identity", "Identity", ""),
        ]
        for node_id, op_type, name, scope in nodes:
            rec.add_graph_node(node_id, "fn:step", op_type, name, module_path=scope, outputs=_out())
        rec.add_graph_node("g:b1", "fn:body", "AddV2", "add", outputs=_out())
        rec.add_graph_edge("g:x", "g:mm", 0, shape=(2, 4), dtype="float32")
        rec.add_graph_edge("g:mm", "g:relu", 0, shape=(2, 4), dtype="float32")
        rec.add_graph_edge("g:relu", "g:out", 0, shape=(2, 4), dtype="float32")
        rec.add_graph_edge("g:relu", "g:b1", 0, shape=(2, 4), dtype="float32")
        prev = "src:input:0"
        for _ in range(calls):
            seq = rec.add_op(
                "train_step",
                "tensorflow",
                [_in(0, prev)],
                _out(),
                kind="call",
                graph_id="fn:step",
                location=LOC,
            )
            prev = f"op:{seq}"
        rec.add_op("Sum", "tensorflow", [_in(0, prev)], _out(()), location=LOC)
    return path
